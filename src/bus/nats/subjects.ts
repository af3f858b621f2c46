/**
 * @module bus/nats/subjects — subject and stream names; every name derives from one configurable prefix.
 *
 * The wire protocol between the engine (nats-bus.ts) and agents (nats-worker.ts) is described for agents in
 * other languages in docs/agent-protocol.md, the one description: change it with these names and constants.
 * In short, every payload msgpack (types in src/bus/types.ts): agents publish heartbeats, pull tasks from the
 * JetStream work queue `<P>_TASKS` (one durable consumer per kind) or take them by direct request, publish
 * `taken` and logs, send results by request (acked after the engine's answer; to the task's `resultSubject`
 * when it names one, cluster mode's partition owner) and obey `cancel`.
 */

export const DEFAULT_PREFIX = 'actorflow';
/** An agent is offline after this many missed heartbeats. */
export const HEARTBEAT_MS = 1000;
export const MISSED_HEARTBEATS = 3;
/** JetStream redelivers a task whose agent stopped acking (or sending `working`) for this long. */
export const DEFAULT_ACK_WAIT_MS = 10_000;
/** A direct request unanswered for this long goes to the JetStream work queue (the agent may still run it: at least once). */
export const DIRECT_REPLY_MS = 100;

/** Subject tokens may not hold `.`, `*`, `>` or spaces: anything else is escaped as `~XX`. */
export function token(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]/g, (c) => `~${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export interface Subjects {
  readonly stream: string;
  readonly tasksAll: string;
  task(tenant: string, kind: string): string;
  /** Consumer filter: every tenant's tasks of one kind. */
  kindFilter(kind: string): string;
  durable(kind: string): string;
  /** Where one agent answers direct task requests (the fast path). */
  direct(agentId: string): string;
  /** Every agent's direct subject (observers). */
  readonly directAll: string;
  /** Where results go unless the task names another subject (`TaskMessage.resultSubject`). */
  readonly results: string;
  /** Cluster mode: the results of one partition's executions, listened to by the node serving it. */
  resultsOf(partition: number): string;
  readonly taken: string;
  readonly logs: string;
  readonly cancel: string;
  readonly heartbeat: string;
  event(workflow: string, executionId: string): string;
}

export function subjects(prefix: string = DEFAULT_PREFIX): Subjects {
  const p = prefix;
  return {
    stream: `${token(p).replace(/-/g, '_').toUpperCase()}_TASKS`,
    tasksAll: `${p}.tasks.>`,
    task: (tenant, kind) => `${p}.tasks.${token(tenant)}.${token(kind)}`,
    kindFilter: (kind) => `${p}.tasks.*.${token(kind)}`,
    durable: (kind) => `kind_${token(kind).replace(/~/g, '_')}`,
    direct: (agentId) => `${p}.direct.${token(agentId)}`,
    directAll: `${p}.direct.*`,
    results: `${p}.results`,
    resultsOf: (partition) => `${p}.results.${partition}`,
    taken: `${p}.taken`,
    logs: `${p}.logs`,
    cancel: `${p}.cancel`,
    heartbeat: `${p}.agents.heartbeat`,
    event: (workflow, executionId) => `${p}.events.${token(workflow)}.${executionId}`,
  };
}
