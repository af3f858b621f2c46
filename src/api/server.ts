/**
 * @module api/server — createApiServer: the uWS app with every route mounted (docs/api.md), and
 * listening. The services it serves and the gate come from the composition root (src/cli/serve.ts);
 * its own parts (streams, metrics, request deadlines, the OpenAPI document) are built here.
 */
import type { Logger } from '../common/logger.ts';
import type { Gate } from './auth/gate.ts';
import { routeHandlers } from './handlers.ts';
import { DEFAULT_REQUEST_TIMEOUT_MS, RequestDeadlines } from './http/deadlines.ts';
import { createApp, listen } from './http/listener.ts';
import type { TlsMaterial } from './http/tls-files.ts';
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
  /** Serve HTTPS and WSS with these (checked) PEM files; with a CA, clients need a certificate it signed. Unset = plain HTTP. */
  readonly tls?: TlsMaterial | undefined;
}

export interface ApiServer {
  /** The port actually listened on. */
  readonly port: number;
  /** `https` when serving TLS. */
  readonly scheme: 'http' | 'https';
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
  const streams = createStreams({ engine: services.engine, bulkEvents: services.bulk.onEvent, logger: opts.logger, options: opts.streams });
  // The routes as served: the same specs mount the router and generate the OpenAPI document.
  const routes: readonly RouteSpec[] = ROUTES.map((spec): RouteSpec => (opts.metricsPublic === true && METRICS_ROUTE_IDS.has(spec.id) ? { ...spec, auth: 'none' } : spec));
  const openapi = buildOpenApi([...routes, ...WS_ROUTES], { version: opts.version });
  const metrics = createApiMetrics({ engine: services.engine, streamStats: () => streams.stats(), walFile: opts.walFile, cluster: services.cluster });
  const handlers = routeHandlers({ services, gate, version: opts.version, startedAt: opts.startedAt, openapi, metrics, streams });

  const app = createApp(opts.tls);
  streams.mount(app, gate);
  const deadlines = new RequestDeadlines(opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS);
  mountRoutes(app, compileRoutes(routes), handlers, { maxBodyBytes: opts.maxBodyBytes, logger: opts.logger, gate, timerFor: metrics.routeTimer, deadlines });

  const listening = await listen(app, { host: opts.host, port: opts.port, reusePort: opts.reusePort === true, tls: opts.tls }).catch(async (err: unknown) => {
    metrics.close();
    deadlines.close();
    throw err;
  });
  const { port, scheme } = listening;
  opts.logger.info(`listening on ${scheme}://${opts.host}:${port}`, { host: opts.host, port, ...(opts.tls === undefined ? {} : { mtls: opts.tls.ca !== undefined }) });

  let closed = false;
  return {
    port,
    scheme,
    streamStats: () => streams.stats(),
    close: async () => {
      if (closed) return;
      closed = true;
      listening.close();
      streams.close();
      metrics.close();
      // Not in the typings of this build, present at runtime: ends keep-alive connections too.
      (app as { close?: () => void }).close?.();
    },
  };
}
