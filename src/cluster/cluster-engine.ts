/**
 * @module cluster/cluster-engine — the `Engine` the API (and the scheduler, bulk operations, tasks) use
 * in cluster mode: reads answer from this node (its read model holds every partition), commands on an
 * execution of a partition served elsewhere go to its owner (cluster/forwarding.ts). A start goes to a
 * partition this node serves, unless its idempotency key names another one's; a node serving none
 * forwards it.
 */
import { parseExecutionId } from '../common/ids.ts';
import type { Engine, SignalRequest, StartRequest, StartResult } from '../engine/types.ts';
import type { ExecutionView } from '../common/execution.ts';
import { parseTaskId, type ExecutionKind } from '../engine/runtime/tasks.ts';
import type { Forwarder } from './forwarding.ts';
import { partitionOf, partitionOfKey } from './partitions.ts';

/** What the wrapper needs to know of the node. */
export interface Routing {
  readonly partitions: number;
  /** True when this node serves the partition now (caught up and adopted). */
  serves(partition: number): boolean;
  /** Waits (up to a short deadline) for a partition this node is taking over; false when it is not or did not finish. */
  whenServed(partition: number): Promise<boolean>;
  /** Partitions this node serves now. */
  served(): readonly number[];
  /** A partition some node owns (for a start this node cannot take), or any. */
  anyOwned(): number;
}

export function clusterEngine(engine: Engine, routing: Routing, forwarder: Forwarder): Engine {
  /** Runs `local` when this node serves the execution's partition, else forwards `op` with `args`. */
  const route = async <T>(id: string, op: Parameters<Forwarder['send']>[1], args: readonly unknown[], local: () => Promise<T>): Promise<T> => {
    // Not an id at all: the local engine answers `*_not_found` as on a single node.
    if (parseExecutionId(id) === undefined && parseTaskId(id) === undefined) return local();
    const p = partitionOf(id, routing.partitions);
    if (routing.serves(p) || (await routing.whenServed(p))) return local();
    return forwarder.send<T>(p, op, args);
  };
  const start = async (req: StartRequest): Promise<StartResult> => {
    // An idempotency key (as the engine stores it), else a concurrency group: the partition the engine's newId picks for it.
    const placement = engine.startPlacement(req);
    if (placement !== null) {
      const p = partitionOfKey(req.tenant, placement, routing.partitions);
      if (routing.serves(p) || (await routing.whenServed(p))) return engine.start(req);
      return forwarder.send(p, 'start', [req]);
    }
    if (routing.served().length > 0) return engine.start(req);
    return forwarder.send(routing.anyOwned(), 'start', [req]);
  };
  return {
    ...bindAll(engine),
    start,
    update: (tenant, id, patch) => route<ExecutionView>(id, 'update', [tenant, id, patch], () => engine.update(tenant, id, patch)),
    cancel: (tenant, id, reason?: string, kind?: ExecutionKind) => route<ExecutionView>(id, 'cancel', [tenant, id, reason, kind], () => engine.cancel(tenant, id, reason, kind)),
    pause: (tenant, id) => route<ExecutionView>(id, 'pause', [tenant, id], () => engine.pause(tenant, id)),
    resume: (tenant, id) => route<ExecutionView>(id, 'resume', [tenant, id], () => engine.resume(tenant, id)),
    retry: (tenant, id, note?: string) => route<ExecutionView>(id, 'retry', [tenant, id, note], () => engine.retry(tenant, id, note)),
    retryStep: (tenant, id, stepId) => route<ExecutionView>(id, 'retryStep', [tenant, id, stepId], () => engine.retryStep(tenant, id, stepId)),
    signal: (tenant, id, name, s: SignalRequest) => route<ExecutionView>(id, 'signal', [tenant, id, name, s], () => engine.signal(tenant, id, name, s)),
  };
}

/** The engine's members, bound (its methods are plain properties of an object literal, but make no assumption). */
function bindAll(engine: Engine): Engine {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(engine) as (keyof Engine)[]) {
    const v = engine[k];
    out[k] = typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(engine) : v;
  }
  // `ready` is a getter: read through.
  Object.defineProperty(out, 'ready', { get: () => engine.ready, enumerable: true });
  return out as unknown as Engine;
}
