/**
 * @module http-agents/leases — the token of each task sent to an HTTP push agent: unguessable, bound to
 * the task id (which carries the attempt), with a deadline that heartbeats extend. A token is stale once
 * its attempt has an outcome (a result, the deadline, a cancel) or the server restarted.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { ActorflowError } from '../common/errors.ts';
import { failure } from './answer.ts';
import { HttpAgentErrorCode, type PushOutcome } from './types.ts';

export interface Lease {
  readonly taskId: string;
  /** 32 random bytes, base64url: what the agent sends back in `x-actorflow-task-token`. */
  readonly token: string;
  /** Epoch ms by which an answer, a result or a heartbeat must come. */
  readonly deadline: number;
  /** Settles with the posted result, or a retryable `http_agent_timeout` at the deadline. */
  readonly settled: Promise<PushOutcome>;
  /** Aborted at the deadline (the POST still waiting for its answer gives up then). */
  readonly expired: AbortSignal;
}

interface Entry extends Lease {
  readonly tokenBytes: Buffer;
  readonly timeoutMs: number;
  deadline: number;
  timer: NodeJS.Timeout;
  readonly resolve: (o: PushOutcome) => void;
  readonly expiry: AbortController;
  /** Asks the bus whether the outcome reached the engine durably (only for a posted result: before the attempt returns). */
  readonly durable: () => Promise<boolean>;
}

export class TaskLeases {
  private readonly open = new Map<string, Entry>();

  /** A new lease of `timeoutMs` for the task; `durable` asks the bus for its word on the report of the outcome. */
  take(taskId: string, timeoutMs: number, durable: () => Promise<boolean>, now = Date.now()): Lease {
    const bytes = randomBytes(32);
    let resolve!: (o: PushOutcome) => void;
    const settled = new Promise<PushOutcome>((r) => (resolve = r));
    const expiry = new AbortController();
    const e: Entry = {
      taskId,
      token: bytes.toString('base64url'),
      tokenBytes: Buffer.from(bytes.toString('base64url')),
      timeoutMs,
      deadline: now + timeoutMs,
      timer: setTimeout(() => this.due(e), timeoutMs),
      settled,
      expired: expiry.signal,
      expiry,
      durable,
      resolve,
    };
    this.open.set(taskId, e);
    return e;
  }

  /** The open lease of `taskId` whose token is `token` (compared in constant time). */
  private find(taskId: string, token: string): Entry | undefined {
    const e = this.open.get(taskId);
    if (e === undefined) return undefined;
    const got = Buffer.from(token);
    return got.length === e.tokenBytes.length && timingSafeEqual(got, e.tokenBytes) ? e : undefined;
  }

  /** Settles the lease with a posted result: the lease's `durable`, or undefined for a stale or unknown token. */
  complete(taskId: string, token: string, outcome: PushOutcome): Promise<boolean> | undefined {
    const e = this.find(taskId, token);
    if (e === undefined) return undefined;
    // Asked before the outcome is handed over: the bus hears of the listener before the attempt returns.
    const durable = e.durable();
    this.end(e, outcome);
    return durable;
  }

  /** Moves the deadline to `timeoutMs` from now: the new deadline, or undefined for a stale or unknown token. */
  heartbeat(taskId: string, token: string, now = Date.now()): number | undefined {
    const e = this.find(taskId, token);
    if (e === undefined) return undefined;
    // The timer is re-armed lazily when it fires (one timer per lease, however many heartbeats).
    e.deadline = now + e.timeoutMs;
    return e.deadline;
  }

  /** The attempt has its outcome (an answer, a cancel): the token is stale from now on. */
  release(lease: Lease, outcome?: PushOutcome): void {
    const e = this.open.get(lease.taskId);
    if (e === lease) this.end(e, outcome);
  }

  /** Ends every lease with `outcome` (shutdown). */
  releaseAll(outcome: PushOutcome): void {
    for (const e of [...this.open.values()]) this.end(e, outcome);
  }

  get size(): number {
    return this.open.size;
  }

  private due(e: Entry): void {
    if (this.open.get(e.taskId) !== e) return;
    const left = e.deadline - Date.now();
    if (left > 0) {
      e.timer = setTimeout(() => this.due(e), left);
      return;
    }
    const message = `no answer, result or heartbeat within ${e.timeoutMs} ms`;
    this.end(e, failure(HttpAgentErrorCode.timeout, message, true));
    e.expiry.abort(new ActorflowError(HttpAgentErrorCode.timeout, message, { retryable: true }));
  }

  private end(e: Entry, outcome: PushOutcome | undefined): void {
    clearTimeout(e.timer);
    if (this.open.get(e.taskId) === e) this.open.delete(e.taskId);
    if (outcome !== undefined) e.resolve(outcome);
  }
}
