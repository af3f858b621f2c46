/**
 * Gap-free resume (api/streams/resume.ts) when the journal is ahead of the live feed: an event can be read from the
 * journal before the engine announces it (on the in-process bus the engine announces a commit's events after the
 * replies it carried, and a commit the writer thread finished is readable before the main thread hears of it). The
 * hand-over to the native topic must wait for that announcement, or the topic repeats the event.
 */
import { describe, expect, it } from 'vitest';
import type { EventView } from '../../src/common/execution.ts';
import { createConsoleLogger } from '../../src/common/logger.ts';
import type { Engine } from '../../src/engine/types.ts';
import { createEventFeed, type EncodedEvent } from '../../src/api/streams/event-feed.ts';
import { resumeExecution } from '../../src/api/streams/resume.ts';

const ev = (seq: number): EventView => ({ seq, id: `e${seq}`, executionId: 'ex_1', workflow: 'w', tenant: 't', type: 'workflow.step.completed', timestamp: new Date(seq).toISOString(), data: {} }) as EventView;

/** A journal, an engine announcing its events on demand, and a native topic that delivers what is announced once joined. */
function setup() {
  const journal: EventView[] = [];
  const listeners = new Set<(e: EventView) => void>();
  const engine = {
    onEvent: (l: (e: EventView) => void) => (listeners.add(l), () => void listeners.delete(l)),
    events: async (_t: string, _id: string, since: number, page: { limit: number }) => {
      const items = journal.filter((e) => e.seq > since).slice(0, page.limit);
      return { items, nextCursor: items.length === page.limit ? String(items.at(-1)?.seq) : null };
    },
  } as unknown as Engine;
  const feed = createEventFeed(engine, createConsoleLogger('silent'));
  const delivered: number[] = [];
  let joined = false;
  // Registered before the resume's watch, as the hub's publisher is: the topic sees an event before the watchers do.
  feed.onEvent((e: EncodedEvent) => void (joined && delivered.push(e.value.seq)));
  const announce = (seq: number): void => {
    for (const l of listeners) l(journal.find((e) => e.seq === seq) as EventView);
  };
  const resume = (since: number) =>
    resumeExecution({
      engine, feed, tenant: 't', executionId: 'ex_1', since, pageSize: 2, maxBuffered: 10,
      target: { deliver: (e) => void delivered.push(e.value.seq), writable: () => true, waitWritable: () => Promise.resolve(), closed: () => false, cork: (fn) => fn() },
      onLive: () => (joined = true),
    });
  return { journal, announce, resume, delivered, joined: () => joined };
}

describe('resumeExecution', () => {
  it('delivers an event read from the journal before its announcement once, and joins the topic only after it', async () => {
    const s = setup();
    for (const seq of [1, 2, 3, 4]) s.journal.push(ev(seq));
    for (const seq of [1, 2, 3]) s.announce(seq);
    // 4 is committed (readable) but not announced yet.
    await s.resume(0).ready;
    expect(s.delivered).toEqual([1, 2, 3, 4]);
    expect(s.joined()).toBe(false);
    s.announce(4);
    expect(s.joined()).toBe(true);
    s.journal.push(ev(5));
    s.announce(5);
    expect(s.delivered).toEqual([1, 2, 3, 4, 5]);
  });

  it('hands a client at the head over at the next event, and one ahead of the journal only once the feed passes its since', async () => {
    const s = setup();
    for (const seq of [1, 2]) (s.journal.push(ev(seq)), s.announce(seq));
    await s.resume(2).ready;
    expect(s.joined()).toBe(false);
    s.journal.push(ev(3));
    s.announce(3);
    expect(s.joined()).toBe(true);
    expect(s.delivered).toEqual([3]);

    const ahead = setup();
    for (const seq of [1, 2]) (ahead.journal.push(ev(seq)), ahead.announce(seq));
    await ahead.resume(4).ready;
    for (const seq of [3, 4, 5, 6]) (ahead.journal.push(ev(seq)), ahead.announce(seq));
    expect(ahead.delivered).toEqual([5, 6]);
  });
});
