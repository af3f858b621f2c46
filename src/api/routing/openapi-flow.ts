/**
 * @module api/routing/openapi-flow — the flow document as OpenAPI component schemas, derived from the JSON
 * Schema the engine validates with (engine/flow/flow-schema.ts), so the format is written down once.
 *
 * The engine's schema is shaped for error messages (a step dispatches on `type` through
 * `if`/`then`, messages ride in `x-messages`); generators type unions, so the derivation turns
 * a dispatch on a `const` into a `oneOf` with a `discriminator`, and an `if`/`then`/`else`
 * between alternatives (a string or an object, one condition form or another) into an `anyOf`.
 * An `if`/`then`/`else` that only adds constraints to one object (a sleep has `ms` or `until`)
 * stays as it is: valid JSON Schema, which generators type a little looser.
 */
import { STEP_TYPES, flowSchema } from '../../engine/flow/flow-schema.ts';
import { isRecord } from '../../common/json.ts';
import type { JsonSchema } from './route-spec.ts';

/** Component name of the whole document. */
export const FLOW_DOCUMENT = 'FlowDocument';

const DEFS_PREFIX = '#/$defs/';
const COMPONENTS_PREFIX = '#/components/schemas/';
/** Keywords that mean something only to the engine's validator. */
const DROPPED: ReadonlySet<string> = new Set(['x-messages', '$id', '$defs']);
/** Keywords by which a schema describes a value on its own (an alternative, not just a constraint). */
const STANDALONE = ['type', 'enum', 'const', '$ref', 'if'];

type Node = Readonly<Record<string, unknown>>;

const capitalized = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** `task` → `FlowTaskStep`, `condition` → `FlowCondition`. */
function componentName(def: string): string {
  return (STEP_TYPES as readonly string[]).includes(def) ? `Flow${capitalized(def)}Step` : `Flow${capitalized(def)}`;
}

const componentRef = (ref: string): string => (ref.startsWith(DEFS_PREFIX) ? COMPONENTS_PREFIX + componentName(ref.slice(DEFS_PREFIX.length)) : ref);

/** `{ if: { properties: { <p>: { const: v } } }, then: { $ref } }`: one case of a dispatch on `<p>`. */
function dispatchCase(item: unknown): { property: string; value: string; ref: string } | undefined {
  if (!isRecord(item) || !isRecord(item['if']) || !isRecord(item['then']) || typeof item['then']['$ref'] !== 'string') return undefined;
  const props = item['if']['properties'];
  if (!isRecord(props)) return undefined;
  const entries = Object.entries(props);
  const [property, schema] = entries[0] ?? [];
  if (entries.length !== 1 || property === undefined || !isRecord(schema) || typeof schema['const'] !== 'string') return undefined;
  return { property, value: schema['const'], ref: componentRef(item['then']['$ref']) };
}

/** A dispatch (`allOf` of `if const then $ref` on one property) as a discriminated `oneOf`; else undefined. */
function discriminated(node: Node): JsonSchema | undefined {
  const all = node['allOf'];
  if (!Array.isArray(all) || all.length === 0) return undefined;
  const cases = all.map(dispatchCase);
  if (cases.some((c) => c === undefined)) return undefined;
  const known = cases as { property: string; value: string; ref: string }[];
  const property = known[0]?.property ?? '';
  if (known.some((c) => c.property !== property)) return undefined;
  return {
    ...(typeof node['description'] === 'string' ? { description: node['description'] } : {}),
    oneOf: known.map((c) => ({ $ref: c.ref })),
    discriminator: { propertyName: property, mapping: Object.fromEntries(known.map((c) => [c.value, c.ref])) },
  };
}

const standalone = (v: unknown): boolean => isRecord(v) && STANDALONE.some((k) => k in v);

/** The `then` branch with its `if` folded in: a `$ref` keeps its target whole (`allOf`), the `if`'s keywords beside it. */
function withCondition(condition: Node, branch: JsonSchema): JsonSchema {
  return typeof branch['$ref'] === 'string' ? { allOf: [branch], ...condition } : { ...condition, ...branch };
}

/** `if`/`then`/`else` between alternatives as their `anyOf` (a nested `else` chain flattened). */
function alternatives(node: Node): JsonSchema[] | undefined {
  const { if: condition, then, else: otherwise } = node;
  if (!isRecord(condition) || !standalone(then) || !standalone(otherwise)) return undefined;
  const first = withCondition(transform(condition) as Node, transform(then) as JsonSchema);
  const rest = isRecord(otherwise) && 'if' in otherwise ? alternatives(otherwise) : undefined;
  return [first, ...(rest ?? [transform(otherwise) as JsonSchema])];
}

/** One node of the engine's schema, rewritten for OpenAPI (recursively). */
function transform(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(transform);
  if (!isRecord(value)) return value;
  const dispatch = discriminated(value);
  if (dispatch !== undefined) return dispatch;
  const anyOf = alternatives(value);
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    if (DROPPED.has(key)) continue;
    if (anyOf !== undefined && (key === 'if' || key === 'then' || key === 'else')) continue;
    out[key] = key === '$ref' && typeof child === 'string' ? componentRef(child) : transform(child);
  }
  if (anyOf !== undefined) out['anyOf'] = anyOf;
  return out;
}

/**
 * The flow document's component schemas: `FlowDocument` and one per definition of the engine's
 * schema (`FlowStep`, a discriminated `oneOf` of `FlowTaskStep`, `FlowWaitStep`, …; `FlowCondition`, …).
 */
export function flowComponentSchemas(): Readonly<Record<string, JsonSchema>> {
  const defs = isRecord(flowSchema['$defs']) ? flowSchema['$defs'] : {};
  const out: Record<string, JsonSchema> = {
    [FLOW_DOCUMENT]: { ...(transform(flowSchema) as JsonSchema), description: 'A flow document: a workflow as data (JSON or YAML), checked by the engine on registration.' },
  };
  for (const [name, def] of Object.entries(defs)) out[componentName(name)] = transform(def) as JsonSchema;
  return out;
}
