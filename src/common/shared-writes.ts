/**
 * @module common/shared-writes — where writes of the resources every node of a cluster shares go:
 * workflow definitions, templates, API keys, tenants, schedules, webhooks. A resource registers its
 * applier once (`channel`) and writes only through the function it gets back.
 *
 * - single node (`localWrites`): the function is the applier, called at once — the write path of old.
 * - cluster mode (src/cluster/shared-state): the op is published on a replicated, ordered log and every
 *   node, the writer included, applies it with its own applier in log order; the writer resolves with
 *   the outcome its own apply had (a racing write of another node that came first may make it a 409).
 *
 * So an applier must be deterministic (ids, times and anything random travel in the op; the decision
 * reads only state that earlier ops built) and idempotent (a node that stopped between an apply and the
 * record of its position applies that op again after its restart). It may throw a typed error: that is
 * the op's outcome on every node, and the writer's caller gets it.
 */

/** Applies one op of a resource to this node's copy (memory and SQLite); resolves with its outcome. */
export type Applier<Op, R> = (op: Op) => Promise<R>;

export interface SharedWrites {
  /** Makes `apply` the applier of `resource` (once per resource); returns the resource's write function. */
  channel<Op, R>(resource: SharedResource, apply: Applier<Op, R>): Applier<Op, R>;
  /**
   * Resolves once this node applied every op of `resource` the log held when the node started (at once
   * on a single node): a resource waits for it after registering, before it is read or written.
   */
  caughtUp(resource: SharedResource): Promise<void>;
}

/** The shared resources, each with one applier. */
export type SharedResource = 'definitions' | 'templates' | 'api-keys' | 'tenants' | 'schedules' | 'webhooks';

/** Single-node mode: every write is applied here, at once. */
export const localWrites: SharedWrites = { channel: (_resource, apply) => apply, caughtUp: () => Promise.resolve() };
