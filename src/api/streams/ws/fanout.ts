/** @module api/streams/ws/fanout — native uWS pub/sub: which topic variants have subscribers, and one publish per variant and event. */
import type { TemplatedApp, WebSocket } from 'uWebSockets.js';
import type { AgentEvent } from '../../../bus/types.ts';
import type { BulkEvent } from '../../../bulk/types.ts';
import type { EncodedEvent } from '../event-feed.ts';
import { EncodedValue, type WireFormat, topics } from './protocol.ts';

/** What a subscription listens to: a topic base plus the variant (format, subscription id) of its frames. */
export type TopicRef = {
  readonly tenant: string;
  /** A `topics.*` base name. */
  readonly base: string;
  readonly format: WireFormat;
  readonly sub: string;
} & (
  | { readonly kind: 'execution'; readonly executionId: string }
  | { readonly kind: 'firehose'; readonly workflow: string | null; readonly type: string | null }
  | { readonly kind: 'agents' }
);

interface Variant {
  readonly format: WireFormat;
  readonly sub: string;
  readonly topic: string;
  refs: number;
}

/**
 * Frames carry the subscription id (`{ op: "event", sub, event }`), so a topic is a base (an
 * execution, a firehose slice, a tenant's agents) times a variant (format × subscription id).
 * Sockets that use the same subscription id for the same base share one topic: one frame is
 * built per variant (splicing the event's bytes, encoded once per format) and uWS copies it to
 * every subscriber in C++. Clients that reuse ids (libraries do) thus cost one publish for all.
 */
export class Fanout {
  private readonly bases = new Map<string, Map<string, Variant>>();
  /**
   * The bases with subscribers, by their parts (tenant → execution id, tenant → workflow → type; null: any), so
   * that an event builds the names of only the topics someone listens to: with JSON names, building all five
   * for every event cost ~3% of the server's CPU at 2,500 flows/s with one firehose subscriber.
   */
  private readonly watched = new Map<string, Map<string, number>>();
  private readonly slices = new Map<string, Map<string | null, Map<string | null, number>>>();
  private readonly agentTenants = new Map<string, number>();

  constructor(
    private readonly app: TemplatedApp,
    /** Told the size of every frame handed to uWS (drives the slow-consumer sweep). */
    private readonly onPublish: (bytes: number) => void,
  ) {}

  /** Subscribes `ws` to the variant topic of `ref`; returns the topic name. */
  join<U>(ws: WebSocket<U>, ref: TopicRef): string {
    let variants = this.bases.get(ref.base);
    if (variants === undefined) this.bases.set(ref.base, (variants = new Map()));
    const key = variantKey(ref.format, ref.sub);
    let v = variants.get(key);
    if (v === undefined) {
      v = { format: ref.format, sub: ref.sub, topic: topics.variant(ref.base, ref.format, ref.sub), refs: 0 };
      variants.set(key, v);
      if (ref.kind === 'agents') this.agentTenants.set(ref.tenant, (this.agentTenants.get(ref.tenant) ?? 0) + 1);
      this.index(ref, 1);
    }
    v.refs++;
    ws.subscribe(v.topic);
    return v.topic;
  }

  /** Drops one reference; `ws` is null when the socket is already closed (uWS unsubscribed it). */
  leave<U>(ws: WebSocket<U> | null, ref: TopicRef): void {
    const variants = this.bases.get(ref.base);
    const key = variantKey(ref.format, ref.sub);
    const v = variants?.get(key);
    if (variants === undefined || v === undefined) return;
    if (ws !== null) ws.unsubscribe(v.topic);
    if (--v.refs > 0) return;
    variants.delete(key);
    if (variants.size === 0) this.bases.delete(ref.base);
    this.index(ref, -1);
    if (ref.kind === 'agents') {
      const n = (this.agentTenants.get(ref.tenant) ?? 1) - 1;
      if (n === 0) this.agentTenants.delete(ref.tenant);
      else this.agentTenants.set(ref.tenant, n);
    }
  }

  /** Publishes a committed event to its execution topic and, when anyone listens, to the firehose slices. */
  publishEvent(event: EncodedEvent): void {
    const e = event.value;
    if (this.watched.get(e.tenant)?.has(e.executionId) === true) this.publish(topics.execution(e.tenant, e.executionId), event);
    const slices = this.slices.get(e.tenant);
    if (slices === undefined) return;
    this.publishSlice(slices.get(null), e.tenant, null, e.type, event);
    this.publishSlice(slices.get(e.workflow), e.tenant, e.workflow, e.type, event);
  }

  /** To the slices of one workflow (or of any: null) that take every type, or the event's. */
  private publishSlice(types: Map<string | null, number> | undefined, tenant: string, workflow: string | null, type: string, event: EncodedEvent): void {
    if (types === undefined) return;
    if (types.has(null)) this.publish(topics.firehose(tenant, workflow, null), event);
    if (types.has(type)) this.publish(topics.firehose(tenant, workflow, type), event);
  }

  /** Counts a variant of an execution or firehose base in (+1) or out (−1) of the index by parts. */
  private index(ref: TopicRef, d: 1 | -1): void {
    if (ref.kind === 'execution') count(this.watched, ref.tenant, ref.executionId, d);
    else if (ref.kind === 'firehose') {
      let byWorkflow = this.slices.get(ref.tenant);
      if (byWorkflow === undefined) this.slices.set(ref.tenant, (byWorkflow = new Map()));
      count(byWorkflow, ref.workflow, ref.type, d);
      if (byWorkflow.size === 0) this.slices.delete(ref.tenant);
    }
  }

  /**
   * Publishes a bulk operation's event to the firehose slices of its type (`types` naming it), of any workflow
   * and of the workflow its filter names: never to slices without a type, whose subscribers expect execution events.
   */
  publishBulkEvent(e: BulkEvent): void {
    if (!this.slices.has(e.tenant)) return;
    const value = new EncodedValue(e);
    this.publish(topics.firehose(e.tenant, null, e.type), value);
    if (e.workflow !== null) this.publish(topics.firehose(e.tenant, e.workflow, e.type), value);
  }

  /**
   * Publishes an agent event to every tenant with agent subscribers. Agents are not
   * tenant-scoped in the engine yet; the per-tenant topics are where that scoping will apply.
   */
  publishAgentEvent(e: AgentEvent): void {
    if (this.agentTenants.size === 0) return;
    const value = new EncodedValue(e);
    for (const tenant of this.agentTenants.keys()) this.publish(topics.agents(tenant), value);
  }

  /** Topic variants with at least one subscriber. */
  get topicCount(): number {
    let n = 0;
    for (const v of this.bases.values()) n += v.size;
    return n;
  }

  private publish(base: string, value: EncodedValue): void {
    const variants = this.bases.get(base);
    if (variants === undefined) return;
    for (const v of variants.values()) {
      const frame = value.frame(v.format, v.sub);
      this.app.publish(v.topic, frame, v.format === 'msgpack', false);
      this.onPublish(frame.length);
    }
  }
}

const variantKey = (format: WireFormat, sub: string): string => (format === 'json' ? `j${sub}` : `m${sub}`);

/** Adds `d` to `outer[a][b]`, dropping entries that reach 0. */
function count<A, B>(outer: Map<A, Map<B, number>>, a: A, b: B, d: number): void {
  let inner = outer.get(a);
  if (inner === undefined) outer.set(a, (inner = new Map()));
  const n = (inner.get(b) ?? 0) + d;
  if (n > 0) inner.set(b, n);
  else inner.delete(b);
  if (inner.size === 0) outer.delete(a);
}
