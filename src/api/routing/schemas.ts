/** @module api/routing/schemas — reusable JSON Schema fragments of the route table (pure data). */
import { ExecutionStatus } from '../../shared/execution.ts';
import type { JsonSchema } from './route-spec.ts';

/** An object schema that rejects unknown fields. */
export function object(properties: Readonly<Record<string, JsonSchema>>, required: readonly string[] = [], extra: JsonSchema = {}): JsonSchema {
  return {
    type: 'object',
    properties,
    ...(required.length > 0 ? { required } : {}),
    additionalProperties: false,
    ...extra,
  };
}

export const EMPTY_OBJECT: JsonSchema = object({});

export const ANY: JsonSchema = { description: 'Any JSON value.' };

export const limit: JsonSchema = {
  type: 'integer',
  minimum: 1,
  maximum: 1000,
  default: 50,
  description: 'Page size (1–1000).',
};

export const cursor: JsonSchema = {
  type: 'string',
  maxLength: 1024,
  description: 'Opaque cursor: the `nextCursor` of the previous page.',
};

/** `?limit=&cursor=` of every list. */
export const PAGE: Readonly<Record<string, JsonSchema>> = { limit, cursor };

export const positiveInt: JsonSchema = { type: 'integer', minimum: 1 };

export const shortString: JsonSchema = { type: 'string', minLength: 1, maxLength: 200 };

export const longString: JsonSchema = { type: 'string', maxLength: 10_000 };

/** An id of `prefix_` + a ULID (Crockford base 32): anything else cannot exist, so its routes answer 404 unread. */
export function ulidId(prefix: string, what: string): JsonSchema {
  return { type: 'string', pattern: `^${prefix}_[0-9A-HJKMNP-TV-Z]{26}$`, description: `${what}: \`${prefix}_\` + ULID.` };
}

/** Same shape as `parseExecutionId` in src/shared/ids.ts: anything else cannot exist (404). */
export const executionId: JsonSchema = ulidId('ex', 'Execution id');

export const definitionName: JsonSchema = { ...shortString, description: 'Definition name.' };

/** Label maps: string values, bounded so one request cannot blow up the indexes. */
export const labels: JsonSchema = {
  type: 'object',
  propertyNames: { minLength: 1, maxLength: 128 },
  additionalProperties: { type: 'string', maxLength: 1024 },
  maxProperties: 64,
  description: 'String labels (at most 64; keys ≤ 128 chars, values ≤ 1024).',
};

export const executionStatuses: JsonSchema = {
  type: 'array',
  items: { type: 'string', enum: Object.values(ExecutionStatus) },
  minItems: 1,
  description: 'Statuses, any of them: repeat the parameter (`?status=running&status=waiting`) or give a comma-separated list (`?status=running,waiting`).',
};

/** RFC 3339 with a zone; the `date-time` format is registered in api/routing/validate.ts. */
export const dateTime: JsonSchema = { type: 'string', format: 'date-time' };

export const idempotencyKey: JsonSchema = {
  type: 'string',
  minLength: 1,
  maxLength: 255,
  description: 'Same key and body within 24 h replays the original answer.',
};

export const diagramFormat: JsonSchema = {
  type: 'string',
  enum: ['mermaid', 'json'],
  default: 'mermaid',
  description: '`mermaid` (text/vnd.mermaid) or `json` (`{ mermaid }`).',
};

export const logLevel: JsonSchema = { type: 'string', enum: ['debug', 'info', 'warn', 'error'] };

/**
 * A flow document. The router only checks for an object: the engine validates the structure with
 * messages of its own. The OpenAPI document shows its full schema instead (api/routing/openapi-flow.ts).
 */
export const flowDocument: JsonSchema = {
  type: 'object',
  description: 'A flow document; validated by the engine.',
};
