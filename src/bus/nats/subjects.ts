/**
 * @module bus/nats/subjects — subject and stream names; every name derives from one configurable prefix.
 *
 * The wire protocol between the engine (src/bus/nats/nats-bus.ts) and agents (src/bus/nats/nats-worker.ts),
 * for agent SDKs in other languages. Every payload is msgpack; the types are in src/bus/types.ts. `<p>` is
 * the prefix (default `actorflow`); `token(x)` escapes a value for use as one subject token.
 *
 * | subject | kind | from → to | payload → reply |
 * |---|---|---|---|
 * | `<p>.agents.heartbeat` | publish, every `HEARTBEAT_MS` | agent → engines | `Heartbeat` |
 * | `<p>.direct.<token(agentId)>` | core request | engine → one agent | `TaskMessage` → `DirectReply` at once |
 * | `<p>.tasks.<token(tenant)>.<token(kind)>` | JetStream publish (stream `<P>_TASKS`, work queue, `Nats-Msg-Id` = taskId) | engine → agents of the kind | `TaskMessage` |
 * | `<p>.taken` | publish | agent → engines | `TaskTaken` (JetStream path only: on the direct path the reply says it) |
 * | `<p>.logs` | publish | agent → engines | `StepLog` |
 * | `<p>.results` | request, queue group `engine` | agent → one engine | `TaskResult` → `{ ok: true }` once the result is journaled |
 * | `<p>.cancel` | publish | engine → every agent | `{ taskId }`: abort it if running, skip it if it comes later |
 * | `<p>.events.<token(workflow)>.<executionId>` | publish | engine → anyone | `EventView` (committed events) |
 *
 * **Two ways a task reaches an agent.**
 * - *Direct (fast path).* An agent that sets `direct: true` in its heartbeats answers requests on
 *   `<p>.direct.<token(its id)>`. The engine sends a task there when, by its own count, the agent has a free
 *   slot for the kind: the agent's last `inFlight` minus its `inFlightDirect`, plus the tasks this engine sent
 *   it directly and has no result of yet (counted at send time, so a burst does not overfill one agent);
 *   among those it picks the least loaded (in-flight / capacity). The agent answers at once, before running
 *   anything: `{ taskId, taken: true, agentId }` (it counts as `taken`) or `{ taskId, taken: false, reason }`
 *   with reason `full` (no free slot, or a JetStream task is waiting for one), `stopping` (draining),
 *   `kind` (not served) or `cancelled` (a cancel came first). Nothing is stored in NATS: the engine's journal
 *   recorded the step's start before the dispatch.
 * - *JetStream (backlog).* When no agent has a free slot, when the direct request is refused or unanswered
 *   within `DIRECT_REPLY_MS` (also "no responders"), the task is published to the work queue as before. An
 *   agent pulls only as many as it has free slots, publishes `taken`, works (`+WPI`) while it runs, and acks
 *   after the engine answered its result (nak when it could not report).
 *
 * One concurrency limit covers both: an agent runs at most `capacity` handlers, whichever path brought them,
 * and refuses direct tasks while a task it pulled from JetStream waits for a slot.
 *
 * **Loss.** The engine keeps every task an agent took directly until that agent's result arrives. When the
 * agent leaves (a heartbeat with `leaving: true`, after it finished its tasks) or is lost (no heartbeat for
 * `MISSED_HEARTBEATS` intervals), its unfinished direct tasks are published to the JetStream work queue with
 * the same `taskId` and attempt: at least once; the engine applies one result per (execution, step, attempt).
 * Results take the same path on both: the engine answers the result request after its journal commit.
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
    direct: (agentId) => `${p}.direct.${token(agentId)}`,
    directAll: `${p}.direct.*`,
    results: `${p}.results`,
    taken: `${p}.taken`,
    logs: `${p}.logs`,
    cancel: `${p}.cancel`,
    heartbeat: `${p}.agents.heartbeat`,
    event: (workflow, executionId) => `${p}.events.${token(workflow)}.${executionId}`,
  };
}
