/**
 * @module engine/concurrency/concurrency-gate — concurrency limits (engine-internal): which start runs now and which
 * is queued, the durable queued state (`workflow.queued`), the start of the next queued execution when a
 * slot frees, the cancel of a queued one, and the way back after a failed commit. The counts and heaps
 * live in concurrency-queues.ts; the supervisor calls in here where executions start, end and restore.
 *
 * Who holds a slot: every non-terminal execution of a limited workflow that is not queued (paused and
 * waiting ones too). A slot is given back once the terminal state is durable (never before: a failed
 * commit brings the execution back), or when the start that took it did not commit.
 */
import { createHash } from 'node:crypto';
import { ConflictError, ErrorCode } from '../../common/errors.ts';
import type { EventRecord, ExecutionView } from '../../common/execution.ts';
import { TERMINAL_STATUSES } from '../../common/execution.ts';
import type { ConcurrencyLimit } from '../../common/flow.ts';
import { concurrencyPlacement } from '../journal/journal.ts';
import type { ExecutionRow, ExecutionScope, RestorableRow } from '../../store/types.ts';
import { ConcurrencyQueues, type QueuedEntry, type SlotGroup } from './concurrency-queues.ts';
import type { LoadedDefinition } from '../definitions/definitions.ts';
import { getPath } from '../flow/expressions.ts';
import { type ConcurrencyMembership, type LiveExecution, rowToView } from '../runtime/live-execution.ts';
import { QueuedExecution } from './queued-execution.ts';
import type { Supervisor } from '../runtime/supervisor.ts';

/** Key values longer than this (as JSON text) are kept as their SHA-256: a group name stays small whatever the input. */
const MAX_KEY_CHARS = 256;
/** A queued execution that could not be read to start is tried again after this long (a store hiccup must not spin). */
const RETRY_START_MS = 1000;

/** The group of a start of a limited workflow: '' without a `key`, else the key's value as JSON text (missing: `null`). */
export function concurrencyKeyOf(limit: ConcurrencyLimit, input: unknown): string {
  if (limit.key === undefined) return '';
  const text = JSON.stringify(getPath({ input, steps: {}, context: {} }, limit.key) ?? null);
  return text.length <= MAX_KEY_CHARS ? text : `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

/** A start that waits in a queue: everything its executions row and `workflow.queued` event hold. */
export interface QueuedStart {
  readonly tenant: string;
  readonly def: LoadedDefinition;
  readonly membership: ConcurrencyMembership;
  readonly input: unknown;
  readonly labels: Record<string, string>;
  readonly priority: number;
  readonly idempotencyKey: string | null;
  readonly requestHash: string | null;
  readonly dynamicDoc: unknown;
  readonly scope: ExecutionScope | null;
  readonly traceparent: string | null;
  readonly tracestate: string | null;
}

export class ConcurrencyGate {
  readonly queues = new ConcurrencyQueues();
  /** Queued executions chosen to start whose rows are being read: a cancel meanwhile waits for their start. */
  private readonly starting = new Map<string, Promise<void>>();

  constructor(private readonly sup: Supervisor) {}

  /** Boot, before recovery and before any start: the slots held and the queues, from one indexed read. */
  async load(): Promise<void> {
    for (const r of await this.sup.store.listConcurrencyRows()) {
      const g = this.queues.group(r.tenant, r.workflow, r.concurrencyKey);
      if (r.status === 'queued') this.queues.restore(g, r.id, r.priority, r.concurrencyLimit);
      else this.queues.take(g);
    }
  }

  /** After recovery: the groups with a free slot start their next queued executions (a crash may have come between a slot freeing and its next start). */
  startAll(): void {
    for (const g of [...this.queues.startable()]) this.pump(g);
  }

  /** The concurrency group of a start of `def` with `input`; null when its definition declares no limit. */
  membership(def: LoadedDefinition, input: unknown): ConcurrencyMembership | null {
    const limit = def.compiled.doc.concurrency;
    return limit === undefined ? null : { key: concurrencyKeyOf(limit, input), limit: limit.limit };
  }

  /** A slot for a start when one is free and no queued execution waits ahead of it; null: the start must queue. */
  admit(tenant: string, workflow: string, m: ConcurrencyMembership): SlotGroup | null {
    const g = this.queues.group(tenant, workflow, m.key);
    return this.queues.tryTake(g, m.limit) ? g : null;
  }

  /** A slot whatever the limit: child executions count but never queue (their parent waits on them mid-flight). */
  takeAlways(tenant: string, workflow: string, m: ConcurrencyMembership): SlotGroup {
    const g = this.queues.group(tenant, workflow, m.key);
    this.queues.take(g);
    return g;
  }

  /**
   * Accepts a start past the limit: its row (status `queued`) and `workflow.queued` event are written in
   * the next group commit; resolves with the execution once durable. The tenant counts it as open.
   * @throws ActorflowError `store_unavailable` when the commit fails (nothing of it was kept)
   */
  async enqueue(s: QueuedStart): Promise<ExecutionView> {
    const sup = this.sup;
    const now = sup.clock.now();
    const workflow = s.def.row.name;
    // Cluster mode: in the partition of its group, as the running ones (spawn), so one gate counts them all.
    const id = sup.newId('execution', now, { tenant: s.tenant, parentId: null, idempotencyKey: s.idempotencyKey, group: concurrencyPlacement(workflow, s.membership.key) });
    const entry = this.queues.enqueue(this.queues.group(s.tenant, workflow, s.membership.key), id, s.priority, s.membership.limit);
    sup.open.add(s.tenant, 1);
    const row: ExecutionRow = {
      id, tenant: s.tenant, workflow, version: s.def.row.version, status: 'queued', input: s.input, output: null, error: null, currentSteps: [],
      parentId: null, parentStepId: null, labels: s.labels, createdAt: now, startedAt: null, updatedAt: now, finishedAt: null, retryAttempt: 0,
      lastSeq: 1, idempotencyKey: s.idempotencyKey, requestHash: s.requestHash, definition: s.dynamicDoc, nextDueAt: null, scope: s.scope,
      priority: s.priority, concurrencyKey: s.membership.key, concurrencyLimit: s.membership.limit,
    };
    // The caller's trace context waits here for the start (only the caller's is kept, as spawn does).
    const trace = s.traceparent === null ? {} : s.tracestate === null ? { traceparent: s.traceparent } : { traceparent: s.traceparent, tracestate: s.tracestate };
    const data = { input: s.input, version: s.def.row.version, labels: s.labels, priority: s.priority, limit: s.membership.limit, ...(s.membership.key === '' ? {} : { key: s.membership.key }), ...trace };
    sup.queue.append({ executionId: id, seq: 1, type: 'workflow.queued', ts: now, stepId: null, data });
    sup.queue.touch(new QueuedExecution(row, entry, 'queue'));
    await sup.queue.flushed();
    return rowToView(row);
  }

  /** A commit with a queued execution's change succeeded. */
  committed(q: QueuedExecution): void {
    if (q.change === 'cancel') return this.queues.cancelled(q.entry);
    this.queues.queue(q.entry);
    // A slot may have freed while the commit was in flight.
    this.pump(q.entry.group);
  }

  /** A commit with a queued execution's change failed: it did not happen. */
  failed(q: QueuedExecution): void {
    if (q.change === 'cancel') {
      this.queues.uncancel(q.entry);
      this.sup.open.add(q.row.tenant, 1);
      return;
    }
    this.queues.dropPending(q.entry);
    this.sup.open.add(q.row.tenant, -1);
    this.pump(q.entry.group);
  }

  /** A restored open execution holds the slot it was counted with (at boot, or when it started). */
  adopt(rec: LiveExecution, row: RestorableRow): void {
    if (rec.concurrency === null || row.status === 'queued' || TERMINAL_STATUSES.has(row.status)) return;
    rec.slot = this.queues.group(rec.tenant, rec.workflow, rec.concurrency.key);
  }

  /** Gives back the slot `rec` holds and starts the next queued execution of its group. */
  free(rec: LiveExecution): void {
    const g = rec.slot;
    if (g === null) return;
    rec.slot = null;
    this.queues.release(g);
    this.pump(g);
  }

  /**
   * A retry reopens a finished execution: it needs a slot again (refused, not queued, when none is free).
   * `reopen` is the transition; a slot taken for it is given back when it left the execution finished.
   * @throws ConflictError `concurrency_limit`
   */
  reopen(rec: LiveExecution, reopen: () => void): void {
    const m = rec.concurrency;
    if (m === null || rec.slot !== null) return reopen();
    const g = this.queues.group(rec.tenant, rec.workflow, m.key);
    if (g.running >= m.limit) {
      throw new ConflictError(ErrorCode.concurrencyLimit, `${rec.workflow} has ${g.running} executions running, its concurrency limit (${m.limit}); retry when one has finished`);
    }
    this.queues.take(g);
    rec.slot = g;
    try {
      reopen();
    } finally {
      if (TERMINAL_STATUSES.has(rec.status)) this.free(rec);
    }
  }

  /** A start from the queue whose `workflow.started` did not commit: queued again, in its old place, its slot given back. */
  backToQueue(rec: LiveExecution): void {
    const g = rec.slot;
    const m = rec.concurrency;
    if (g === null || m === null) return;
    rec.slot = null;
    this.queues.restore(g, rec.id, rec.priority, m.limit);
    this.queues.release(g);
    this.pumpLater(g);
  }

  /**
   * Cancels `id` when it is queued (→ `cancelled`, durable before the answer, no slot taken); undefined
   * when it is not queued (or not `tenant`'s): the caller cancels it as any other execution.
   * @throws ConflictError `execution_finished` when a cancel of it is already under way
   */
  async cancelQueued(tenant: string, id: string, reason: string | undefined): Promise<ExecutionView | undefined> {
    const sup = this.sup;
    for (;;) {
      const entry = this.queues.entry(id);
      if (entry === undefined || entry.group.tenant !== tenant) return undefined;
      if (entry.state === 'pending') {
        // Its id is known before its queued state is durable only in the same process turn: wait for that commit.
        await sup.queue.flushed().catch(() => undefined);
        continue;
      }
      if (entry.state === 'starting') {
        // Chosen to start: the cancel goes to the live execution.
        await this.starting.get(id);
        return undefined;
      }
      if (entry.state === 'cancelling') throw new ConflictError(ErrorCode.executionFinished, `execution ${id} is being cancelled`);
      const row = await sup.store.getExecution(id);
      // Its state may have moved during the read (started, or cancelled by another request): look again.
      if (this.queues.entry(id) !== entry || entry.state !== 'queued') continue;
      if (!row) return undefined;
      this.queues.cancelling(entry);
      sup.open.add(tenant, -1);
      const now = sup.clock.now();
      const seq = row.lastSeq + 1;
      const cancelled: ExecutionRow = { ...row, status: 'cancelled', lastSeq: seq, updatedAt: now, finishedAt: now };
      const event: EventRecord = { executionId: id, seq, type: 'workflow.cancelled', ts: now, stepId: null, data: { reason: reason ?? null } };
      sup.queue.append(event);
      sup.queue.touch(new QueuedExecution(cancelled, entry, 'cancel'));
      await sup.queue.flushed();
      return rowToView(cancelled);
    }
  }

  /** Starts the queued executions of `g` that fit under their limits (each `next` takes the slot). */
  pump(g: SlotGroup): void {
    for (let e = this.queues.next(g); e !== undefined; e = this.queues.next(g)) this.start(e);
  }

  private pumpLater(g: SlotGroup): void {
    setTimeout(() => this.pump(g), RETRY_START_MS).unref();
  }

  /** Reads a chosen execution's row and `workflow.queued` event, then starts its actor (supervisor.startQueued). */
  private start(e: QueuedEntry): void {
    const sup = this.sup;
    const started = (async () => {
      const [row, first] = await Promise.all([sup.journal.loadRestorable(e.id), sup.journal.readSince(e.id, 0, 1)]);
      if (!row || row.status !== 'queued') {
        // Not queued in the store any more: nothing to start (its slot is given back below).
        sup.log.error('a queued execution was not found queued', { executionId: e.id, status: row?.status ?? null });
        this.queues.started(e);
        this.queues.release(e.group);
        this.pump(e.group);
        return;
      }
      let def: LoadedDefinition;
      try {
        def = sup.definitionOf(row);
      } catch (err) {
        // It cannot run here (e.g. a code machine the machines directory no longer exports): it stays queued in the
        // store, out of the queue in memory, and is tried again at the next boot; its slot goes to the next one.
        sup.log.error('a queued execution cannot start: its definition does not load', { executionId: e.id, err: String(err) });
        this.queues.started(e);
        this.queues.release(e.group);
        this.pump(e.group);
        return;
      }
      sup.startQueued(row, def, first[0]?.data ?? {}, e.group);
      this.queues.started(e);
    })().catch((err: unknown) => {
      sup.log.error('a queued execution could not be read to start; trying again', { executionId: e.id, err: String(err) });
      this.queues.requeue(e);
      this.pumpLater(e.group);
    });
    const done = started.finally(() => this.starting.delete(e.id));
    this.starting.set(e.id, done);
  }
}
