/**
 * @module engine/definitions/step-schemas — the input and output JSON Schemas of one step of a definition
 * (`GET /workflow-definitions/{name}/steps/{stepId}/schema`): a task's input as its kind's agents
 * declare it, its output as the step declares it (else as the kind does); a child workflow's input
 * as that workflow's `inputSchema`. Null where nothing is declared.
 */
import type { KindDefinition } from '../../bus/types.ts';
import { ErrorCode, NotFoundError } from '../../common/errors.ts';
import type { FlowDocument, Step, TaskStep } from '../../common/flow.ts';
import { isMachineDocument } from '../code-machines/machine-info.ts';

export type JsonSchemaObject = Record<string, unknown>;

export interface StepSchemas {
  readonly input: JsonSchemaObject | null;
  readonly output: JsonSchemaObject | null;
}

export interface StepSchemaSources {
  /** What the agents of a kind declare (the bus's view, now). */
  readonly kind: (kind: string) => KindDefinition | undefined;
  /** The `inputSchema` of a workflow a `workflow` step starts (undefined: none, or no such workflow). */
  readonly workflowInput: (name: string, version: number | undefined) => JsonSchemaObject | undefined;
}

/** The step `stepId` of a flow document, nested and compensation steps included. */
function findStep(doc: FlowDocument, stepId: string): Step | undefined {
  const inList = (steps: readonly Step[]): Step | undefined => {
    for (const step of steps) {
      if (step.id === stepId) return step;
      if (step.type !== 'parallel') continue;
      for (const branch of step.branches) {
        const found = inList(branch);
        if (found !== undefined) return found;
      }
    }
    return undefined;
  };
  return inList(doc.steps) ?? inList(doc.compensations ?? ([] as readonly TaskStep[]));
}

const orNull = (s: JsonSchemaObject | undefined): JsonSchemaObject | null => s ?? null;

/** The schemas of step `stepId` of a stored document (a flow document or a registered machine). @throws NotFoundError `step_not_found` */
export function stepSchemasOf(document: unknown, stepId: string, from: StepSchemaSources): StepSchemas {
  const missing = () => new NotFoundError(ErrorCode.stepNotFound, `no step ${JSON.stringify(stepId)} in this definition`);
  if (isMachineDocument(document)) {
    // A machine's task steps are its invokes: their kinds are all that is known of them.
    const kind = Object.hasOwn(document.tasks, stepId) ? document.tasks[stepId] : undefined;
    if (kind === undefined) throw missing();
    const def = from.kind(kind);
    return { input: orNull(def?.inputSchema), output: orNull(def?.outputSchema) };
  }
  const step = findStep(document as FlowDocument, stepId);
  if (step === undefined) throw missing();
  if (step.type === 'task') {
    const def = from.kind(step.agent);
    return { input: orNull(def?.inputSchema), output: orNull(step.outputSchema ?? def?.outputSchema) };
  }
  if (step.type === 'workflow') return { input: orNull(from.workflowInput(step.workflow, step.version)), output: null };
  return { input: null, output: null };
}
