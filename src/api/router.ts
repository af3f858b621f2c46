/** @module api/router — mounts the route table on uWS native routes: validation, body parsing, 404/405. */
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { parse as parseYaml } from 'yaml';
import { ErrorCode, type Issue } from '../shared/errors.ts';
import type { RequestDeadlines } from './http/deadlines.ts';
import type { Logger } from '../shared/logger.ts';
import type { Gate } from './auth/gate.ts';
import { routeAuth } from './auth/scopes.ts';
import type { Principal } from './auth/types.ts';
import { requestContext } from './context.ts';
import { type Exchange, type RouteTimer, openExchange } from './http/exchange.ts';
import { type BodyText, readBody } from './http/body.ts';
import { isJsonMedia, mediaTypeOf } from './http/media.ts';
import { payloadTooLarge, writeProblem, writeReply } from './http/reply.ts';
import { IJsonError, invalidUtf8Issue, parseIJson } from './http/i-json.ts';
import { ApiErrorCode, problem, problemFor, statusLine, toProblem } from './http/problem.ts';
import { fullPath } from './routes.ts';
import { YAML_MEDIA_TYPES } from './http/media.ts';
import type { BodySpec, HttpMethod, RouteHandler, RouteInput } from './types.ts';
import { type CompiledRoute, MAX_BODY_DEPTH, jsonTextTooDeep, parseQuery, toIssues, valueTooDeep, valueTooLarge, yamlTextTooDeep } from './validate.ts';

export interface RouterOptions {
  readonly maxBodyBytes: number;
  readonly logger: Logger;
  /** Authentication, scopes, rate limits, CORS and audit (api/auth). */
  readonly gate: Gate;
  /** Latency histogram per route template and method (api/metrics.ts); none = not measured. */
  readonly timerFor?: ((route: string, method: string) => RouteTimer) | undefined;
  /** Answers 503 `request_timeout` for handlers still running past the deadline. */
  readonly deadlines?: RequestDeadlines | undefined;
}

/** Route label of requests no route matched (404, 405). */
export const UNMATCHED_ROUTE = '(unmatched)';

/** Hands the request body over once it is read (now, or already read while a JWT was verified). */
type BodySource = (onBody: (body: BodyText) => void) => void;

type UwsHandler = (res: HttpResponse, req: HttpRequest) => void;

const NO_STRINGS: Readonly<Record<string, string>> = Object.freeze({});

const TOO_DEEP: Issue = { path: '', message: `is nested deeper than ${MAX_BODY_DEPTH} levels` };

/** `/executions/{id}` → `/executions/:id` (uWS pattern syntax). */
export function toUwsPattern(path: string): string {
  return path.replace(/\{(\w+)\}/g, ':$1');
}

function register(app: TemplatedApp, method: HttpMethod, pattern: string, h: UwsHandler): void {
  switch (method) {
    case 'get':
      app.get(pattern, h);
      return;
    case 'post':
      app.post(pattern, h);
      return;
    case 'patch':
      app.patch(pattern, h);
      return;
    case 'delete':
      app.del(pattern, h);
      return;
    default:
      method satisfies never;
  }
}

/**
 * Registers every route, then per path an `any` handler answering 405 (uWS prefers the
 * method-specific route), then a catch-all 404. Throws at startup if a route has no handler.
 */
export function mountRoutes(
  app: TemplatedApp,
  routes: readonly CompiledRoute[],
  handlers: Readonly<Record<string, RouteHandler>>,
  opts: RouterOptions,
): void {
  const methodsByPattern = new Map<string, string[]>();
  for (const route of routes) {
    const handler = handlers[route.spec.id];
    if (handler === undefined) throw new Error(`no handler for route ${route.spec.id}`);
    const pattern = toUwsPattern(fullPath(route.spec));
    register(app, route.spec.method, pattern, routeHandler(route, handler, opts));
    const methods = methodsByPattern.get(pattern) ?? [];
    methods.push(route.spec.method.toUpperCase());
    methodsByPattern.set(pattern, methods);
  }
  const unmatched = opts.timerFor?.(UNMATCHED_ROUTE, 'other');
  for (const [pattern, methods] of methodsByPattern) {
    const allow = methods.join(', ');
    app.options(pattern, opts.gate.cors.preflight);
    app.head(pattern, (res, req) => headNotAllowed(res, req, allow));
    app.any(pattern, (res, req) => {
      const ex = openExchange(res, req);
      ex.timer = unmatched;
      const method = req.getMethod().toUpperCase();
      writeProblem(ex, problemFor(ErrorCode.methodNotAllowed, `${method} is not allowed here; allowed: ${allow}.`), { headers: { allow } });
    });
  }
  app.options('/*', opts.gate.cors.preflight);
  app.head('/*', (res, req) => headNotAllowed(res, req, ''));
  app.any('/*', (res, req) => {
    const ex = openExchange(res, req);
    ex.timer = unmatched;
    writeProblem(ex, problemFor(ErrorCode.notFound, `No route for ${req.getMethod().toUpperCase()} ${req.getUrl()}.`));
  });
}

/** HEAD is not served: 405 without a body (a HEAD answer must not carry one). */
function headNotAllowed(res: HttpResponse, req: HttpRequest, allow: string): void {
  const ex = openExchange(res, req);
  ex.open = false;
  res.cork(() => {
    res.writeStatus(statusLine(405)).writeHeader('x-request-id', ex.requestId);
    if (allow !== '') res.writeHeader('allow', allow);
    res.endWithoutBody(0);
  });
}

function fail(ex: Exchange, route: CompiledRoute, err: unknown, logger: Logger): void {
  const p = toProblem(err, route.spec.errorStatus);
  if (p.internal) {
    logger.error('request failed', {
      requestId: ex.requestId,
      route: route.spec.id,
      error: err instanceof Error ? (err.stack ?? err.message) : String(err),
    });
  }
  writeProblem(ex, p);
}

function invalid(ex: Exchange, issues: readonly Issue[]): void {
  writeProblem(ex, problemFor(ErrorCode.validationFailed, 'The request is invalid; see `errors`.', issues));
}

/** Runs the handler and writes its reply or its error. */
function run(ex: Exchange, route: CompiledRoute, handler: RouteHandler, input: RouteInput, logger: Logger, deadlines?: RequestDeadlines): void {
  try {
    const out = handler.handle(input);
    if (out instanceof Promise) {
      deadlines?.track(ex);
      out.then(
        (reply) => {
          deadlines?.done(ex);
          try {
            writeReply(ex, reply);
          } catch (err) {
            fail(ex, route, err, logger);
          }
        },
        (err: unknown) => {
          deadlines?.done(ex);
          fail(ex, route, err, logger);
        },
      );
    } else {
      writeReply(ex, out);
    }
  } catch (err) {
    fail(ex, route, err, logger);
  }
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

type BodyKind = 'json' | 'yaml' | 'text' | 'none';

/** Decides how to parse the body from its content type; `undefined` → 415. */
function bodyKind(contentType: string, spec: BodySpec): BodyKind | undefined {
  const media = mediaTypeOf(contentType);
  if (media.type === '') return 'none';
  if (!media.charsetOk) return undefined;
  if (isJsonMedia(media.type)) return 'json';
  if (spec.yaml === true && YAML_MEDIA_TYPES.has(media.type)) return 'yaml';
  if (spec.text !== undefined && media.type === spec.text.mediaType) return 'text';
  return undefined;
}

function unsupportedMedia(ex: Exchange, spec: BodySpec): void {
  const accepted = ['application/json', ...(spec.yaml === true ? ['application/yaml'] : []), ...(spec.text === undefined ? [] : [spec.text.mediaType])];
  const list = accepted.length === 1 ? accepted[0] : `${accepted.slice(0, -1).join(', ')} or ${accepted.at(-1)}`;
  writeProblem(ex, problemFor(ErrorCode.unsupportedMediaType, `The request body must be ${list} (UTF-8).`));
}

/** 400 for a body whose bytes are not UTF-8, with the pointer of the string holding the first bad byte. */
function notUtf8(ex: Exchange, bytes: Uint8Array, kind: BodyKind, spec: BodySpec): void {
  if (kind === 'none') return unsupportedMedia(ex, spec);
  if (kind === 'text') {
    writeProblem(ex, problem(400, ErrorCode.badRequest, 'The request body is not valid UTF-8.', [{ path: `/${spec.text?.property ?? ''}`, message: 'is not valid UTF-8' }]));
    return;
  }
  const { byte, ...issue } = invalidUtf8Issue(bytes);
  const code = kind === 'yaml' ? ApiErrorCode.invalidYaml : ErrorCode.invalidJson;
  writeProblem(ex, problem(400, code, `The request body is not valid UTF-8 (byte ${byte}).`, [issue]));
}

/** Parses a non-empty body (JSON as I-JSON, RFC 7493); on failure writes the 400/415 answer and returns `{ ok: false }`. */
function parseBody(ex: Exchange, text: string, kind: BodyKind, spec: BodySpec): { ok: true; value: unknown } | { ok: false } {
  try {
    switch (kind) {
      case 'json':
        return { ok: true, value: parseIJson(text) };
      case 'yaml':
        return { ok: true, value: parseYaml(text, { logLevel: 'error' }) as unknown };
      case 'text':
        return { ok: true, value: { [spec.text?.property ?? '']: text } };
      case 'none':
        unsupportedMedia(ex, spec);
        return { ok: false };
      default:
        return kind satisfies never;
    }
  } catch (err) {
    if (err instanceof IJsonError) {
      writeProblem(ex, problem(400, ErrorCode.invalidJson, `The request body is not I-JSON (RFC 7493): ${err.message}.`, [err.issue]));
      return { ok: false };
    }
    const code = kind === 'yaml' ? ApiErrorCode.invalidYaml : ErrorCode.invalidJson;
    const what = kind === 'yaml' ? 'YAML' : 'JSON';
    writeProblem(ex, problem(400, code, `The request body is not valid ${what}: ${err instanceof Error ? err.message.split('\n')[0] : 'parse error'}`));
    return { ok: false };
  }
}

/** Starts reading the body now (uWS drops chunks without a data handler) and hands it over later. */
function earlyBody(ex: Exchange, max: number): BodySource {
  let text: BodyText | undefined;
  let waiting: ((body: BodyText) => void) | undefined;
  readBody(ex, max, (t) => {
    if (waiting !== undefined) waiting(t);
    else text = t;
  });
  return (onBody) => {
    if (text !== undefined) onBody(text);
    else waiting = onBody;
  };
}

/** The id an audit entry names: the path's id or name, else the created resource's. */
function targetIdOf(params: Readonly<Record<string, string>>, body: unknown): string | null {
  const fromPath = params['id'] ?? params['name'];
  if (fromPath !== undefined) return fromPath;
  if (typeof body === 'object' && body !== null) {
    const b = body as Record<string, unknown>;
    if (typeof b['id'] === 'string') return b['id'];
    if (typeof b['name'] === 'string') return b['name'];
  }
  return null;
}

/** The uWS handler of one route. Reads everything from `req` before the first await. */
function routeHandler(route: CompiledRoute, handler: RouteHandler, opts: RouterOptions): UwsHandler {
  const { spec } = route;
  const bodySpec = spec.body;
  const max = opts.maxBodyBytes;
  const logger = opts.logger;
  const gate = opts.gate;
  const needed = routeAuth(spec);
  const acceptsQueryToken = route.acceptsQueryToken;
  // State-changing calls are audited; a read sent as POST (GraphQL) changes nothing.
  const audited = spec.method !== 'get' && needed !== 'read' && needed !== 'none';
  const method = spec.method.toUpperCase();
  const routePath = fullPath(spec);
  const timer = opts.timerFor?.(routePath, method);
  return (res, req) => {
    const ex = openExchange(res, req);
    ex.timer = timer;
    try {
      const origin = req.getHeader('origin');
      if (origin !== '') ex.corsOrigin = gate.cors.allow(origin);
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
      const contentType = bodySpec === undefined ? '' : req.getHeader('content-type');
      const contentLength = bodySpec === undefined ? '' : req.getHeader('content-length');
      const cred = needed === 'none' ? undefined : gate.credentialOf(req, acceptsQueryToken ? rawQuery : undefined);
      // From here on `req` is not touched: it may be gone after an await.

      const proceed = (principal: Principal | undefined, early?: BodySource): void => {
        const ctx = requestContext(principal, ex.requestId);
        if (badSegment) {
          writeProblem(ex, problemFor(ErrorCode.badRequest, 'A path segment has malformed percent-encoding.'));
          return;
        }
        if (route.validateParams !== undefined && !route.validateParams(params)) {
          const first = route.validateParams.errors?.[0];
          const name = first?.instancePath.slice(1) ?? '';
          const code = spec.paramNotFound?.[name] ?? ErrorCode.notFound;
          writeProblem(ex, problemFor(code, `${code.replace(/_/g, ' ')}: ${JSON.stringify(params[name] ?? '')}`));
          return;
        }
        const issues: Issue[] = [];
        let query: Record<string, unknown> = NO_STRINGS;
        // Routes without a query schema skip the work unless something was sent (then it is rejected).
        if (rawQuery !== '' || spec.query !== undefined) {
          query = parseQuery(rawQuery, route, issues);
          if (!route.validateQuery(query)) toIssues(route.validateQuery.errors, '/query', issues);
        }

        if (bodySpec === undefined) {
          if (issues.length > 0) return invalid(ex, issues);
          return run(ex, route, handler, { ctx, params, query, headers, body: undefined }, logger, opts.deadlines);
        }
        const kind = bodyKind(contentType, bodySpec);
        if (contentLength !== '' && Number(contentLength) > max) return payloadTooLarge(ex, max);
        // A wrong content type is refused before reading a body known to be non-empty; an empty
        // body has no media type to speak of (action routes), so that case is decided after reading.
        if (kind === undefined && Number(contentLength) > 0) return unsupportedMedia(ex, bodySpec);

        const source: BodySource = early ?? ((onBody) => readBody(ex, max, onBody));
        source((text) => {
          try {
            let body: unknown;
            if (text === '') {
              if (bodySpec.optional !== true) {
                issues.push({ path: '', message: 'a request body is required' });
                return invalid(ex, issues);
              }
              body = {};
            } else if (kind === undefined) {
              return unsupportedMedia(ex, bodySpec);
            } else if (typeof text !== 'string') {
              return notUtf8(ex, text.notUtf8, kind, bodySpec);
            } else {
              if (kind === 'json' ? jsonTextTooDeep(text) : kind === 'yaml' && yamlTextTooDeep(text)) return invalid(ex, [TOO_DEEP]);
              const parsed = parseBody(ex, text, kind, bodySpec);
              if (!parsed.ok) return;
              if (kind === 'yaml' && valueTooDeep(parsed.value)) return invalid(ex, [TOO_DEEP]);
              // Array length and string length caps; walks the value only past a size threshold.
              const tooLarge = valueTooLarge(parsed.value, text.length);
              if (tooLarge !== undefined) return invalid(ex, [tooLarge]);
              body = parsed.value;
            }
            const validate = route.validateBody;
            if (validate !== undefined && !validate(body)) toIssues(validate.errors, '', issues);
            const input = { ctx, params, query, headers, body };
            if (handler.refine !== undefined) issues.push(...handler.refine(body, input));
            if (issues.length > 0) return invalid(ex, issues);
            run(ex, route, handler, input, logger, opts.deadlines);
          } catch (err) {
            fail(ex, route, err, logger);
          }
        });
      };

      if (needed === 'none') return proceed(undefined);
      const onAuthenticated = audited
        ? (p: Principal): void => {
            const at = Date.now();
            ex.onAnswer = (status, body) => {
              gate.audit.record({ at, keyId: p.keyId, tenant: p.tenant, method, route: routePath, targetId: targetIdOf(params, body), status, requestId: ex.requestId });
            };
          }
        : undefined;
      const admitted = gate.admit(ex, cred, needed, onAuthenticated);
      if (admitted === undefined) return;
      if (!(admitted instanceof Promise)) return proceed(admitted);
      // First sight of a JWT: verification is async, so the body is read meanwhile.
      const early = bodySpec === undefined ? undefined : earlyBody(ex, max);
      admitted.then(
        (p) => {
          if (p !== undefined && ex.open) proceed(p, early);
        },
        (err: unknown) => fail(ex, route, err, logger),
      );
    } catch (err) {
      fail(ex, route, err, logger);
    }
  };
}
