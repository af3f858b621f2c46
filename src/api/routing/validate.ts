/** @module api/routing/validate — compiles each route's schemas once (ajv) and turns failures into JSON-Pointer issues. */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Issue } from '../../common/errors.ts';
import { pointerToken } from '../../common/json.ts';
import { EMPTY_OBJECT } from './schemas.ts';
import type { JsonSchema, RouteSpec } from './route-spec.ts';

/** At most this many issues per answer: a hostile body must not make a huge error document. */
const MAX_ISSUES = 100;

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/** RFC 3339 date-time with a zone (ajv ships no formats; ajv-formats is not a dependency). */
export function isDateTime(value: string): boolean {
  return RFC3339.test(value) && !Number.isNaN(Date.parse(value));
}

function newAjv(forQuery: boolean): Ajv {
  const ajv = new Ajv({
    allErrors: true,
    strict: true,
    // Query strings and path params are text: coerce `?limit=10` to 10 and fill defaults.
    coerceTypes: forQuery,
    useDefaults: forQuery,
  });
  ajv.addFormat('date-time', { type: 'string', validate: isDateTime });
  return ajv;
}

/** A route with its validators compiled. */
export interface CompiledRoute {
  readonly spec: RouteSpec;
  /** Path parameter names in template order (uWS hands them out by index). */
  readonly paramNames: readonly string[];
  readonly validateParams: ValidateFunction | undefined;
  readonly validateQuery: ValidateFunction;
  readonly validateBody: ValidateFunction | undefined;
  /** Query keys whose schema is an array: repeated (`?k=a&k=b`), comma-separated (`?k=a,b`) or both. */
  readonly arrayQueryKeys: ReadonlySet<string>;
  /** The query schema has `labels`: `label.<k>=<v>` pairs are gathered into it. */
  readonly labelQuery: boolean;
  /** The query schema has `token`: the credential may come as `?token=` (streams). */
  readonly acceptsQueryToken: boolean;
}

/**
 * Every route with its validators, compiled with two shared ajv instances (bodies strict, queries coerced)
 * on a route's first use: compiling all ~150 at boot took ~0.2–0.3 s of the time to `listening`, most of it
 * for routes a given server never sees. tests/unit/route-schemas.test.ts compiles them all.
 */
export function compileRoutes(routes: readonly RouteSpec[]): CompiledRoute[] {
  const bodyAjv = newAjv(false);
  const queryAjv = newAjv(true);
  return routes.map((spec) => {
    const query = spec.query ?? EMPTY_OBJECT;
    const props = (query['properties'] ?? {}) as Readonly<Record<string, JsonSchema>>;
    const arrayQueryKeys = new Set(Object.keys(props).filter((k) => props[k]?.['type'] === 'array'));
    let params: ValidateFunction | undefined | null = null;
    let queryFn: ValidateFunction | null = null;
    let body: ValidateFunction | undefined | null = null;
    return {
      spec,
      paramNames: [...spec.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? ''),
      get validateParams() {
        if (params === null) params = spec.params === undefined ? undefined : queryAjv.compile(spec.params);
        return params;
      },
      get validateQuery() {
        return (queryFn ??= queryAjv.compile(query));
      },
      get validateBody() {
        if (body === null) body = spec.body === undefined ? undefined : bodyAjv.compile(spec.body.schema);
        return body;
      },
      arrayQueryKeys,
      labelQuery: Object.hasOwn(props, 'labels'),
      acceptsQueryToken: Object.hasOwn(props, 'token'),
    };
  });
}

function describe(err: ErrorObject): { path: string; message: string } | undefined {
  const params = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case 'required':
      return { path: `${err.instancePath}/${pointerToken(String(params['missingProperty']))}`, message: 'is required' };
    case 'additionalProperties':
      return {
        path: `${err.instancePath}/${pointerToken(String(params['additionalProperty']))}`,
        message: 'is not allowed (unknown field)',
      };
    case 'enum':
      return {
        path: err.instancePath,
        message: `must be one of: ${(params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      };
    case 'propertyNames':
      // The inner error (with `propertyName`) says what is wrong; this one only repeats it.
      return undefined;
    default: {
      const name = (err as { propertyName?: string }).propertyName;
      if (name !== undefined) return { path: `${err.instancePath}/${pointerToken(name)}`, message: `name ${err.message ?? 'is invalid'}` };
      return { path: err.instancePath, message: err.message ?? 'is invalid' };
    }
  }
}

/** ajv errors → issues under `prefix` (`''` for bodies, `/query` for query strings), deduplicated. */
export function toIssues(errors: readonly ErrorObject[] | null | undefined, prefix: string, into: Issue[] = []): Issue[] {
  if (!errors) return into;
  const seen = new Set(into.map((i) => `${i.path}\u0000${i.message}`));
  for (const err of errors) {
    if (into.length >= MAX_ISSUES) break;
    const d = describe(err);
    if (d === undefined) continue;
    const issue = { path: prefix + d.path, message: d.message };
    const key = `${issue.path}\u0000${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    into.push(issue);
  }
  return into;
}
