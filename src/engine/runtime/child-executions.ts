/**
 * @module engine/runtime/child-executions — `workflow` steps: a child execution started for a step of its parent
 * (nested at most `LIMITS.maxWorkflowDepth` deep, in the parent's trace and partition), cancelled with the step,
 * and its end delivered to the parent's step as `CHILD_DONE` or `CHILD_FAILED`.
 */
import { ActorflowError, ErrorCode } from '../../common/errors.ts';
import { TERMINAL_STATUSES } from '../../common/execution.ts';
import { LIMITS } from '../../common/flow.ts';
import { stepTraceparentIn } from '../../tracing/trace-context.ts';
import { inputIssues } from '../definitions/definitions.ts';
import { type LiveExecution, traceOf } from './live-execution.ts';
import type { Supervisor } from './supervisor.ts';

/** Starts the child execution of a `workflow` step in a later turn; a child that cannot start fails the step (not retried). */
export function startChild(sup: Supervisor, executionId: string, stepId: string, workflow: string, version: number | null, input: unknown, at: number): void {
  const parent = sup.live.get(executionId);
  if (!parent) return;
  // A workflow that starts itself (or A -> B -> A) nests without end: cut at a depth.
  let depth = 1;
  for (let p = parent.parentId ? sup.live.get(parent.parentId) : undefined; p; p = p.parentId ? sup.live.get(p.parentId) : undefined) depth++;
  // In a later turn, not a microtask: a chain of children that finish at once must let the loop turn.
  setImmediate(() => {
    try {
      if (depth >= LIMITS.maxWorkflowDepth) throw new ActorflowError('workflow_depth_exceeded', `child workflows nest more than ${LIMITS.maxWorkflowDepth} levels deep`);
      const row = sup.registry.get(parent.tenant, workflow, version ?? undefined);
      const def = sup.registry.load1(row);
      // As a start over the API is checked: a child whose input fails its inputSchema never starts (the step fails, not retried).
      if (def.validateInput && !def.validateInput(input ?? null)) {
        const first = inputIssues(def.validateInput)[0];
        throw new ActorflowError(ErrorCode.inputInvalid, `the input does not match ${workflow}'s inputSchema${first ? ` (${first.path || '/'}: ${first.message})` : ''}`);
      }
      // The child joins the parent's trace, under the span of the step that started it.
      const pctx = parent.context();
      const trace = { traceparent: stepTraceparentIn(traceOf(parent.traceCell()), parent.id, stepId, pctx.steps[stepId]?.attempt ?? 1), tracestate: pctx.tracestate ?? null };
      // A child counts against its workflow's concurrency limit but never queues: its parent waits on it mid-flight.
      const concurrency = sup.gate.membership(def, input);
      const slot = concurrency === null ? null : sup.gate.takeAlways(parent.tenant, def.row.name, concurrency);
      const child = sup.spawn({ tenant: parent.tenant, def, input, labels: {}, parentId: parent.id, parentStepId: stepId, idempotencyKey: null, requestHash: null, dynamicDoc: null, scope: parent.scope, ...trace, concurrency, slot });
      parent.children.set(stepId, child.id);
    } catch (err) {
      const e = err instanceof ActorflowError ? err : new ActorflowError('child_start_failed', String(err));
      sup.deliver(parent, { type: 'CHILD_FAILED', stepId, childId: '', error: { code: e.code, message: e.message, retryable: false }, at });
    }
  });
}

/** Cancels the child execution of a step whose parent ended or left it (it may be passivated). */
export function cancelChild(sup: Supervisor, executionId: string, stepId: string): void {
  const childId = sup.live.get(executionId)?.children.get(stepId);
  if (!childId) return;
  // The child may have been passivated (waiting on its own signal or timer).
  sup.withLive(childId, (child) => {
    if (!TERMINAL_STATUSES.has(child.status)) sup.deliver(child, { type: 'CANCEL', reason: 'parent execution ended', at: sup.clock.now() });
  });
}

/** A child execution ended: its parent's step completes with its output, or fails with its error. */
export function childEnded(sup: Supervisor, rec: LiveExecution): void {
  if (!rec.parentId || !rec.parentStepId) return;
  const parent = sup.live.get(rec.parentId);
  if (!parent || parent.children.get(rec.parentStepId) !== rec.id) return;
  const at = sup.clock.now();
  if (rec.status === 'completed') sup.deliver(parent, { type: 'CHILD_DONE', stepId: rec.parentStepId, childId: rec.id, output: rec.output, at });
  else {
    const error = rec.error ?? { code: rec.status, message: `child execution ${rec.status}` };
    sup.deliver(parent, { type: 'CHILD_FAILED', stepId: rec.parentStepId, childId: rec.id, error: { code: error.code, message: error.message, retryable: false }, at });
  }
}
