/** @module common/event-view — a journal event as the API, the event listeners and webhook bodies show it. */
import { isoTime } from './clock.ts';
import type { EventRecord, EventView } from './execution.ts';

/** The view of `e`, an event of an execution of `workflow` in `tenant`; `id` is `<executionId>-<seq>`, stable across reads. */
export function toEventView(e: EventRecord, workflow: string, tenant: string): EventView {
  const v: EventView = { seq: e.seq, id: `${e.executionId}-${e.seq}`, executionId: e.executionId, workflow, tenant, type: e.type, timestamp: isoTime(e.ts), data: e.data };
  if (e.stepId !== null) v.stepId = e.stepId;
  return v;
}
