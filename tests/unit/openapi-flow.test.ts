/**
 * The flow document's OpenAPI schemas (api/routing/openapi-flow.ts) are derived from the engine's validator
 * schema: every definition becomes a component, steps a discriminated `oneOf`, and documents the
 * engine accepts or refuses for their structure are accepted or refused alike.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { FLOW_DOCUMENT, flowComponentSchemas } from '../../src/api/routing/openapi-flow.ts';
import { STEP_TYPES, flowSchema } from '../../src/engine/flow/flow-schema.ts';
import { validateFlow } from '../../src/engine/flow/validate-flow.ts';

const components = flowComponentSchemas();
// ajv's `discriminator` takes no `mapping` (which OpenAPI tools need here): the oneOf alone decides.
const ajv = new Ajv2020({ strict: false, allErrors: true });
const validateOpenApi = ajv.compile({ $ref: `#/components/schemas/${FLOW_DOCUMENT}`, components: { schemas: components } });

type Doc = Record<string, unknown>;

/** Every step type and field, both `onError` forms, every condition form, `ms` and `until` sleeps. */
const VALID: readonly Doc[] = [
  { name: 'one', steps: [{ id: 'a', type: 'task', agent: 'echo' }] },
  {
    name: 'all-of-it',
    version: 3,
    description: 'every field',
    inputSchema: { type: 'object' },
    timeoutMs: 60_000,
    output: { x: '$.steps.a.output' },
    durability: 'journal',
    steps: [
      {
        id: 'a',
        type: 'task',
        agent: 'echo',
        input: { v: '$.input.v' },
        retry: { maxAttempts: 3, backoff: 'exponential', initialMs: 10, factor: 2, maxMs: 100, jitter: true },
        timeoutMs: 1000,
        onError: { fallback: 'b' },
        compensate: 'undo',
      },
      { id: 'b', type: 'wait', signal: 'go', questions: [{ id: 'q' }], timeoutMs: 5000, onError: 'skip' },
      { id: 'c', type: 'sleep', ms: 10 },
      { id: 'd', type: 'sleep', until: '$.input.at' },
      {
        id: 'e',
        type: 'choice',
        when: [
          { if: { path: '$.input.v', equals: 1 }, next: 'f' },
          { if: { all: [{ path: '$.input.v', gt: 0 }, { not: { path: '$.input.w', exists: true } }] }, next: 'g' },
          { if: { any: [{ path: '$.input.v', in: [1, 2] }, { path: '$.input.v', lte: 9 }] }, next: 'g' },
        ],
        default: 'g',
      },
      { id: 'f', type: 'parallel', branches: [[{ id: 'f1', type: 'task', agent: 'echo' }], [{ id: 'f2', type: 'sleep', ms: 5 }]], onError: 'compensate', compensate: 'undo', next: 'g' },
      { id: 'g', type: 'workflow', workflow: 'child', version: 1, input: {}, timeoutMs: 9000, onError: 'fail', end: true },
    ],
    compensations: [{ id: 'undo', type: 'task', agent: 'echo' }],
  },
];

/** Refused by the engine's structure checks, each for one reason. */
const INVALID: readonly [string, Doc][] = [
  ['unknown step type', { name: 'x', steps: [{ id: 'a', type: 'taks', agent: 'echo' }] }],
  ['a field of another step type', { name: 'x', steps: [{ id: 'a', type: 'wait', signal: 's', agent: 'echo' }] }],
  ['a task without agent', { name: 'x', steps: [{ id: 'a', type: 'task' }] }],
  ['a sleep with ms and until', { name: 'x', steps: [{ id: 'a', type: 'sleep', ms: 1, until: '$.input.at' }] }],
  ['a sleep with neither', { name: 'x', steps: [{ id: 'a', type: 'sleep' }] }],
  ['an onError keyword that does not exist', { name: 'x', steps: [{ id: 'a', type: 'task', agent: 'echo', onError: 'retry' }] }],
  ['an onError object without fallback', { name: 'x', steps: [{ id: 'a', type: 'task', agent: 'echo', onError: { next: 'a' } }] }],
  ['a condition without operator', { name: 'x', steps: [{ id: 'a', type: 'choice', when: [{ if: { path: '$.input.v' }, next: 'a' }] }] }],
  ['a condition mixing all and a path', { name: 'x', steps: [{ id: 'a', type: 'choice', when: [{ if: { all: [{ path: '$.input.v', equals: 1 }], path: '$.input.v' }, next: 'a' }] }] }],
  ['a compensation that is not a task', { name: 'x', steps: [{ id: 'a', type: 'task', agent: 'echo' }], compensations: [{ id: 'u', type: 'wait', signal: 's' }] }],
  ['an unknown document field', { name: 'x', steps: [{ id: 'a', type: 'task', agent: 'echo' }], extra: 1 }],
  ['no steps', { name: 'x', steps: [] }],
  ['a bad name', { name: '-x', steps: [{ id: 'a', type: 'task', agent: 'echo' }] }],
];

describe('flow document component schemas', () => {
  it('has one component per engine definition, steps as a oneOf discriminated on type, no validator-only keywords', () => {
    const defs = Object.keys(flowSchema['$defs'] as object);
    expect(Object.keys(components)).toHaveLength(defs.length + 1);
    const step = components['FlowStep'] as { oneOf: { $ref: string }[]; discriminator: { propertyName: string; mapping: Record<string, string> } };
    expect(step.discriminator.propertyName).toBe('type');
    expect(Object.keys(step.discriminator.mapping)).toEqual([...STEP_TYPES]);
    for (const type of STEP_TYPES) {
      const ref = step.discriminator.mapping[type] ?? '';
      expect(step.oneOf).toContainEqual({ $ref: ref });
      const schema = components[ref.replace('#/components/schemas/', '')] as { properties: { type: unknown }; required: string[] };
      expect(schema.properties.type).toEqual({ const: type });
      expect(schema.required).toContain('type');
    }
    const text = JSON.stringify(components);
    expect(text).not.toContain('x-messages');
    expect(text).not.toContain('#/$defs/');
  });

  it('accepts every document the engine accepts', () => {
    for (const doc of VALID) {
      expect(validateFlow(doc), String(doc['name'])).toEqual([]);
      expect(validateOpenApi(doc), `${String(doc['name'])}: ${ajv.errorsText(validateOpenApi.errors)}`).toBe(true);
    }
  });

  it('refuses documents the engine refuses for their structure', () => {
    for (const [why, doc] of INVALID) {
      expect(validateFlow(doc).length, why).toBeGreaterThan(0);
      expect(validateOpenApi(doc), why).toBe(false);
    }
  });
});
