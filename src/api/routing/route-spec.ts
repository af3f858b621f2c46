/** @module api/routing/route-spec — route specs (pure data, the source for validation and OpenAPI), handler types and the URL path of a route. */
import type { Static, TSchema } from '@sinclair/typebox';
import type { Issue } from '../../common/errors.ts';
import { type Principal, type RouteAuth, Scope } from '../auth/types.ts';
import type { Reply } from '../http/reply.ts';

/** The base path of every route that is not `root`. */
export const BASE_PATH = '/api/v1';

/** A JSON Schema (draft-07 subset that OpenAPI 3.1 also reads). */
export type JsonSchema = Readonly<Record<string, unknown>>;

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** How a route reads its request body. */
export interface BodySpec {
  readonly schema: JsonSchema;
  /** Accepted media types besides `application/json`; YAML types are parsed with `yaml`. */
  readonly yaml?: boolean;
  /** An empty body means `{}` (action routes). */
  readonly optional?: boolean;
  /** A body of `mediaType` is taken as plain text: the value of `property` (`application/graphql` → `{ query }`). */
  readonly text?: { readonly mediaType: string; readonly property: string };
}

/**
 * One route as data: the router, the validators and (later) the OpenAPI generator all read this.
 * `path` is an OpenAPI path template relative to `/api/v1` unless `root` is set.
 */
export interface RouteSpec {
  /** operationId; also the key of its handler. */
  readonly id: string;
  readonly method: HttpMethod;
  readonly path: string;
  /** Mounted outside the base path (e.g. `/health`). */
  readonly root?: boolean;
  readonly summary: string;
  readonly tag: string;
  /** Object schema of the path parameters, in template order. */
  readonly params?: JsonSchema;
  /** Code (404) per path parameter answered when it fails its schema: such an id cannot exist. */
  readonly paramNotFound?: Readonly<Record<string, string>>;
  readonly query?: JsonSchema;
  /** Request headers the handler reads (lower case), captured before the first await. */
  readonly headers?: readonly string[];
  readonly body?: BodySpec;
  /** Success status as documented (handlers may answer another documented one, e.g. 200 vs 201). */
  readonly status: number;
  /** Other success statuses a handler may answer (e.g. 200 for an idempotent replay of a 201). */
  readonly alsoStatus?: readonly number[];
  /**
   * Response media type of the success answer (`asset`: static files, type by extension;
   * `graphql`: JSON or `application/graphql-response+json` by the `accept` header).
   */
  readonly produces?: 'json' | 'mermaid' | 'none' | 'event-stream' | 'html' | 'asset' | 'prometheus' | 'graphql';
  /** Per-route status overrides of the error table (e.g. `definition_not_found` on start → 422). */
  readonly errorStatus?: Readonly<Record<string, number>>;
  /** Scope needed, or `none` (public). @default `read` for GET, `write` otherwise */
  readonly auth?: RouteAuth;
}

/** The full URL path template of a route (OpenAPI form, `{param}`). */
export function fullPath(route: RouteSpec): string {
  return route.root === true ? route.path : BASE_PATH + route.path;
}

/** The scope a route needs: its own `auth`, else `read` for GET and `write` for everything else. */
export function routeAuth(spec: RouteSpec): RouteAuth {
  return spec.auth ?? (spec.method === 'get' ? Scope.read : Scope.write);
}

/** Who is asking, from the verified credential (api/routing/context.ts builds it). */
export interface RequestContext {
  /** Every engine call of the request is scoped by this tenant. */
  readonly tenant: string;
  readonly requestId: string;
  readonly principal: Principal;
}

/** Everything a handler gets, already validated against its route spec. */
export interface RouteInput {
  readonly ctx: RequestContext;
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, unknown>>;
  readonly body: unknown;
  readonly headers: Readonly<Record<string, string>>;
}

/** The type a schema declared with TypeBox validates to; `Untyped` for a plain JSON Schema (a table not converted yet). */
type Validated<S, Untyped> = S extends TSchema ? Static<S> : Untyped;

/** The input of one route's handler: params, query and body typed by the route's own TypeBox schemas. */
export interface RouteInputOf<R extends RouteSpec> {
  readonly ctx: RequestContext;
  readonly params: Readonly<Validated<R['params'], RouteInput['params']>>;
  readonly query: Readonly<Validated<R['query'], RouteInput['query']>>;
  readonly body: R['body'] extends BodySpec ? Validated<R['body']['schema'], unknown> : unknown;
  readonly headers: Readonly<Record<string, string>>;
}

/** The handler of one route, as a handler table declares it (`HandlersOf`). */
export interface TypedRouteHandler<R extends RouteSpec> {
  readonly handle: (input: RouteInputOf<R>) => Promise<Reply> | Reply;
  /**
   * Cross-field rules JSON Schema states badly (exactly one of two fields…). Runs on the raw
   * body even when the schema failed, so every issue is reported at once: must be defensive.
   */
  readonly refine?: (body: unknown, input: Omit<RouteInputOf<R>, 'body'>) => Issue[];
}

/**
 * A handler as the pipeline runs it. `handle` is a method so that a typed handler is one of these:
 * the pipeline calls it only with input its route's schemas have validated (api/routing/pipeline.ts).
 */
export interface RouteHandler {
  handle(input: RouteInput): Promise<Reply> | Reply;
  refine?(body: unknown, input: Omit<RouteInput, 'body'>): Issue[];
}

/** Handlers of some routes of a table, by route id, each typed by its route (`satisfies` it: an id that is no route of the table fails to compile). */
export type HandlersOf<R extends readonly RouteSpec[]> = { readonly [S in R[number] as S['id']]?: TypedRouteHandler<S> };
