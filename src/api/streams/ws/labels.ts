/** @module api/streams/ws/labels — firehose subscriptions filtered by labels: matched in JS against a bounded cache of execution labels. */
import type { Engine } from '../../../engine/types.ts';
import { isRecord } from '../../../common/json.ts';
import type { Logger } from '../../../common/logger.ts';
import type { EncodedEvent } from '../event-feed.ts';
import type { EventFilter } from './protocol.ts';

/** One label-filtered subscription. */
export interface LabelSubscription {
  readonly tenant: string;
  readonly filter: EventFilter;
  /** Receives each matching event, in seq order per execution. */
  deliver(event: EncodedEvent): void;
}

type Labels = Readonly<Record<string, string>>;

/** Events of one execution held while its labels are looked up; past this the held events are dropped. */
const MAX_HELD_PER_EXECUTION = 10_000;

/**
 * Label filters cannot be uWS topics (an execution's labels change, and a filter is a subset
 * test), so these subscriptions are matched here, per event, in JS. An execution's labels come
 * from its `workflow.started` and `workflow.updated` events; an execution first seen mid-way
 * (started before anyone subscribed) is looked up once with `engine.get` while its events wait,
 * in order. The cache is an LRU of `maxCached` executions.
 *
 * Limitation (documented): a looked-up execution is matched with its labels as they are at the
 * lookup, not as they were at each earlier event.
 */
export class LabelRouter {
  private readonly subs = new Set<LabelSubscription>();
  private readonly labels = new Map<string, Labels>();
  private readonly held = new Map<string, EncodedEvent[]>();

  constructor(
    private readonly engine: Engine,
    private readonly logger: Logger,
    private readonly maxCached: number,
  ) {}

  get size(): number {
    return this.subs.size;
  }

  add(sub: LabelSubscription): void {
    this.subs.add(sub);
  }

  remove(sub: LabelSubscription): void {
    this.subs.delete(sub);
    if (this.subs.size === 0) {
      this.labels.clear();
      this.held.clear();
    }
  }

  onEvent(event: EncodedEvent): void {
    if (this.subs.size === 0) return;
    const e = event.value;
    const key = `${e.tenant}\u0000${e.executionId}`;
    const waiting = this.held.get(key);
    if (waiting !== undefined) {
      if (waiting.length < MAX_HELD_PER_EXECUTION) waiting.push(event);
      return;
    }
    let labels = this.learn(key, event);
    if (labels === undefined) {
      this.lookUp(key, event);
      return;
    }
    labels = this.touch(key, labels);
    this.dispatch(event, labels);
  }

  /** Labels known after this event, from the event itself or the cache. */
  private learn(key: string, event: EncodedEvent): Labels | undefined {
    const e = event.value;
    const given = e.data['labels'];
    const valid = isRecord(given) ? (given as Labels) : undefined;
    if (e.type === 'workflow.started') return this.remember(key, valid ?? {});
    const known = this.labels.get(key);
    if (e.type === 'workflow.updated' && valid !== undefined && known !== undefined) return this.remember(key, { ...known, ...valid });
    return known;
  }

  private remember(key: string, labels: Labels): Labels {
    this.labels.delete(key);
    this.labels.set(key, labels);
    if (this.labels.size > this.maxCached) {
      const oldest = this.labels.keys().next();
      if (oldest.done !== true) this.labels.delete(oldest.value);
    }
    return labels;
  }

  /** Marks as recently used (Map order is the LRU order). */
  private touch(key: string, labels: Labels): Labels {
    this.labels.delete(key);
    this.labels.set(key, labels);
    return labels;
  }

  private lookUp(key: string, first: EncodedEvent): void {
    const queue = [first];
    this.held.set(key, queue);
    const e = first.value;
    this.engine.get(e.tenant, e.executionId).then(
      (view) => {
        if (this.held.get(key) !== queue) return;
        this.held.delete(key);
        const labels = this.remember(key, view.labels);
        for (const event of queue) this.dispatch(event, labels);
      },
      (err: unknown) => {
        if (this.held.get(key) === queue) this.held.delete(key);
        this.logger.warn('label lookup failed; events dropped for label filters', { executionId: e.executionId, error: String(err) });
      },
    );
  }

  private dispatch(event: EncodedEvent, labels: Labels): void {
    const e = event.value;
    for (const sub of this.subs) {
      if (sub.tenant !== e.tenant) continue;
      const f = sub.filter;
      if (f.workflow !== undefined && f.workflow !== e.workflow) continue;
      if (f.types !== undefined && !f.types.includes(e.type)) continue;
      if (f.labels !== undefined && !matches(labels, f.labels)) continue;
      sub.deliver(event);
    }
  }
}

function matches(labels: Labels, wanted: Labels): boolean {
  for (const k of Object.keys(wanted)) if (!Object.hasOwn(labels, k) || labels[k] !== wanted[k]) return false;
  return true;
}
