/**
 * @module bulk/control — what a bulk operation does to one execution: the engine call of the action's single
 * route, its outcome (a state that does not allow the action is `skipped`, anything else that fails is `failed`
 * with its code), and, for an execution left `started` by a crash, whether that call had been journaled.
 */
import { isDeepStrictEqual } from 'node:util';
import { ActorflowError, ErrorCode } from '../common/errors.ts';
import type { EventView } from '../common/execution.ts';
import type { Engine } from '../engine/types.ts';
import type { BulkOperationRow } from '../store/types.ts';

/** The codes the single routes answer 409 with because of the execution's state: the action is not allowed now. */
const NOT_ALLOWED: ReadonlySet<string> = new Set([ErrorCode.executionFinished, ErrorCode.invalidState, ErrorCode.notRetryable, ErrorCode.taskFinished]);

export type ItemOutcome =
  | { readonly outcome: 'succeeded'; readonly code: null }
  | { readonly outcome: 'skipped'; readonly code: null }
  | { readonly outcome: 'failed'; readonly code: string };

const SUCCEEDED: ItemOutcome = { outcome: 'succeeded', code: null };

/** What an operation needs to act: its tenant, action, signal and reason. */
export type ControlSpec = Pick<BulkOperationRow, 'tenant' | 'action' | 'signal' | 'reason'>;

/** The engine call of `op.action` on execution `id`, as its single route makes it. */
function call(engine: Engine, op: ControlSpec, id: string): Promise<unknown> {
  const reason = op.reason ?? undefined;
  switch (op.action) {
    case 'cancel':
      return engine.cancel(op.tenant, id, reason);
    case 'retry':
      return engine.retry(op.tenant, id, reason);
    case 'pause':
      return engine.pause(op.tenant, id);
    case 'resume':
      return engine.resume(op.tenant, id);
    case 'signal': {
      if (op.signal === null) return Promise.reject(new ActorflowError(ErrorCode.internal, 'a signal operation without its signal'));
      return engine.signal(op.tenant, id, op.signal.name, { payload: op.signal.payload });
    }
    default:
      return op.action satisfies never;
  }
}

/** Acts on one execution; never rejects: a failure is an outcome. */
export async function act(engine: Engine, op: ControlSpec, id: string, onUnexpected: (err: unknown) => void): Promise<ItemOutcome> {
  try {
    await call(engine, op, id);
    return SUCCEEDED;
  } catch (err) {
    if (err instanceof ActorflowError) return NOT_ALLOWED.has(err.code) ? { outcome: 'skipped', code: null } : { outcome: 'failed', code: err.code };
    onUnexpected(err);
    return { outcome: 'failed', code: ErrorCode.internal };
  }
}

/** The event the call journals when it succeeds (for a signal: the one carrying this signal). */
function journaledBy(op: ControlSpec, e: EventView): boolean {
  switch (op.action) {
    case 'cancel':
      return e.type === 'workflow.cancelled';
    case 'retry':
      return e.type === 'workflow.retried';
    case 'pause':
      return e.type === 'workflow.paused';
    case 'resume':
      return e.type === 'workflow.resumed';
    case 'signal':
      return e.type === 'workflow.signal.received' && e.data['name'] === op.signal?.name && e.data['reject'] !== true && isDeepStrictEqual(e.data['payload'] ?? null, op.signal?.payload ?? null);
    default:
      return op.action satisfies never;
  }
}

/** Events read per page when checking a `started` execution. */
const EVENTS_PAGE = 500;

/**
 * Whether the call on an execution marked `started` (its last seq then: `markSeq`) was journaled before a
 * crash: an event of it after `markSeq`. A signal another client sent in that window with the same name and
 * payload reads as ours: the operation then sends none (at most once, never twice).
 */
export async function wasJournaled(engine: Engine, op: ControlSpec, id: string, markSeq: number | null): Promise<boolean> {
  let since = markSeq ?? 0;
  for (;;) {
    let page;
    try {
      page = await engine.events(op.tenant, id, since, { limit: EVENTS_PAGE });
    } catch (err) {
      // Gone (or never stored): the call will tell what it is.
      if (err instanceof ActorflowError && err.code.endsWith('_not_found')) return false;
      throw err;
    }
    if (page.items.some((e) => journaledBy(op, e))) return true;
    const last = page.items[page.items.length - 1];
    if (page.nextCursor === null || last === undefined) return false;
    since = last.seq;
  }
}
