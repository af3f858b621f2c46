/**
 * @module api/routing/pipeline — the uWS handler of one route as named stages: `capture` what is
 * needed of the request (synchronously: uWS drops `req` at the first await), `admit` the caller
 * (api/auth), then `proceed`: path parameters, query, body (routing/body.ts) and the handler's `run`.
 * Every stage that refuses writes its answer and stops.
 */
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { ErrorCode, type Issue } from '../../common/errors.ts';
import { isRecord } from '../../common/json.ts';
import type { Logger } from '../../common/logger.ts';
import type { Gate } from '../auth/gate.ts';
import type { Credential, Principal, RouteAuth } from '../auth/types.ts';
import type { RequestDeadlines } from '../http/deadlines.ts';
import { type Exchange, type RouteTimer, openExchange } from '../http/exchange.ts';
import { problemFor, toProblem } from '../http/problem.ts';
import { writeInvalid, writeProblem, writeReply } from '../http/reply.ts';
import { type BodySource, earlyBody, readRequestBody } from './body.ts';
import { requestContext } from './context.ts';
import { parseQuery } from './query.ts';
import { fullPath, routeAuth, type RouteHandler, type RouteInput } from './route-spec.ts';
import { type CompiledRoute, toIssues } from './validate.ts';

export interface PipelineOptions {
  readonly maxBodyBytes: number;
  readonly logger: Logger;
  /** Authentication, scopes, rate limits, CORS and audit (api/auth). */
  readonly gate: Gate;
  /** Answers 503 `request_timeout` for handlers still running past the deadline. */
  readonly deadlines?: RequestDeadlines | undefined;
}

export type UwsHandler = (res: HttpResponse, req: HttpRequest) => void;

/** One mounted route: what every stage reads that does not depend on the request, worked out once. */
interface Mounted {
  readonly route: CompiledRoute;
  readonly handler: RouteHandler;
  readonly opts: PipelineOptions;
  readonly needed: RouteAuth;
  /** State-changing calls are audited; a read sent as POST (GraphQL) changes nothing. */
  readonly audited: boolean;
  readonly method: string;
  readonly routePath: string;
}

/** What the stages need of the request, copied out of `req` before the first await. */
interface Captured {
  readonly params: Readonly<Record<string, string>>;
  /** A path segment had malformed percent-encoding. */
  readonly badSegment: boolean;
  readonly rawQuery: string;
  /** The request headers the route declares. */
  readonly headers: Readonly<Record<string, string>>;
  readonly contentType: string;
  readonly contentLength: string;
  readonly cred: Credential | undefined;
}

const NO_STRINGS: Readonly<Record<string, string>> = Object.freeze({});

/** The uWS handler of one route. `timer` observes the latency of its answers. */
export function routeHandler(route: CompiledRoute, handler: RouteHandler, opts: PipelineOptions, timer: RouteTimer | undefined): UwsHandler {
  const { spec } = route;
  const needed = routeAuth(spec);
  const m: Mounted = {
    route,
    handler,
    opts,
    needed,
    audited: spec.method !== 'get' && needed !== 'read' && needed !== 'none',
    method: spec.method.toUpperCase(),
    routePath: fullPath(spec),
  };
  return (res, req) => {
    const ex = openExchange(res, req);
    ex.timer = timer;
    try {
      const captured = capture(m, ex, req);
      // From here on `req` is not touched: it may be gone after an await.
      admit(m, ex, captured);
    } catch (err) {
      fail(ex, m, err);
    }
  };
}

/** Decodes a path segment; `undefined` on malformed percent-encoding. */
function decodeSegment(raw: string): string | undefined {
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

/** Stage 1: reads everything needed from `req` (the CORS origin is settled here too). */
function capture(m: Mounted, ex: Exchange, req: HttpRequest): Captured {
  const { route, opts } = m;
  const { spec } = route;
  const origin = req.getHeader('origin');
  if (origin !== '') ex.corsOrigin = opts.gate.cors.allow(origin);
  let params = NO_STRINGS;
  const n = route.paramNames.length;
  let badSegment = false;
  if (n > 0) {
    const p: Record<string, string> = Object.create(null) as Record<string, string>;
    for (let i = 0; i < n; i++) {
      const value = decodeSegment(req.getParameter(i));
      if (value === undefined) badSegment = true;
      else p[route.paramNames[i] ?? ''] = value;
    }
    params = p;
  }
  const rawQuery = req.getQuery() ?? '';
  let headers = NO_STRINGS;
  if (spec.headers !== undefined) {
    const h: Record<string, string> = {};
    for (const name of spec.headers) {
      const v = req.getHeader(name);
      if (v !== '') h[name] = v;
    }
    headers = h;
  }
  const contentType = spec.body === undefined ? '' : req.getHeader('content-type');
  const contentLength = spec.body === undefined ? '' : req.getHeader('content-length');
  const cred = m.needed === 'none' ? undefined : opts.gate.credentialOf(req, route.acceptsQueryToken ? rawQuery : undefined);
  return { params, badSegment, rawQuery, headers, contentType, contentLength, cred };
}

/** The id an audit entry names: the path's id or name, else the created resource's. */
function targetIdOf(params: Readonly<Record<string, string>>, body: unknown): string | null {
  const fromPath = params['id'] ?? params['name'] ?? params['slug'];
  if (fromPath !== undefined) return fromPath;
  if (isRecord(body)) {
    if (typeof body['id'] === 'string') return body['id'];
    if (typeof body['slug'] === 'string') return body['slug'];
    if (typeof body['name'] === 'string') return body['name'];
  }
  return null;
}

/**
 * Stage 2: who is asking. Public routes skip it; otherwise the gate writes 401, 403 or 429 itself.
 * An audited route records its answer once the caller is known.
 */
function admit(m: Mounted, ex: Exchange, c: Captured): void {
  if (m.needed === 'none') return proceed(m, ex, c, undefined);
  const gate = m.opts.gate;
  const onAuthenticated = m.audited
    ? (p: Principal): void => {
        const at = Date.now();
        ex.onAnswer = (status, body) => {
          gate.audit.record({ at, keyId: p.keyId, tenant: p.tenant, method: m.method, route: m.routePath, targetId: targetIdOf(c.params, body), status, requestId: ex.requestId });
        };
      }
    : undefined;
  const admitted = gate.admit(ex, c.cred, m.needed, onAuthenticated);
  if (admitted === undefined) return;
  if (!(admitted instanceof Promise)) return proceed(m, ex, c, admitted);
  // First sight of a JWT: verification is async, so the body is read meanwhile.
  const early = m.route.spec.body === undefined ? undefined : earlyBody(ex, m.opts.maxBodyBytes);
  admitted.then(
    (p) => {
      if (p !== undefined && ex.open) proceed(m, ex, c, p, early);
    },
    (err: unknown) => fail(ex, m, err),
  );
}

/** Stages 3 to 6, once the caller is admitted: path parameters, query, body, handler. */
function proceed(m: Mounted, ex: Exchange, c: Captured, principal: Principal | undefined, early?: BodySource): void {
  const ctx = requestContext(principal, ex.requestId);
  if (!paramsOk(m.route, ex, c)) return;
  const issues: Issue[] = [];
  const query = queryOf(m.route, c.rawQuery, issues);
  const bodySpec = m.route.spec.body;
  if (bodySpec === undefined) {
    if (issues.length > 0) return writeInvalid(ex, issues);
    return run(ex, m, { ctx, params: c.params, query, headers: c.headers, body: undefined });
  }
  const request = { contentType: c.contentType, contentLength: c.contentLength, maxBytes: m.opts.maxBodyBytes, early };
  readRequestBody(
    ex,
    bodySpec,
    request,
    issues,
    (body) => {
      // Schema issues and the handler's cross-field rules are reported together, with the query's.
      const validate = m.route.validateBody;
      if (validate !== undefined && !validate(body)) toIssues(validate.errors, '', issues);
      const input = { ctx, params: c.params, query, headers: c.headers, body };
      if (m.handler.refine !== undefined) issues.push(...m.handler.refine(body, input));
      if (issues.length > 0) return writeInvalid(ex, issues);
      run(ex, m, input);
    },
    (err) => fail(ex, m, err),
  );
}

/** Stage 3: path parameters. Malformed percent-encoding is 400; a value its schema refuses cannot name anything: 404 with the route's code. */
function paramsOk(route: CompiledRoute, ex: Exchange, c: Captured): boolean {
  if (c.badSegment) {
    writeProblem(ex, problemFor(ErrorCode.badRequest, 'A path segment has malformed percent-encoding.'));
    return false;
  }
  const validate = route.validateParams;
  if (validate !== undefined && !validate(c.params)) {
    const first = validate.errors?.[0];
    const name = first?.instancePath.slice(1) ?? '';
    const code = route.spec.paramNotFound?.[name] ?? ErrorCode.notFound;
    writeProblem(ex, problemFor(code, `${code.replace(/_/g, ' ')}: ${JSON.stringify(c.params[name] ?? '')}`));
    return false;
  }
  return true;
}

/** Stage 4: the query as its schema sees it; its issues are collected, not answered yet. */
function queryOf(route: CompiledRoute, rawQuery: string, issues: Issue[]): Record<string, unknown> {
  // Routes without a query schema skip the work unless something was sent (then it is rejected).
  if (rawQuery === '' && route.spec.query === undefined) return NO_STRINGS;
  const query = parseQuery(rawQuery, route, issues);
  if (!route.validateQuery(query)) toIssues(route.validateQuery.errors, '/query', issues);
  return query;
}

/** Stage 6: runs the handler and writes its reply or its error; an async one is watched by the request deadlines. */
function run(ex: Exchange, m: Mounted, input: RouteInput): void {
  const deadlines = m.opts.deadlines;
  try {
    const out = m.handler.handle(input);
    if (out instanceof Promise) {
      deadlines?.track(ex);
      out.then(
        (reply) => {
          deadlines?.done(ex);
          try {
            writeReply(ex, reply);
          } catch (err) {
            fail(ex, m, err);
          }
        },
        (err: unknown) => {
          deadlines?.done(ex);
          fail(ex, m, err);
        },
      );
    } else {
      writeReply(ex, out);
    }
  } catch (err) {
    fail(ex, m, err);
  }
}

/** Any error as its problem+json answer; unexpected ones (5xx) are logged with the stack. */
function fail(ex: Exchange, m: Mounted, err: unknown): void {
  const p = toProblem(err, m.route.spec.errorStatus);
  if (p.internal) {
    m.opts.logger.error('request failed', {
      requestId: ex.requestId,
      route: m.route.spec.id,
      error: err instanceof Error ? (err.stack ?? err.message) : String(err),
    });
  }
  writeProblem(ex, p, p.headers === undefined ? {} : { headers: p.headers });
}
