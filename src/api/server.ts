/**
 * @module api/server — createApiServer: the uWS app with every route mounted (docs/api.md), and
 * listening. The services it serves and the gate come from the composition root (src/cli/serve.ts);
 * its own parts (streams, metrics, request deadlines, the OpenAPI document) are built here.
 */
import uWS, { type us_listen_socket, type us_socket } from 'uWebSockets.js';
import type { Logger } from '../common/logger.ts';
import type { Gate } from './auth/gate.ts';
import { routeHandlers } from './handlers.ts';
import { DEFAULT_REQUEST_TIMEOUT_MS, RequestDeadlines } from './http/deadlines.ts';
import { createApiMetrics } from './observability/metrics.ts';
import { METRICS_ROUTE_IDS } from './resources/ops/routes.ts';
import { ROUTES } from './routes.ts';
import { buildOpenApi } from './routing/openapi.ts';
import type { RouteSpec } from './routing/route-spec.ts';
import { mountRoutes } from './routing/router.ts';
import { compileRoutes } from './routing/validate.ts';
import type { ApiServices } from './services.ts';
import { type StreamStats, createStreams } from './streams/create-streams.ts';
import type { StreamOptions } from './streams/options.ts';
import { WS_ROUTES } from './streams/ws/upgrade.ts';

/** uSockets listen options (the typings of the uWS fork lack the host + options form of listen). */
const LISTEN_DEFAULT = 0;
const LISTEN_EXCLUSIVE_PORT = 1;

export interface ApiServerOptions {
  readonly services: ApiServices;
  /** Authentication, scopes, rate limits, CORS and audit (api/auth/create-auth.ts); its owner closes it after the server. */
  readonly gate: Gate;
  /** The package version (`/health`, the OpenAPI document). */
  readonly version: string;
  /** Epoch ms the server started at (`/health` uptime). */
  readonly startedAt: number;
  /** Bind address, e.g. `127.0.0.1`. */
  readonly host: string;
  /** `0` picks any free port; read the real one from `ApiServer.port`. */
  readonly port: number;
  /** Request bodies past this many bytes get 413 `payload_too_large`. */
  readonly maxBodyBytes: number;
  readonly logger: Logger;
  /** WebSocket/SSE limits (slow-consumer threshold, idle timeout…); defaults in api/streams/options.ts. */
  readonly streams?: Partial<StreamOptions> | undefined;
  /** A handler that has not answered by then gets 503 `request_timeout`. @default 30000 */
  readonly requestTimeoutMs?: number | undefined;
  /** Serve `/metrics` without a credential (`ACTORFLOW_METRICS_PUBLIC=1`). @default false */
  readonly metricsPublic?: boolean | undefined;
  /** Share the port with other processes (SO_REUSEPORT; the kernel splits connections between them). @default false: a port in use is an error */
  readonly reusePort?: boolean | undefined;
  /** The journal's `<db>-wal` file, reported as `actorflow_wal_bytes`; unset = no such gauge. */
  readonly walFile?: string | undefined;
}

export interface ApiServer {
  /** The port actually listened on. */
  readonly port: number;
  /** Stops listening and ends open connections (keep-alive included). Idempotent. */
  close(): Promise<void>;
  /** Sockets, subscriptions and topics of the WebSocket hub right now. */
  streamStats(): StreamStats;
}

/**
 * Starts the HTTP API on uWebSockets.js. Schemas are compiled once here; the promise resolves
 * when the socket accepts connections and rejects if the address cannot be bound.
 * @example
 * const api = await createApiServer({ services, gate, version, startedAt: Date.now(), host: '127.0.0.1', port: 0, maxBodyBytes: 1 << 20, logger });
 * console.log(api.port); await api.close(); await gate.close();
 */
export async function createApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const { services, gate } = opts;
  const streams = createStreams({ engine: services.engine, logger: opts.logger, options: opts.streams });
  // The routes as served: the same specs mount the router and generate the OpenAPI document.
  const routes: readonly RouteSpec[] = ROUTES.map((spec): RouteSpec => (opts.metricsPublic === true && METRICS_ROUTE_IDS.has(spec.id) ? { ...spec, auth: 'none' } : spec));
  const openapi = buildOpenApi([...routes, ...WS_ROUTES], { version: opts.version });
  const metrics = createApiMetrics({ engine: services.engine, streamStats: () => streams.stats(), walFile: opts.walFile });
  const handlers = routeHandlers({ services, gate, version: opts.version, startedAt: opts.startedAt, openapi, metrics, streams });

  const app = uWS.App();
  streams.mount(app, gate);
  const deadlines = new RequestDeadlines(opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS);
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
    throw err;
  });
  // A listen socket is a socket for uSockets; the typings keep the two apart.
  const port = uWS.us_socket_local_port(listenSocket as us_socket);
  opts.logger.info(`listening on http://${opts.host}:${port}`, { host: opts.host, port });

  let closed = false;
  return {
    port,
    streamStats: () => streams.stats(),
    close: async () => {
      if (closed) return;
      closed = true;
      uWS.us_listen_socket_close(listenSocket);
      streams.close();
      metrics.close();
      // Not in the typings of this build, present at runtime: ends keep-alive connections too.
      (app as { close?: () => void }).close?.();
    },
  };
}
