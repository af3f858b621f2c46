/** @module api/streams/ws/upgrade — mounts /ws, /ws/executions/{id} and /ws/events on uWS: upgrade checks, subprotocol, socket behavior. */
import type { HttpRequest, HttpResponse, TemplatedApp, us_socket_context_t } from 'uWebSockets.js';
import type { Engine } from '../../../engine/types.ts';
import { ErrorCode, type Issue } from '../../../common/errors.ts';
import { parseExecutionId } from '../../../common/ids.ts';
import type { Logger } from '../../../common/logger.ts';
import { openExchange } from '../../http/exchange.ts';
import { writeProblem } from '../../http/reply.ts';
import { problemFor, toProblem } from '../../http/problem.ts';
import { BASE_PATH, type RouteSpec } from '../../routing/route-spec.ts';
import { executionId, labels, object, shortString } from '../../routing/schemas.ts';
import type { StreamOptions } from '../options.ts';
import type { Gate } from '../../auth/gate.ts';
import { type Principal, Scope } from '../../auth/types.ts';
import { type CompiledRoute, compileRoutes, toIssues } from '../../routing/validate.ts';
import { parseQuery } from '../../routing/query.ts';
import { type ConnData, type WsHub, newConn } from './hub.ts';
import { type ClientMessage, type EventFilter, FIREHOSE_EVENT_TYPES, negotiate } from './protocol.ts';

/** `?token=` is accepted on every stream route (docs/api.md, "Authentication"); auth reads it in `requestContext`. */
const token = { type: 'string', maxLength: 4096 } as const;

/**
 * The WebSocket routes as data (same shape as the REST table, for validation and OpenAPI).
 * They are mounted here, not by the router: an upgrade is not a request/reply.
 */
export const WS_ROUTES = [
  {
    id: 'wsSocket',
    method: 'get',
    path: '/ws',
    summary: 'WebSocket: subscriptions by message (subprotocols `actorflow.json`, `actorflow.msgpack`).',
    tag: 'streams',
    query: object({ token }),
    status: 101,
  },
  {
    id: 'wsExecution',
    method: 'get',
    path: '/ws/executions/{id}',
    summary: 'WebSocket subscribed to one execution from seq 1 (or after `?since=`), subscription id = the execution id.',
    tag: 'streams',
    params: object({ id: executionId }, ['id']),
    paramNotFound: { id: ErrorCode.executionNotFound },
    query: object({ since: { type: 'integer', minimum: 0 }, token }),
    status: 101,
  },
  {
    id: 'wsEvents',
    method: 'get',
    path: '/ws/events',
    summary: 'WebSocket firehose (live), subscription id `events`; filters `?workflow=`, `?types=a,b`, `?label.<k>=<v>`.',
    tag: 'streams',
    query: object({ workflow: shortString, types: { type: 'array', items: { type: 'string', enum: [...FIREHOSE_EVENT_TYPES] }, minItems: 1 }, labels, token }),
    status: 101,
  },
] as const satisfies readonly RouteSpec[];

/** Subscription id of the `/ws/events` shortcut. */
export const EVENTS_SHORTCUT_ID = 'events';

export interface WsMountDeps {
  readonly app: TemplatedApp;
  readonly hub: WsHub;
  readonly engine: Engine;
  readonly logger: Logger;
  readonly options: StreamOptions;
  /** Authentication (header or `?token=`), the `read` scope, rate limit and the per-credential socket cap. */
  readonly gate: Gate;
}

type Shortcut = (typeof WS_ROUTES)[number]['id'];

/** Registers the three WebSocket routes; call before the router's catch-all. */
export function mountWebSockets(d: WsMountDeps): void {
  const compiled = compileRoutes(WS_ROUTES);
  const o = d.options;
  WS_ROUTES.forEach((spec, i) => {
    const route = compiled[i] as CompiledRoute;
    d.app.ws<ConnData>(BASE_PATH + spec.path.replace(/\{(\w+)\}/g, ':$1'), {
      compression: 0,
      maxPayloadLength: o.maxMessageBytes,
      maxBackpressure: o.maxBufferedBytes + o.backpressureHeadroomBytes,
      // A frame dropped at the hard cap closes the socket: the client reconnects with `since`, never misses silently.
      closeOnBackpressureLimit: 1,
      idleTimeout: o.idleTimeoutS,
      sendPingsAutomatically: true,
      upgrade: (res, req, context) => upgrade(d, spec.id, route, res, req, context),
      open: (ws) => {
        const p = ws.getUserData().principal;
        if (p !== undefined) d.gate.socketOpened(p);
        d.hub.opened(ws);
      },
      message: (ws, data, isBinary) => d.hub.message(ws, data, isBinary),
      drain: (ws) => d.hub.drained(ws),
      close: (ws) => {
        const p = ws.getUserData().principal;
        if (p !== undefined) d.gate.socketClosed(p);
        d.hub.closed(ws);
      },
    });
  });
}

function upgrade(d: WsMountDeps, kind: Shortcut, route: CompiledRoute, res: HttpResponse, req: HttpRequest, context: us_socket_context_t): void {
  const ex = openExchange(res, req);
  try {
    const key = req.getHeader('sec-websocket-key');
    const { format, protocol } = negotiate(req.getHeader('sec-websocket-protocol'));
    const extensions = req.getHeader('sec-websocket-extensions');
    const rawQuery = req.getQuery() ?? '';
    const param = kind === 'wsExecution' ? req.getParameter(0) : '';
    const cred = d.gate.credentialOf(req, rawQuery);
    // `req` is not touched after this point.

    const proceed = (principal: Principal): void => {
      if (!d.gate.socketOpened(principal)) {
        return writeProblem(ex, problemFor(ErrorCode.rateLimited, 'Too many open WebSockets for this credential.'), { headers: { 'retry-after': '1' } });
      }
      // Counted for real in `open`; this only checked the cap.
      d.gate.socketClosed(principal);
      const tenant = principal.tenant;
      const issues: Issue[] = [];
      const query = parseQuery(rawQuery, route, issues);
      if (!route.validateQuery(query)) toIssues(route.validateQuery.errors, '/query', issues);
      if (issues.length > 0) return writeProblem(ex, problemFor(ErrorCode.validationFailed, 'The request is invalid; see `errors`.', issues));

      const accept = (initial: ClientMessage | null): void => {
        if (!ex.open) return;
        ex.open = false;
        res.cork(() => res.upgrade<ConnData>({ conn: newConn(tenant, format, initial), principal }, key, protocol, extensions, context));
      };

      switch (kind) {
        case 'wsSocket':
          return accept(null);
        case 'wsEvents': {
          const filter: { workflow?: string; types?: string[]; labels?: Record<string, string> } = {};
          if (typeof query['workflow'] === 'string') filter.workflow = query['workflow'];
          if (Array.isArray(query['types'])) filter.types = [...new Set(query['types'] as string[])];
          const lbl = query['labels'] as Record<string, string> | undefined;
          if (lbl !== undefined && Object.keys(lbl).length > 0) filter.labels = { ...lbl };
          return accept({ op: 'subscribe', kind: 'filter', id: EVENTS_SHORTCUT_ID, filter: filter satisfies EventFilter });
        }
        case 'wsExecution': {
          const id = parseExecutionId(param);
          if (id === undefined) return writeProblem(ex, problemFor(ErrorCode.executionNotFound, `execution_not_found: ${JSON.stringify(param)}`));
          const since = typeof query['since'] === 'number' ? query['since'] : 0;
          // Unknown (or another tenant's) execution: a plain 404 before upgrading.
          d.engine.get(tenant, id).then(
            () => accept({ op: 'subscribe', kind: 'execution', id, executionId: id, since }),
            (err: unknown) => writeProblem(ex, toProblem(err)),
          );
          return;
        }
        default:
          kind satisfies never;
      }
    };

    const admitted = d.gate.admit(ex, cred, Scope.read);
    if (admitted === undefined) return;
    if (!(admitted instanceof Promise)) return proceed(admitted);
    admitted.then(
      (p) => {
        if (p !== undefined && ex.open) proceed(p);
      },
      (err: unknown) => writeProblem(ex, toProblem(err)),
    );
  } catch (err) {
    d.logger.error('websocket upgrade failed', { error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    writeProblem(ex, toProblem(err));
  }
}
