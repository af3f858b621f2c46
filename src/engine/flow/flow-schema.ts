/** @module engine/flow/flow-schema — the JSON Schema of a flow document's structure (docs/flows.md). */
import { INPUT_PATH_PATTERN, PATH_PATTERN } from './expressions.ts';

/**
 * Schema nodes may carry `x-messages` (keyword → message) to replace ajv's wording; ajv ignores the
 * unknown keyword (strict: false) and the validator reads it from the error's parentSchema.
 */
type SchemaNode = Record<string, unknown>;

export const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$';
export const STEP_ID_PATTERN = '^[A-Za-z0-9_-]{1,64}$';
export const STEP_TYPES = ['task', 'wait', 'sleep', 'choice', 'parallel', 'workflow'] as const;

const RFC3339 = String.raw`\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})`;
/** A sleep's `until`: an RFC 3339 date-time or a path resolved when the step starts. */
export const UNTIL_PATTERN = `^(?:${RFC3339}|${PATH_PATTERN.slice(1, -1)})$`;
export const RFC3339_RE = new RegExp(`^${RFC3339}$`, 'u');

const posInt: SchemaNode = { type: 'integer', minimum: 1 };
const stepId: SchemaNode = {
  type: 'string',
  pattern: STEP_ID_PATTERN,
  'x-messages': { pattern: 'must be a step id: 1-64 characters of A-Z a-z 0-9 _ -' },
};
const flowName: SchemaNode = {
  type: 'string',
  pattern: NAME_PATTERN,
  'x-messages': { pattern: 'must be a name: 1-128 characters of A-Z a-z 0-9 _ . - (starting with a letter or digit)' },
};
const path: SchemaNode = {
  type: 'string',
  pattern: PATH_PATTERN,
  'x-messages': { pattern: 'must be a path such as $.input.x, $.steps.<id>.output.y or $.context.k' },
};
const ref = (name: string): SchemaNode => ({ $ref: `#/$defs/${name}` });

/** `concurrency`: the key is resolved when the execution starts, when only its input exists. */
const concurrency: SchemaNode = {
  type: 'object',
  required: ['limit'],
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, 'x-messages': { type: 'must be an integer of at least 1', minimum: 'must be at least 1' } },
    key: {
      type: 'string',
      pattern: INPUT_PATH_PATTERN,
      'x-messages': { pattern: 'must be a path into the input, such as $.input.customerId' },
    },
  },
  'x-messages': { additionalProperties: 'is not a concurrency field (limit, key)', type: 'must be an object: { limit, key? }' },
};

const retry: SchemaNode = {
  type: 'object',
  additionalProperties: false,
  properties: {
    maxAttempts: { type: 'integer', minimum: 1, maximum: 100 },
    backoff: { enum: ['exponential', 'fixed'] },
    initialMs: posInt,
    factor: { type: 'number', minimum: 1 },
    maxMs: posInt,
    jitter: { type: 'boolean' },
  },
  'x-messages': { additionalProperties: 'is not a retry field (maxAttempts, backoff, initialMs, factor, maxMs, jitter)' },
};

/** A step's `retry` policy, also the `retry` of POST /tasks. */
export const RETRY_SCHEMA: SchemaNode = retry;

// A string is one of the keywords; anything else must be `{ fallback: <stepId> }`.
const onError: SchemaNode = {
  if: { type: 'string' },
  then: {
    enum: ['fail', 'skip', 'compensate'],
    'x-messages': { enum: 'must be fail, skip, compensate or { fallback: <stepId> }' },
  },
  else: {
    type: 'object',
    required: ['fallback'],
    additionalProperties: false,
    properties: { fallback: stepId },
    'x-messages': {
      type: 'must be fail, skip, compensate or { fallback: <stepId> }',
      additionalProperties: 'is not allowed: onError objects only have `fallback`',
    },
  },
};

/** One step type's schema: the common fields plus its own, nothing else. */
function stepDef(type: string, required: readonly string[], own: SchemaNode, extra: SchemaNode = {}): SchemaNode {
  return {
    type: 'object',
    required: ['id', 'type', ...required],
    additionalProperties: false,
    properties: {
      id: stepId,
      // Only a compensation can fail this: elsewhere the step schema dispatched on `type` already.
      type: { const: type, 'x-messages': { const: 'compensations must be task steps' } },
      next: stepId,
      end: { type: 'boolean' },
      ...own,
    },
    'x-messages': { additionalProperties: `is not a field of a ${type} step` },
    ...extra,
  };
}

const failure = { timeoutMs: posInt, onError, compensate: stepId };

const ops = 'equals, notEquals, exists, gt, gte, lt, lte, in';

export const flowSchema: SchemaNode = {
  $id: 'https://actorflow.dev/schemas/flow-document.json',
  type: 'object',
  required: ['name', 'steps'],
  additionalProperties: false,
  properties: {
    name: flowName,
    version: posInt,
    description: { type: 'string' },
    inputSchema: { type: 'object' },
    timeoutMs: posInt,
    output: {},
    durability: { enum: ['journal', 'none'] },
    concurrency,
    steps: {
      type: 'array',
      minItems: 1,
      items: ref('step'),
      'x-messages': { minItems: 'must contain at least one step' },
    },
    compensations: { type: 'array', items: ref('task') },
  },
  'x-messages': {
    additionalProperties:
      'is not a field of a flow document (name, version, description, inputSchema, timeoutMs, output, durability, concurrency, steps, compensations)',
  },
  $defs: {
    // Dispatch on `type`: an unknown type fails the enum only, never every step schema at once.
    step: {
      type: 'object',
      required: ['id', 'type'],
      properties: {
        type: {
          enum: [...STEP_TYPES],
          'x-messages': { enum: `unknown step type; expected one of ${STEP_TYPES.join(', ')}` },
        },
      },
      allOf: STEP_TYPES.map((t) => ({
        if: { type: 'object', required: ['type'], properties: { type: { const: t } } },
        then: ref(t),
      })),
    },
    task: stepDef('task', ['agent'], {
      agent: { type: 'string', minLength: 1 },
      input: {},
      outputSchema: { type: 'object', description: 'JSON Schema (draft-07) the output must match, else the step fails with `output_invalid` (not retried).' },
      retry,
      ...failure,
    }),
    wait: stepDef('wait', ['signal'], {
      signal: { type: 'string', minLength: 1 },
      questions: { type: 'array' },
      ...failure,
    }),
    sleep: stepDef(
      'sleep',
      [],
      {
        ms: posInt,
        until: {
          type: 'string',
          pattern: UNTIL_PATTERN,
          'x-messages': { pattern: 'must be an RFC 3339 date-time or a path such as $.input.at' },
        },
      },
      {
        if: { required: ['ms'] },
        then: { not: { required: ['until'] }, 'x-messages': { not: 'set exactly one of `ms` or `until`, not both' } },
        else: { required: ['until'], 'x-messages': { required: 'set exactly one of `ms` or `until`' } },
      },
    ),
    choice: stepDef('choice', ['when'], {
      when: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          required: ['if', 'next'],
          additionalProperties: false,
          properties: { if: ref('condition'), next: stepId },
          'x-messages': { additionalProperties: 'is not allowed: a choice branch has `if` and `next`' },
        },
      },
      default: stepId,
    }),
    parallel: stepDef('parallel', ['branches'], {
      branches: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'array',
          minItems: 1,
          items: ref('step'),
          'x-messages': { minItems: 'a branch must contain at least one step' },
        },
        'x-messages': { minItems: 'must contain at least one branch' },
      },
      onError,
      compensate: stepId,
    }),
    workflow: stepDef('workflow', ['workflow'], {
      workflow: flowName,
      version: posInt,
      input: {},
      ...failure,
    }),
    condition: {
      type: 'object',
      if: { required: ['all'] },
      then: ref('conditionAll'),
      else: {
        if: { required: ['any'] },
        then: ref('conditionAny'),
        else: { if: { required: ['not'] }, then: ref('conditionNot'), else: ref('conditionLeaf') },
      },
    },
    conditionAll: {
      additionalProperties: false,
      properties: { all: { type: 'array', minItems: 1, items: ref('condition') } },
      'x-messages': { additionalProperties: 'is not allowed next to `all`' },
    },
    conditionAny: {
      additionalProperties: false,
      properties: { any: { type: 'array', minItems: 1, items: ref('condition') } },
      'x-messages': { additionalProperties: 'is not allowed next to `any`' },
    },
    conditionNot: {
      additionalProperties: false,
      properties: { not: ref('condition') },
      'x-messages': { additionalProperties: 'is not allowed next to `not`' },
    },
    conditionLeaf: {
      required: ['path'],
      minProperties: 2,
      additionalProperties: false,
      properties: {
        path,
        equals: {},
        notEquals: {},
        exists: { type: 'boolean' },
        gt: { type: 'number' },
        gte: { type: 'number' },
        lt: { type: 'number' },
        lte: { type: 'number' },
        in: { type: 'array' },
      },
      'x-messages': {
        required: 'is required: a condition is { path, <operator> } or { all | any | not }',
        minProperties: `needs an operator: ${ops}`,
        additionalProperties: `is not a condition field (path, ${ops}, all, any, not)`,
      },
    },
  },
};
