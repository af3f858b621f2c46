/** @module api/streams/resume — gap-free resume of one execution's events: journal replay, then live, no gap, no duplicate. */
import type { Engine } from '../../engine/types.ts';
import type { EncodedEvent, EventFeed } from './event-feed.ts';
import { EncodedValue } from './ws/protocol.ts';

/** Where a resumed stream goes (a WebSocket subscription, an SSE response). */
export interface ResumeTarget {
  /** Takes the next event; seqs arrive strictly increasing and without gaps. */
  deliver(event: EncodedEvent): void;
  /** False when the target's output buffer is high: replay pauses until `waitWritable` resolves. */
  writable(): boolean;
  /** Resolves when the target drained (or closed). */
  waitWritable(): Promise<void>;
  /** True once the target is gone: the resume stops. */
  closed(): boolean;
  /** Runs `fn` with the target's writes batched (uWS cork). */
  cork(fn: () => void): void;
}

export interface ResumeOptions {
  readonly engine: Engine;
  readonly feed: EventFeed;
  readonly tenant: string;
  readonly executionId: string;
  /** Deliver events with seq > since (exclusive; 0 = whole history). */
  readonly since: number;
  readonly target: ResumeTarget;
  /** Journal page size. */
  readonly pageSize: number;
  /** Live events held while the journal is read; past it they are dropped and re-read from the journal. */
  readonly maxBuffered: number;
  /**
   * Called once the history is delivered and nothing is pending, synchronously, in the same tick
   * as the last delivery, so no live event can fall between. Return true to take over live
   * delivery (e.g. join a native uWS topic): the resume then detaches. Without it (or on false),
   * live events keep flowing through `target.deliver`.
   */
  readonly onLive?: (cursor: number) => boolean;
}

export interface Resume {
  /** Resolves once live (or stopped); rejects with the engine's error (e.g. `execution_not_found`). */
  readonly ready: Promise<void>;
  /** Seq of the last event delivered (or `since`). */
  cursor(): number;
  /** Stops replay and live delivery. Idempotent. */
  cancel(): void;
}

/**
 * Starts the resume. The live listener is attached first, so every event committed after that
 * point is buffered; the journal (which holds every event committed before it) is replayed in
 * pages after the cursor; then buffered events past the cursor are delivered and the stream is
 * live. Both sources are deduplicated by seq. When the buffer overflows during a slow replay,
 * it is dropped and the journal is read again from the cursor (an execution's history is capped,
 * so this ends). Replay paces itself on the target's `writable()`: a slow reader slows its own
 * replay and costs the engine nothing.
 *
 * Hand-over to `onLive` waits until the live feed itself has announced an event at or past the
 * cursor: the native topic then repeats nothing the client has. The journal alone is not enough:
 * a commit is readable before it is announced (on the in-process bus the engine announces a
 * commit's events once the requests it answers have their replies, and on any bus a commit the
 * writer thread finished can be read before the main thread hears of it), and a `since` beyond
 * the history (a client ahead of the journal) must not let the topic repeat events up to it
 * either. Until then, live events come through `target.deliver`, deduplicated by seq; a client
 * resuming at the head is handed over at the next event.
 */
export function resumeExecution(o: ResumeOptions): Resume {
  let cursor = o.since;
  /** Highest seq the live feed has announced since the watch began. */
  let announced = 0;
  let buffer: EncodedEvent[] = [];
  let overflowed = false;
  let phase: 'replay' | 'live' | 'done' = 'replay';
  let handedOver = o.onLive === undefined;

  const stopped = (): boolean => phase === 'done' || o.target.closed();

  const handOver = (): void => {
    // Until the feed has announced the cursor's event, the native topic could still carry events the client
    // has (read from the journal before their announcement, or a `since` ahead of the journal): stay on JS delivery.
    if (handedOver || announced < cursor || o.onLive === undefined) return;
    handedOver = true;
    if (o.onLive(cursor)) {
      phase = 'done';
      unwatch();
    }
  };

  const unwatch = o.feed.watch(o.tenant, o.executionId, (event) => {
    const seq = event.value.seq;
    if (seq > announced) announced = seq;
    switch (phase) {
      case 'replay':
        if (overflowed) return;
        if (buffer.length >= o.maxBuffered) {
          overflowed = true;
          buffer = [];
          return;
        }
        buffer.push(event);
        return;
      case 'live':
        if (o.target.closed()) return;
        // An event the journal gave already is not delivered again, but its announcement may allow the hand-over.
        if (seq > cursor) {
          cursor = seq;
          o.target.deliver(event);
        }
        handOver();
        return;
      case 'done':
        return;
      default:
        phase satisfies never;
    }
  });

  const cancel = (): void => {
    phase = 'done';
    buffer = [];
    unwatch();
  };

  const replay = async (): Promise<void> => {
    for (;;) {
      // A round: whatever is committed from here on is buffered, whatever was committed before is in the journal.
      overflowed = false;
      buffer = [];
      for (;;) {
        const page = await o.engine.events(o.tenant, o.executionId, cursor, { limit: o.pageSize });
        if (stopped()) return;
        const items = page.items;
        let i = 0;
        while (i < items.length) {
          o.target.cork(() => {
            while (i < items.length) {
              const e = items[i++] as (typeof items)[number];
              if (e.seq <= cursor) continue;
              cursor = e.seq;
              o.target.deliver(new EncodedValue(e));
              if (!o.target.writable()) break;
            }
          });
          if (!o.target.writable()) {
            await o.target.waitWritable();
            if (stopped()) return;
          }
        }
        if (page.nextCursor === null) break;
      }
      if (overflowed) continue;
      const pending = buffer;
      buffer = [];
      o.target.cork(() => {
        for (const event of pending) {
          const seq = event.value.seq;
          if (seq <= cursor) continue;
          cursor = seq;
          o.target.deliver(event);
        }
      });
      phase = 'live';
      handOver();
      return;
    }
  };

  const ready = replay().catch((err: unknown) => {
    cancel();
    throw err;
  });
  // The caller may only await `ready` later; never let a rejection go unhandled meanwhile.
  ready.catch(() => undefined);
  return { ready, cursor: () => cursor, cancel };
}
