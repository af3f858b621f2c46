/**
 * @module cluster/forwarding — commands for a partition this node does not serve go to the node that
 * does, by NATS request/reply on the partition's subject `actorflow.cluster.partition.<n>`: the owner
 * subscribes while it serves the partition, so routing needs no lookup and a request never takes more
 * than one hop (the owner runs it locally, or answers `partition_unavailable`). While nobody serves the
 * partition (no responders: its owner died, a hand-over runs) the request is retried until its deadline,
 * then fails 503 `partition_unavailable`. A request the owner took but did not answer in time has an
 * unknown outcome: it fails `request_timeout` rather than being sent twice.
 */
import { RequestError, TimeoutError, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { msgpackCodec as codec } from '../common/codec.ts';
import { ActorflowError, ErrorCode, type Issue } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import type { Engine } from '../engine/types.ts';

export function commandSubject(partition: number): string {
  return `actorflow.cluster.partition.${partition}`;
}

/** The engine commands that go to the owner of an execution's partition. */
export const FORWARDED = ['start', 'update', 'cancel', 'pause', 'resume', 'retry', 'retryStep', 'signal'] as const;
export type ForwardedOp = (typeof FORWARDED)[number];

interface Request {
  readonly op: ForwardedOp;
  readonly args: readonly unknown[];
}

interface WireError {
  readonly code: string;
  readonly message: string;
  readonly issues: readonly Issue[];
  readonly retryable: boolean;
  readonly retryAfterS?: number;
}

type Reply = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: WireError };

/** Forwarding counts, for /status and /metrics. */
export interface ForwardCounts {
  /** Commands this node sent to an owner (answered either way). */
  sent: number;
  /** Commands other nodes sent here. */
  received: number;
  /** Sent commands that found no owner before their deadline. */
  unavailable: number;
}

export interface ForwarderOptions {
  readonly nc: NatsConnection;
  readonly logger: Logger;
  /** How long a command waits for its partition to have an owner. @default 5000 */
  readonly deadlineMs?: number;
}

export class Forwarder {
  readonly counts: ForwardCounts = { sent: 0, received: 0, unavailable: 0 };
  private readonly subs = new Map<number, Subscription>();
  private readonly deadlineMs: number;

  constructor(private readonly o: ForwarderOptions) {
    this.deadlineMs = o.deadlineMs ?? 5000;
  }

  /** Sends `op` to the owner of `partition`; resolves with its answer, rejects with its error. */
  async send<T>(partition: number, op: ForwardedOp, args: readonly unknown[]): Promise<T> {
    const deadline = Date.now() + this.deadlineMs;
    const data = codec.encode({ op, args } satisfies Request);
    for (let attempt = 0; ; attempt++) {
      let reply: Reply;
      try {
        const m = await this.o.nc.request(commandSubject(partition), data, { timeout: Math.max(100, deadline - Date.now()) });
        reply = codec.decode<Reply>(m.data);
      } catch (err) {
        if (isTimeout(err)) {
          throw new ActorflowError(ErrorCode.requestTimeout, `the owner of partition ${partition} did not answer in time; the outcome of the ${op} is unknown`, { retryable: true, cause: err });
        }
        if (!isNoResponders(err)) throw err;
        if (Date.now() >= deadline) throw this.unavailable(partition);
        await pause(attempt);
        continue;
      }
      this.counts.sent++;
      if (reply.ok) return reply.value as T;
      // The owner let it go between our request and its answer: the next owner may take it.
      if (reply.error.code === ErrorCode.partitionUnavailable && Date.now() < deadline) {
        await pause(attempt);
        continue;
      }
      throw fromWire(reply.error);
    }
  }

  /** Answers the commands of `partition` with `engine` (this node serves it now). */
  serve(partition: number, engine: Engine, serving: () => boolean): void {
    if (this.subs.has(partition)) return;
    const sub = this.o.nc.subscribe(commandSubject(partition), {
      queue: 'owner',
      callback: (_err, msg) => {
        this.counts.received++;
        let req: Request;
        try {
          req = codec.decode<Request>(msg.data);
        } catch (err) {
          msg.respond(codec.encode({ ok: false, error: toWire(new ActorflowError(ErrorCode.badRequest, `an unreadable forwarded command: ${String(err)}`)) } satisfies Reply));
          return;
        }
        const run = async (): Promise<unknown> => {
          if (!serving()) throw this.unavailable(partition);
          if (!FORWARDED.includes(req.op)) throw new ActorflowError(ErrorCode.badRequest, `${String(req.op)} is not a forwarded command`);
          return (engine[req.op] as (...a: unknown[]) => Promise<unknown>)(...req.args);
        };
        run().then(
          (value) => msg.respond(codec.encode({ ok: true, value } satisfies Reply)),
          (err: unknown) => {
            if (!(err instanceof ActorflowError)) this.o.logger.error('a forwarded command failed', { partition, op: req.op, err: String(err) });
            msg.respond(codec.encode({ ok: false, error: toWire(err) } satisfies Reply));
          },
        );
      },
    });
    this.subs.set(partition, sub);
  }

  /** Stops answering for `partition` (it was lost or is being taken over again). */
  stop(partition: number): void {
    this.subs.get(partition)?.unsubscribe();
    this.subs.delete(partition);
  }

  close(): void {
    for (const p of [...this.subs.keys()]) this.stop(p);
  }

  private unavailable(partition: number): ActorflowError {
    this.counts.unavailable++;
    return new ActorflowError(ErrorCode.partitionUnavailable, `partition ${partition} has no node serving it right now (a node failed or a hand-over is running); retry`, { retryable: true, retryAfterS: 1 });
  }
}

const pause = (attempt: number) => new Promise((r) => setTimeout(r, Math.min(50 * 2 ** attempt, 250)));

function isNoResponders(err: unknown): boolean {
  return err instanceof RequestError && err.isNoResponders();
}

function isTimeout(err: unknown): boolean {
  return err instanceof TimeoutError || (err instanceof RequestError && err.cause instanceof TimeoutError);
}

function toWire(err: unknown): WireError {
  if (err instanceof ActorflowError) {
    return { code: err.code, message: err.message, issues: err.issues, retryable: err.retryable, ...(err.retryAfterS === undefined ? {} : { retryAfterS: err.retryAfterS }) };
  }
  return { code: ErrorCode.internal, message: String(err), issues: [], retryable: false };
}

/** The owner's error as this node throws it: the same code, so the same HTTP status and body. */
function fromWire(e: WireError): ActorflowError {
  return new ActorflowError(e.code, e.message, { issues: e.issues, retryable: e.retryable, ...(e.retryAfterS === undefined ? {} : { retryAfterS: e.retryAfterS }) });
}
