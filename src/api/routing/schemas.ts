/**
 * @module api/routing/schemas — reusable schema fragments of the route tables (pure data). They are
 * TypeBox schemas: one declaration is both the JSON Schema (ajv, OpenAPI) and, by `Static<>`, the
 * type a handler receives.
 */
import { Kind, type TProperties, type TSchema, Type } from '@sinclair/typebox';
import { ExecutionStatus } from '../../common/execution.ts';
import { PRIORITY } from '../../common/flow.ts';
import type { JsonSchema } from './route-spec.ts';

/** The keys TypeBox adds, in the order the schemas (and so the OpenAPI document) have always been written. */
const FRONT: readonly string[] = ['type', 'properties', 'required', 'items'];

/**
 * TypeBox puts options before `type`; this puts `type`, `properties`, `required`, `items` first again (in place), so the document does not change.
 * `Type.Unsafe` schemas are left as written.
 */
export function inOrder<T extends TSchema>(schema: T): T {
  if (schema[Kind] === 'Unsafe') return schema;
  const s: Record<string, unknown> = schema;
  for (const key of [...FRONT, ...Object.keys(s).filter((k) => !FRONT.includes(k))]) {
    if (!Object.hasOwn(s, key)) continue;
    const value = s[key];
    delete s[key];
    s[key] = value;
  }
  return schema;
}

/** An object schema that rejects unknown fields; required: the properties not wrapped in `Type.Optional`. */
export function shape<P extends TProperties>(properties: P, extra: JsonSchema = {}) {
  for (const value of Object.values(properties)) inOrder(value);
  return inOrder(Type.Object(properties, { additionalProperties: false, ...extra }));
}

/** A string enum as JSON Schema `enum` (not TypeBox's `anyOf` of constants: its errors read "must be one of"). */
export function stringEnum<const T extends string>(values: readonly T[], extra: JsonSchema = {}) {
  return Type.Unsafe<T>({ type: 'string', enum: values, ...extra });
}

/** An object schema that rejects unknown fields, for the route tables not yet declared with `shape` (their handlers read untyped input). */
export function object(properties: Readonly<Record<string, JsonSchema>>, required: readonly string[] = [], extra: JsonSchema = {}): JsonSchema {
  return {
    type: 'object',
    properties,
    ...(required.length > 0 ? { required } : {}),
    additionalProperties: false,
    ...extra,
  };
}

export const EMPTY_OBJECT = shape({});

export const ANY = Type.Unknown({ description: 'Any JSON value.' });

/** Any JSON object (its fields are the caller's); `additionalProperties` said, as generated clients read a bare `{ type: 'object' }` as an empty one. */
export const anyObject = Type.Unsafe<Record<string, unknown>>({ type: 'object', additionalProperties: true });

export const limit = inOrder(Type.Integer({ minimum: 1, maximum: 1000, default: 50, description: 'Page size (1–1000).' }));

export const cursor = inOrder(Type.String({ maxLength: 1024, description: 'Opaque cursor: the `nextCursor` of the previous page.' }));

/** `?limit=&cursor=` of every list. */
export const PAGE = { limit: Type.Optional(limit), cursor: Type.Optional(cursor) };

export const positiveInt = inOrder(Type.Integer({ minimum: 1 }));

/** `priority` of a start (body field, schedule field, `?priority=` of hooks): −10..10, higher first in a concurrency queue. */
export const priority = inOrder(
  Type.Integer({ minimum: PRIORITY.min, maximum: PRIORITY.max, description: 'Order in its workflow\'s concurrency queue when a limit holds it: higher first, then oldest first (−10..10, default 0).' }),
);

export const shortString = inOrder(Type.String({ minLength: 1, maxLength: 200 }));

export const longString = inOrder(Type.String({ maxLength: 10_000 }));

/** An id of `prefix_` + a ULID (Crockford base 32): anything else cannot exist, so its routes answer 404 unread. */
export function ulidId(prefix: string, what: string) {
  return inOrder(Type.String({ pattern: `^${prefix}_[0-9A-HJKMNP-TV-Z]{26}$`, description: `${what}: \`${prefix}_\` + ULID.` }));
}

/** Same shape as `parseExecutionId` in src/common/ids.ts: anything else cannot exist (404). */
export const executionId = ulidId('ex', 'Execution id');

export const definitionName = inOrder(Type.String({ minLength: 1, maxLength: 200, description: 'Definition name.' }));

/** Label maps: string values, bounded so one request cannot blow up the indexes. */
export const labels = Type.Unsafe<Record<string, string>>({
  type: 'object',
  propertyNames: { minLength: 1, maxLength: 128 },
  additionalProperties: { type: 'string', maxLength: 1024 },
  maxProperties: 64,
  description: 'String labels (at most 64; keys ≤ 128 chars, values ≤ 1024).',
});

export const executionStatuses = inOrder(
  Type.Array(stringEnum(Object.values(ExecutionStatus)), {
    minItems: 1,
    description: 'Statuses, any of them: repeat the parameter (`?status=running&status=waiting`) or give a comma-separated list (`?status=running,waiting`).',
  }),
);

/** RFC 3339 with a zone; the `date-time` format is registered in api/routing/validate.ts. */
export const dateTime = inOrder(Type.String({ format: 'date-time' }));

export const idempotencyKey = inOrder(Type.String({ minLength: 1, maxLength: 255, description: 'Same key and body within 24 h replays the original answer.' }));

export const diagramFormat = stringEnum(['mermaid', 'json'], { default: 'mermaid', description: '`mermaid` (text/vnd.mermaid) or `json` (`{ mermaid }`).' });

export const logLevel = stringEnum(['debug', 'info', 'warn', 'error']);

/** The TypeBox kind of `flowDocument`: api/routing/openapi.ts documents such a fragment by its component (copies made by `Type.Optional` keep it). */
export const FLOW_DOCUMENT_KIND = 'FlowDocument';

/**
 * A flow document. The router only checks for an object: the engine validates the structure with
 * messages of its own. The OpenAPI document shows its full schema instead (api/routing/openapi-flow.ts).
 */
export const flowDocument = Type.Unsafe<Record<string, unknown>>({
  [Kind]: FLOW_DOCUMENT_KIND,
  type: 'object',
  description: 'A flow document; validated by the engine.',
});
