/**
 * @module engine/runtime/task-checks — task inputs and outputs checked against JSON Schemas: a task's input
 * against the `inputSchema` its kind's agents declare (before it is sent: `input_invalid`), an agent's
 * output against the step's own `outputSchema` (`output_invalid`). Neither is retried: the same
 * input fails the same way, and a wrong output is the agent's answer, not a transient failure.
 *
 * Validators come from the bounded content-keyed cache (schema-cache.ts), so equal schemas compile
 * once. A kind without a declared `inputSchema` costs one map lookup per dispatch.
 */
import type { ValidateFunction } from 'ajv';
import type { KindDefinition } from '../../bus/types.ts';
import { ErrorCode, type Issue, type StepError } from '../../common/errors.ts';
import type { FlowDocument, Step, TaskStep } from '../../common/flow.ts';
import { inputSchemas, schemaIssues } from '../definitions/schema-cache.ts';

/** Issues named in a step error's message (all of them are in its `data.errors`). */
const MESSAGE_ISSUES = 3;

function failure(code: string, what: string, issues: Issue[]): StepError {
  const shown = issues.slice(0, MESSAGE_ISSUES).map((i) => `${i.path} ${i.message}`);
  if (issues.length > MESSAGE_ISSUES) shown.push(`and ${issues.length - MESSAGE_ISSUES} more`);
  return { code, message: `${what}: ${shown.join('; ')}`, retryable: false, data: { errors: issues } };
}

/** The validator compiled for the schema a kind declared last (null: that schema does not compile). */
interface KindValidator {
  readonly schema: Record<string, unknown>;
  readonly validate: ValidateFunction | null;
}

/** Inputs checked against the `inputSchema` agents declare for their kinds. */
export class KindInputs {
  private readonly byKind = new Map<string, KindValidator>();

  /**
   * @param definitionOf the bus's `taskDefinition` (the same object while a declaration is unchanged)
   * @param warn told once per kind and schema that does not compile (its inputs then go unchecked)
   */
  constructor(
    private readonly definitionOf: ((kind: string) => KindDefinition | undefined) | undefined,
    private readonly warn: (message: string, data: Record<string, unknown>) => void,
  ) {}

  /** Why `input` may not be sent to `kind` (`input_invalid`), or null. */
  check(kind: string, input: unknown): StepError | null {
    const schema = this.definitionOf?.(kind)?.inputSchema;
    if (schema === undefined) return null;
    const validate = this.validatorOf(kind, schema);
    if (validate === null || validate(input)) return null;
    return failure(ErrorCode.inputInvalid, `the input does not match the inputSchema of agent kind ${JSON.stringify(kind)}`, schemaIssues(validate, '/input'));
  }

  private validatorOf(kind: string, schema: Record<string, unknown>): ValidateFunction | null {
    const known = this.byKind.get(kind);
    if (known?.schema === schema) return known.validate;
    let validate: ValidateFunction | null = null;
    try {
      validate = inputSchemas.compile(schema);
    } catch (err) {
      this.warn('an agent kind declares an inputSchema that does not compile: its inputs are not checked', { kind, err: String(err) });
    }
    this.byKind.set(kind, { schema, validate });
    return validate;
  }
}

/** Step id → the validator of its `outputSchema`, for every task step that has one (compensations too); null when none has. */
export type OutputChecks = ReadonlyMap<string, ValidateFunction> | null;

/** The output validators of a (valid) flow document. @throws Error when an outputSchema does not compile (validateFlow reports it first) */
export function outputChecksOf(doc: FlowDocument): OutputChecks {
  const checks = new Map<string, ValidateFunction>();
  const visit = (steps: readonly Step[]): void => {
    for (const step of steps) {
      if (step.type === 'task' && step.outputSchema !== undefined) checks.set(step.id, inputSchemas.compile(step.outputSchema));
      else if (step.type === 'parallel') for (const branch of step.branches) visit(branch);
    }
  };
  visit(doc.steps);
  visit(doc.compensations ?? ([] as readonly TaskStep[]));
  return checks.size === 0 ? null : checks;
}

/** Why `output` is not what step `stepId` declares (`output_invalid`), or null. */
export function checkOutput(checks: OutputChecks, stepId: string, output: unknown): StepError | null {
  const validate = checks?.get(stepId);
  if (validate === undefined || validate(output)) return null;
  return failure(ErrorCode.outputInvalid, `the output of step ${JSON.stringify(stepId)} does not match its outputSchema`, schemaIssues(validate, '/output'));
}
