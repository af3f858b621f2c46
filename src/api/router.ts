/** @module api/router — mounts the route table on uWS native routes: validation, body parsing, 404/405. */
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { parse as parseYaml } from 'yaml';
import { ErrorCode, type Issue } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import { type Exchange, isJsonMedia, mediaTypeOf, openExchange, payloadTooLarge, readBody, writeProblem, writeReply } from './http.ts';
import { ApiErrorCode, problem, problemFor, toProblem } from './problem.ts';
import { fullPath } from './routes.ts';
import { YAML_MEDIA_TYPES } from './schemas.ts';
import type { HttpMethod, RequestContext, RouteHandler, RouteInput } from './types.ts';
import { type CompiledRoute, MAX_BODY_DEPTH, jsonTextTooDeep, parseQuery, toIssues, valueTooDeep } from './validate.ts';

export interface RouterOptions {
  readonly maxBodyBytes: number;
  readonly logger: Logger;
  readonly requestContext: (req: HttpRequest, requestId: string) => RequestContext;
}

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
  for (const [pattern, methods] of methodsByPattern) {
    const allow = methods.join(', ');
    app.any(pattern, (res, req) => {
      const ex = openExchange(res, req);
      const method = req.getMethod().toUpperCase();
      writeProblem(ex, problemFor(ErrorCode.methodNotAllowed, `${method} is not allowed here; allowed: ${allow}.`), { headers: { allow } });
    });
  }
  app.any('/*', (res, req) => {
    const ex = openExchange(res, req);
    writeProblem(ex, problemFor(ErrorCode.notFound, `No route for ${req.getMethod().toUpperCase()} ${req.getUrl()}.`));
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
function run(ex: Exchange, route: CompiledRoute, handler: RouteHandler, input: RouteInput, logger: Logger): void {
  try {
    const out = handler.handle(input);
    if (out instanceof Promise) {
      out.then(
        (reply) => {
          try {
            writeReply(ex, reply);
          } catch (err) {
            fail(ex, route, err, logger);
          }
        },
        (err: unknown) => fail(ex, route, err, logger),
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

type BodyKind = 'json' | 'yaml' | 'none';

/** Decides how to parse the body from its content type; `undefined` → 415. */
function bodyKind(contentType: string, yaml: boolean): BodyKind | undefined {
  const media = mediaTypeOf(contentType);
  if (media.type === '') return 'none';
  if (!media.charsetOk) return undefined;
  if (isJsonMedia(media.type)) return 'json';
  if (yaml && YAML_MEDIA_TYPES.has(media.type)) return 'yaml';
  return undefined;
}

function unsupportedMedia(ex: Exchange, yaml: boolean): void {
  const accepted = yaml ? 'application/json or application/yaml' : 'application/json';
  writeProblem(ex, problemFor(ErrorCode.unsupportedMediaType, `The request body must be ${accepted} (UTF-8).`));
}

/** Parses a non-empty body; on failure writes the 400/415 answer and returns `{ ok: false }`. */
function parseBody(ex: Exchange, text: string, kind: BodyKind, yaml: boolean): { ok: true; value: unknown } | { ok: false } {
  try {
    switch (kind) {
      case 'json':
        return { ok: true, value: JSON.parse(text) as unknown };
      case 'yaml':
        return { ok: true, value: parseYaml(text) as unknown };
      case 'none':
        unsupportedMedia(ex, yaml);
        return { ok: false };
      default:
        return kind satisfies never;
    }
  } catch (err) {
    const code = kind === 'yaml' ? ApiErrorCode.invalidYaml : ErrorCode.invalidJson;
    const what = kind === 'yaml' ? 'YAML' : 'JSON';
    writeProblem(ex, problem(400, code, `The request body is not valid ${what}: ${err instanceof Error ? err.message.split('\n')[0] : 'parse error'}`));
    return { ok: false };
  }
}

/** The uWS handler of one route. Reads everything from `req` before the first await. */
function routeHandler(route: CompiledRoute, handler: RouteHandler, opts: RouterOptions): UwsHandler {
  const { spec } = route;
  const bodySpec = spec.body;
  const max = opts.maxBodyBytes;
  const logger = opts.logger;
  return (res, req) => {
    const ex = openExchange(res, req);
    try {
      const ctx = opts.requestContext(req, ex.requestId);
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
      // From here on `req` is not touched: it may be gone after an await.

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
        return run(ex, route, handler, { ctx, params, query, headers, body: undefined }, logger);
      }
      const yaml = bodySpec.yaml === true;
      const kind = bodyKind(contentType, yaml);
      if (contentLength !== '' && Number(contentLength) > max) return payloadTooLarge(ex, max);
      // A wrong content type is refused before reading a body known to be non-empty; an empty
      // body has no media type to speak of (action routes), so that case is decided after reading.
      if (kind === undefined && Number(contentLength) > 0) return unsupportedMedia(ex, yaml);

      readBody(ex, max, (text) => {
        try {
          let body: unknown;
          if (text.length === 0) {
            if (bodySpec.optional !== true) {
              issues.push({ path: '', message: 'a request body is required' });
              return invalid(ex, issues);
            }
            body = {};
          } else if (kind === undefined) {
            return unsupportedMedia(ex, yaml);
          } else {
            if (kind === 'json' && jsonTextTooDeep(text)) return invalid(ex, [TOO_DEEP]);
            const parsed = parseBody(ex, text, kind, yaml);
            if (!parsed.ok) return;
            if (kind === 'yaml' && valueTooDeep(parsed.value)) return invalid(ex, [TOO_DEEP]);
            body = parsed.value;
          }
          const validate = route.validateBody;
          if (validate !== undefined && !validate(body)) toIssues(validate.errors, '', issues);
          const input = { ctx, params, query, headers, body };
          if (handler.refine !== undefined) issues.push(...handler.refine(body, input));
          if (issues.length > 0) return invalid(ex, issues);
          run(ex, route, handler, input, logger);
        } catch (err) {
          fail(ex, route, err, logger);
        }
      });
    } catch (err) {
      fail(ex, route, err, logger);
    }
  };
}
