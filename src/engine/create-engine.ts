/**
 * @module engine/create-engine — composes the engine: the supervisor (live actors, journal,
 * passivation), commands, the read model and recovery, behind the one `Engine` interface the API uses.
 */
import { NotFoundError } from '../common/errors.ts';
import { isRecord } from '../common/json.ts';
import { Commands } from './commands.ts';
import { ReadModel } from './read-model.ts';
import { stepSchemasOf } from './definitions/step-schemas.ts';
import { Supervisor, type EngineOptions } from './runtime/supervisor.ts';
import type { PartitionControl } from './journal/journal.ts';
import { partitionControl } from './journal/ownership.ts';
import type { Engine } from './types.ts';

export { DEFAULT_MAX_LIVE, DEFAULT_PASSIVATE_MS, type EngineOptions } from './runtime/supervisor.ts';

export interface RunningEngine extends Engine {
  whenReady(): Promise<void>;
  /** Cluster mode's hand-over of executions (with `EngineOptions.ownership`); unused on a single node. */
  readonly partitions: PartitionControl;
}

/** Opens the engine: loads definitions, then recovers unfinished executions in the background (`ready` flips after). */
export async function createEngine(opts: EngineOptions): Promise<RunningEngine> {
  const sup = new Supervisor(opts);
  await sup.boot();
  const commands = new Commands(sup);
  const reads = new ReadModel(sup);
  return {
    get ready() {
      return sup.ready;
    },
    whenReady: () => sup.whenReady(),
    partitions: partitionControl(sup),
    validateDefinition: (tenant, doc) => commands.validateDefinition(tenant, doc),
    registerDefinition: (tenant, doc, template) => commands.registerDefinition(tenant, doc, template),
    getDefinition: (tenant, name, version) => commands.getDefinition(tenant, name, version),
    listDefinitions: (tenant, prefix, page) => commands.listDefinitions(tenant, prefix, page),
    listDefinitionVersions: (tenant, name, page) => commands.listDefinitionVersions(tenant, name, page),
    retireDefinition: (tenant, name) => commands.retireDefinition(tenant, name),
    definitionDiagram: (tenant, name, version) => commands.definitionDiagram(tenant, name, version),
    start: (req) => commands.start(req),
    startPlacement: (req) => commands.placement(req),
    update: (tenant, id, patch) => commands.update(tenant, id, patch),
    cancel: (tenant, id, reason, kind) => commands.cancel(tenant, id, reason, kind),
    pause: (tenant, id) => commands.pause(tenant, id),
    resume: (tenant, id) => commands.resume(tenant, id),
    retry: (tenant, id, note) => commands.retry(tenant, id, note),
    retryStep: (tenant, id, stepId) => commands.retryStep(tenant, id, stepId),
    signal: (tenant, id, name, s) => commands.signal(tenant, id, name, s),
    get: (tenant, id, kind) => reads.get(tenant, id, kind),
    list: (tenant, filter, page) => reads.list(tenant, filter, page),
    settled: (tenant, id, waitMs) => reads.settled(tenant, id, waitMs),
    steps: (tenant, id, page) => reads.steps(tenant, id, page),
    attempts: (tenant, id, stepId, page, kind) => reads.attempts(tenant, id, stepId, page, kind),
    stepAttempts: (tenant, ids, stepId) => reads.stepAttempts(tenant, ids, stepId),
    events: (tenant, id, since, page) => reads.events(tenant, id, since, page),
    logs: (tenant, id, filter, page) => reads.logs(tenant, id, filter, page),
    children: (tenant, id, page) => reads.children(tenant, id, page),
    executionDiagram: (tenant, id) => reads.executionDiagram(tenant, id),
    costs: (tenant, id) => reads.costs(tenant, id),
    status: (tenant) => reads.status(tenant),
    usage: (tenant) => reads.usage(tenant),
    queuedByWorkflow: (tenant) => sup.gate.queues.queuedByWorkflow(tenant),
    agents: () => sup.agents(),
    taskDefinition: (kind) => sup.bus.taskDefinition?.(kind),
    stepSchemas: async (tenant, name, stepId, version) =>
      stepSchemasOf(sup.registry.get(tenant, name, version).document, stepId, {
        kind: (kind) => sup.bus.taskDefinition?.(kind),
        workflowInput: (child, v) => {
          try {
            const doc = sup.registry.get(tenant, child, v).document as { inputSchema?: unknown };
            return isRecord(doc.inputSchema) ? doc.inputSchema : undefined;
          } catch (err) {
            // An unknown child workflow (or version) has no schema here: a start of it fails at run time.
            if (err instanceof NotFoundError) return undefined;
            throw err;
          }
        },
      }),
    onAgentEvent: (listener) => sup.onAgentEvent(listener),
    onEvent: (listener) => sup.onEvent(listener),
    recoveryStats: () => sup.recoveryStats(),
    rebuildStats: () => ({ ...sup.rebuilds }),
    onCommit: (listener) => sup.onCommit(listener),
    close: () => sup.close(),
  };
}
