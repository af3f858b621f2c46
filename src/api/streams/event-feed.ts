/** @module api/streams/event-feed — the one engine.onEvent listener of the API: encodes each event once and hands it to streams. */
import type { Engine } from '../../engine/types.ts';
import type { EventView } from '../../common/execution.ts';
import type { Logger } from '../../common/logger.ts';
import { EncodedValue } from './ws/protocol.ts';

export type EncodedEvent = EncodedValue<EventView>;
type Watcher = (e: EncodedEvent) => void;

/**
 * Committed events, fanned out in JS to the few places that need them one by one: the WS hub's
 * publisher (which hands them to uWS topics) and per-execution watchers (replays in progress,
 * SSE streams). Listeners run synchronously inside the engine's commit callback, so each one
 * is guarded: a throwing stream never reaches the engine. The feed listens to the engine only
 * while it has listeners, so an API nobody streams from adds nothing to the commit path.
 */
export interface EventFeed {
  /** Every committed event, in seq order per execution. */
  onEvent(listener: Watcher): () => void;
  /** The events of one execution (of one tenant), in seq order. */
  watch(tenant: string, executionId: string, listener: Watcher): () => void;
  /** Children started by `parentId` (their `workflow.started` event, with `data.parentId`). */
  watchChildren(tenant: string, parentId: string, listener: (childId: string) => void): () => void;
  close(): void;
}

const key = (tenant: string, id: string): string => `${tenant}\u0000${id}`;

function addTo<T>(map: Map<string, Set<T>>, k: string, v: T): () => void {
  let set = map.get(k);
  if (set === undefined) map.set(k, (set = new Set()));
  set.add(v);
  return () => {
    const s = map.get(k);
    if (s === undefined || !s.delete(v)) return;
    if (s.size === 0) map.delete(k);
  };
}

/** `remove` runs once, then `after`. */
function once(remove: () => void, after: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    remove();
    after();
  };
}

/** Subscribes once to `engine.onEvent`; `close()` unsubscribes. */
export function createEventFeed(engine: Engine, logger: Logger): EventFeed {
  const global = new Set<Watcher>();
  const byExecution = new Map<string, Set<Watcher>>();
  const byParent = new Map<string, Set<(childId: string) => void>>();
  let failures = 0;
  let off: (() => void) | undefined;
  let closed = false;

  /** `l(arg)`, its failure logged and kept from the engine (no closure per call: this runs for every event). */
  const guard = <A>(l: (arg: A) => void, arg: A): void => {
    try {
      l(arg);
    } catch (err) {
      // Logged sparingly: a bug here must not flood the log at event rate.
      if (failures++ % 1000 === 0) logger.error('event stream listener failed', { error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    }
  };

  const onEvent = (event: EventView): void => {
    const encoded = new EncodedValue(event);
    for (const l of global) guard(l, encoded);
    if (byExecution.size > 0) {
      const watchers = byExecution.get(key(event.tenant, event.executionId));
      if (watchers !== undefined) for (const l of [...watchers]) guard(l, encoded);
    }
    if (byParent.size > 0 && event.type === 'workflow.started') {
      const parentId = event.data['parentId'];
      const watchers = typeof parentId === 'string' ? byParent.get(key(event.tenant, parentId)) : undefined;
      if (watchers !== undefined) for (const l of [...watchers]) guard(l, event.executionId);
    }
  };

  const attach = (): void => {
    if (off === undefined && !closed) off = engine.onEvent(onEvent);
  };
  const detachIfIdle = (): void => {
    if (off === undefined || global.size > 0 || byExecution.size > 0 || byParent.size > 0) return;
    off();
    off = undefined;
  };
  const add = (remove: () => void): (() => void) => {
    attach();
    return once(remove, detachIfIdle);
  };

  return {
    onEvent: (listener) => {
      global.add(listener);
      return add(() => void global.delete(listener));
    },
    watch: (tenant, executionId, listener) => add(addTo(byExecution, key(tenant, executionId), listener)),
    watchChildren: (tenant, parentId, listener) => add(addTo(byParent, key(tenant, parentId), listener)),
    close: () => {
      closed = true;
      off?.();
      off = undefined;
      global.clear();
      byExecution.clear();
      byParent.clear();
    },
  };
}
