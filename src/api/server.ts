/** @module api/server — createApiServer: the uWS app with every REST route mounted (docs/api.md). */
import { readFileSync } from 'node:fs';
import uWS, { type us_listen_socket, type us_socket } from 'uWebSockets.js';
import type { Engine } from '../engine/types.ts';
import type { Scheduler } from '../scheduler/scheduler.ts';
import type { WebhookDispatcher } from '../webhooks/types.ts';
import type { Logger } from '../shared/logger.ts';
import type { AuthStore, TelemetryStore } from '../store/types.ts';
import { adminHandlers } from './resources/admin/handlers.ts';
import { agentsHandlers } from './resources/agents/handlers.ts';
import { createAuditLog } from './auth/audit-log.ts';
import { dashboardHandlers } from './static/dashboard-handlers.ts';
import { type BootstrapResult, bootstrapAdminKey } from './auth/bootstrap.ts';
import { createGate } from './auth/gate.ts';
import { createKeyRing } from './auth/key-ring.ts';
import { DEFAULT_REQUEST_TIMEOUT_MS, type AuthSettings } from './auth/types.ts';
import { RequestDeadlines } from './http/deadlines.ts';
import { definitionsHandlers } from './resources/definitions/handlers.ts';
import { executionsHandlers } from './resources/executions/handlers.ts';
import { graphqlHandlers } from './resources/graphql/handlers.ts';
import { opsHandlers } from './resources/ops/handlers.ts';
import { METRICS_ROUTE_IDS } from './resources/ops/routes.ts';
import { createApiMetrics } from './observability/metrics.ts';
import { metricsHandlers } from './resources/ops/handlers.ts';
import { buildOpenApi } from './routing/openapi.ts';
import { referenceHandlers } from './static/reference-handlers.ts';
import { schedulesHandlers } from './resources/schedules/handlers.ts';
import { tasksHandlers } from './resources/tasks/handlers.ts';
import { createTasks } from '../tasks/task-service.ts';
import { webhooksHandlers } from './resources/webhooks/handlers.ts';
import { telemetryHandlers } from './resources/telemetry/handlers.ts';
import { createTelemetryService } from '../telemetry/telemetry-service.ts';
import { mountRoutes } from './routing/router.ts';
import { ROUTES, type RouteId } from './routes.ts';
import type { StreamOptions } from './streams/options.ts';
import { type StreamStats, createStreams } from './streams/create-streams.ts';
import type { ApiDeps, RouteHandler, RouteSpec } from './routing/route-spec.ts';
import { compileRoutes } from './routing/validate.ts';
import { WS_ROUTES } from './streams/ws/upgrade.ts';

/** uSockets listen options (the typings of the uWS fork lack the host + options form of listen). */
const LISTEN_DEFAULT = 0;
const LISTEN_EXCLUSIVE_PORT = 1;

export interface ApiServerOptions {
  readonly engine: Engine;
  /** Schedules (`/schedules` routes). */
  readonly scheduler: Scheduler;
  /** Outbound webhooks (`/webhooks` routes). */
  readonly webhooks: WebhookDispatcher;
  /** Read-only aggregates of the journal (`/telemetry/*` routes). */
  readonly telemetry: TelemetryStore;
  /** Bind address, e.g. `127.0.0.1`. */
  readonly host: string;
  /** `0` picks any free port; read the real one from `ApiServer.port`. */
  readonly port: number;
  /** Request bodies past this many bytes get 413 `payload_too_large`. */
  readonly maxBodyBytes: number;
  readonly logger: Logger;
  /** WebSocket/SSE limits (slow-consumer threshold, idle timeout…); defaults in api/streams/options.ts. */
  readonly streams?: Partial<StreamOptions> | undefined;
  readonly auth: ApiAuthOptions;
  /** Serve `/metrics` without a credential (`ACTORFLOW_METRICS_PUBLIC=1`). @default false */
  readonly metricsPublic?: boolean | undefined;
  /** Share the port with other processes (SO_REUSEPORT; the kernel splits connections between them). @default false: a port in use is an error */
  readonly reusePort?: boolean | undefined;
  /** The journal's `<db>-wal` file, reported as `actorflow_wal_bytes`; unset = no such gauge. */
  readonly walFile?: string | undefined;
}

/** Credentials, limits and audit of the server. */
export interface ApiAuthOptions {
  /** Keys and audit entries (SQLite). */
  readonly store: AuthStore;
  readonly settings: AuthSettings;
  /** Where a generated admin key is written (`admin.key`, mode 0600). */
  readonly dataDir: string;
  /** `ACTORFLOW_ADMIN_KEY`. */
  readonly adminKey?: string | undefined;
  /** Shows a generated admin key once (console, not the structured log). */
  readonly print: (text: string) => void;
}

export interface ApiServer {
  /** The port actually listened on. */
  readonly port: number;
  /** Stops listening and ends open connections (keep-alive included). Idempotent. */
  close(): Promise<void>;
  /** Sockets, subscriptions and topics of the WebSocket hub right now. */
  streamStats(): StreamStats;
  /** What the admin-key bootstrap did at boot. */
  readonly bootstrap: BootstrapResult;
  /** Writes queued audit entries now (tests, shutdown). */
  flushAudit(): Promise<void>;
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/**
 * Starts the HTTP API on uWebSockets.js. Schemas are compiled once here; the promise resolves
 * when the socket accepts connections and rejects if the address cannot be bound.
 * @example
 * const api = await createApiServer({ engine, host: '127.0.0.1', port: 0, maxBodyBytes: 1 << 20, logger, auth: { store, settings: {}, dataDir, print } });
 * console.log(api.port); await api.close();
 */
export async function createApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const deps: ApiDeps = { engine: opts.engine, logger: opts.logger, version: packageVersion(), startedAt: Date.now() };
  const streams = createStreams({ engine: opts.engine, logger: opts.logger, options: opts.streams });
  const keys = await createKeyRing(opts.auth.store, opts.logger);
  const audit = createAuditLog(opts.auth.store, opts.logger);
  const gate = createGate({ settings: opts.auth.settings, keys, audit, logger: opts.logger });
  let bootstrap: BootstrapResult = { kind: 'existing' };
  if (gate.disabled) {
    opts.logger.warn('authentication is OFF (--no-auth / ACTORFLOW_NO_AUTH): every request is admin of tenant "default"; development only');
  } else {
    bootstrap = await bootstrapAdminKey({ keys, dataDir: opts.auth.dataDir, adminKey: opts.auth.adminKey, print: opts.auth.print });
  }
  // The routes as served: the same specs mount the router and generate the OpenAPI document.
  const routes: readonly RouteSpec[] = ROUTES.map((spec): RouteSpec => (opts.metricsPublic === true && METRICS_ROUTE_IDS.has(spec.id) ? { ...spec, auth: 'none' } : spec));
  const openapi = buildOpenApi([...routes, ...WS_ROUTES], { version: deps.version });
  const metrics = createApiMetrics({ engine: opts.engine, streamStats: () => streams.stats(), walFile: opts.walFile });
  const handlers = {
    ...adminHandlers({ keys, audit }),
    ...referenceHandlers(openapi),
    ...dashboardHandlers(),
    ...metricsHandlers(metrics),
    ...definitionsHandlers(deps),
    ...executionsHandlers(deps),
    ...opsHandlers(deps),
    ...agentsHandlers(deps),
    ...graphqlHandlers(deps),
    ...schedulesHandlers({ engine: opts.engine, scheduler: opts.scheduler }),
    ...tasksHandlers(createTasks(opts.engine)),
    ...webhooksHandlers({ engine: opts.engine, webhooks: opts.webhooks }),
    ...telemetryHandlers({ engine: opts.engine, telemetry: createTelemetryService(opts.telemetry), clock: { now: () => Date.now() } }),
    ...streams.handlers,
  } satisfies Record<RouteId, RouteHandler>;

  const app = uWS.App();
  streams.mount(app, gate);
  const deadlines = new RequestDeadlines(opts.auth.settings.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS);
  mountRoutes(app, compileRoutes(routes), handlers, { maxBodyBytes: opts.maxBodyBytes, logger: opts.logger, gate, timerFor: metrics.routeTimer, deadlines });

  const listenSocket = await new Promise<us_listen_socket>((resolve, reject) => {
    // uWS shares ports by default: a second server on a busy port would silently get half the
    // connections (with other credentials, other data). Exclusive unless sharing was asked for.
    const listen = app.listen as unknown as (host: string, port: number, options: number, cb: (s: us_listen_socket | false) => void) => void;
    listen.call(app, opts.host, opts.port, opts.reusePort === true ? LISTEN_DEFAULT : LISTEN_EXCLUSIVE_PORT, (socket) => {
      if (socket !== false) return resolve(socket);
      const why = opts.reusePort === true ? '' : ' (already in use? stop the other process, choose another port, or set ACTORFLOW_REUSE_PORT=1 to share it on purpose)';
      reject(new Error(`cannot listen on ${opts.host}:${opts.port}${why}`));
    });
  }).catch(async (err: unknown) => {
    metrics.close();
    deadlines.close();
    await gate.close();
    throw err;
  });
  // A listen socket is a socket for uSockets; the typings keep the two apart.
  const port = uWS.us_socket_local_port(listenSocket as us_socket);
  opts.logger.info(`listening on http://${opts.host}:${port}`, { host: opts.host, port });

  let closed = false;
  return {
    port,
    streamStats: () => streams.stats(),
    bootstrap,
    flushAudit: () => audit.flush(),
    close: async () => {
      if (closed) return;
      closed = true;
      uWS.us_listen_socket_close(listenSocket);
      streams.close();
      metrics.close();
      // Not in the typings of this build, present at runtime: ends keep-alive connections too.
      (app as { close?: () => void }).close?.();
      // Pending audit entries and last-used times are written before the store closes.
      await gate.close();
    },
  };
}
