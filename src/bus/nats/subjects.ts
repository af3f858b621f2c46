/** @module bus/nats/subjects — subject and stream names; every name derives from one configurable prefix. */

export const DEFAULT_PREFIX = 'actorflow';
/** An agent is offline after this many missed heartbeats. */
export const HEARTBEAT_MS = 1000;
export const MISSED_HEARTBEATS = 3;
/** JetStream redelivers a task whose agent stopped acking (or sending `working`) for this long. */
export const DEFAULT_ACK_WAIT_MS = 10_000;

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
  readonly results: string;
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
    results: `${p}.results`,
    taken: `${p}.taken`,
    logs: `${p}.logs`,
    cancel: `${p}.cancel`,
    heartbeat: `${p}.agents.heartbeat`,
    event: (workflow, executionId) => `${p}.events.${token(workflow)}.${executionId}`,
  };
}
