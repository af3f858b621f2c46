/** @module tests/support/server — starts a real actorflow server (SQLite in a temp dir, uWS on port 0). */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClusterConfig, type Running, startActorflow } from '../../src/cli/serve.ts';
import type { JwtSettings, RateLimit } from '../../src/api/auth/types.ts';
import type { TlsFiles } from '../../src/api/http/tls-files.ts';
import type { StreamOptions } from '../../src/api/streams/options.ts';
import type { Engine } from '../../src/engine/types.ts';
import type { Clock } from '../../src/common/clock.ts';

export interface TestServerOptions {
  /** Reuse a data directory (restart/recovery tests); it is then never removed. */
  readonly dataDir?: string;
  readonly machinesDir?: string;
  readonly maxBodyBytes?: number;
  /** Keep a data directory this helper created after `close()` (to restart on it). */
  readonly keepDataDir?: boolean;
  /** NATS server(s): the NATS bus instead of the in-process one. */
  readonly natsUrl?: string;
  /** Subject prefix on NATS. */
  readonly natsPrefix?: string;
  /** Publish committed events on NATS. @default true */
  readonly natsEvents?: boolean;
  /** Run the built-in agents in this process. @default true */
  readonly builtinAgents?: boolean;
  /** WebSocket/SSE limits (e.g. a small slow-consumer threshold). */
  readonly streams?: Partial<StreamOptions>;
  /** Auth off (every request is admin of tenant `default`). @default true (false when `adminKey` is set) */
  readonly noAuth?: boolean;
  /** Bootstrap admin key (auth on). */
  readonly adminKey?: string;
  /** Default per-credential rate limit (null = none). @default null in tests */
  readonly rateLimit?: RateLimit | null;
  readonly jwt?: JwtSettings;
  readonly corsOrigins?: readonly string[];
  readonly maxSocketsPerCredential?: number;
  /** `/metrics` without a credential (ACTORFLOW_METRICS_PUBLIC). */
  readonly metricsPublic?: boolean;
  /** Time of the scheduler (e.g. a ManualClock); the engine keeps the system clock. */
  readonly clock?: Clock;
  /** OTLP/HTTP traces URL: spans are exported there (flushed on `close()`). */
  readonly otlpEndpoint?: string;
  /** Webhook URLs may be loopback/private (local receivers). @default false */
  readonly webhookAllowPrivate?: boolean;
  /** First webhook retry gap in ms. @default 1000 */
  readonly webhookRetryMs?: number;
  /** Passivate waiting executions after this many idle ms. @default 1000 */
  readonly passivateMs?: number;
  /** Passivate executions that nothing wakes soon (a signal wait, a distant timer) after this many idle ms. @default 100 */
  readonly passivateQuietMs?: number;
  /** A flow's snapshot every this many inputs (replay in between). @default 64 */
  readonly snapshotEveryInputs?: number;
  readonly maxLive?: number;
  /** Serve HTTPS/WSS from these PEM files (mTLS with `caFile`); `url` is then `https://…`. */
  readonly tls?: TlsFiles;
  /** One node of a cluster on `natsUrl` (cluster mode). */
  readonly cluster?: ClusterConfig;
}

export interface TestServer {
  /** Origin, e.g. `http://127.0.0.1:41234` (`https://` with `tls`; routes live under `/api/v1`). */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  readonly engine: Engine;
  /** The bootstrap admin key given in the options, if any. */
  readonly adminKey: string | undefined;
  /** Writes queued audit entries now. */
  flushAudit(): Promise<void>;
  /** WebSocket hub counters (sockets, subscriptions, topics, slow consumers closed). */
  streamStats(): ReturnType<Running['streamStats']>;
  /** Resolves once the scheduler has no fire or change in progress. */
  schedulerIdle(): Promise<void>;
  /** Stops the server; removes the data directory if this helper created it (unless `keepDataDir`). */
  close(): Promise<void>;
}

/**
 * Starts a server with `sync: 'normal'`, quiet logs, on a free port. Auth is off unless
 * `adminKey` is given or `noAuth: false` (security tests).
 */
export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const ownDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'actorflow-test-')));
  const app = await startActorflow({
    host: '127.0.0.1',
    port: 0,
    dataDir,
    sync: 'normal',
    quiet: true,
    // Warnings such as "authentication is OFF" would repeat for every test server.
    logLevel: 'error',
    ...(opts.machinesDir === undefined ? {} : { machinesDir: opts.machinesDir }),
    ...(opts.maxBodyBytes === undefined ? {} : { maxBodyBytes: opts.maxBodyBytes }),
    ...(opts.natsUrl === undefined ? {} : { natsUrl: opts.natsUrl }),
    ...(opts.natsPrefix === undefined ? {} : { natsPrefix: opts.natsPrefix }),
    ...(opts.natsEvents === undefined ? {} : { natsEvents: opts.natsEvents }),
    ...(opts.builtinAgents === undefined ? {} : { builtinAgents: opts.builtinAgents }),
    ...(opts.streams === undefined ? {} : { streams: opts.streams }),
    noAuth: opts.noAuth ?? opts.adminKey === undefined,
    ...(opts.adminKey === undefined ? {} : { adminKey: opts.adminKey }),
    rateLimit: opts.rateLimit ?? null,
    ...(opts.jwt === undefined ? {} : { jwt: opts.jwt }),
    ...(opts.corsOrigins === undefined ? {} : { corsOrigins: opts.corsOrigins }),
    ...(opts.maxSocketsPerCredential === undefined ? {} : { maxSocketsPerCredential: opts.maxSocketsPerCredential }),
    ...(opts.metricsPublic === undefined ? {} : { metricsPublic: opts.metricsPublic }),
    ...(opts.clock === undefined ? {} : { schedulerClock: opts.clock }),
    ...(opts.otlpEndpoint === undefined ? {} : { otlpEndpoint: opts.otlpEndpoint }),
    ...(opts.webhookAllowPrivate === undefined ? {} : { webhookAllowPrivate: opts.webhookAllowPrivate }),
    ...(opts.webhookRetryMs === undefined ? {} : { webhookRetryMs: opts.webhookRetryMs }),
    ...(opts.passivateMs === undefined ? {} : { passivateMs: opts.passivateMs }),
    ...(opts.passivateQuietMs === undefined ? {} : { passivateQuietMs: opts.passivateQuietMs }),
    ...(opts.snapshotEveryInputs === undefined ? {} : { snapshotEveryInputs: opts.snapshotEveryInputs }),
    ...(opts.maxLive === undefined ? {} : { maxLive: opts.maxLive }),
    ...(opts.tls === undefined ? {} : { tls: opts.tls }),
    ...(opts.cluster === undefined ? {} : { cluster: opts.cluster }),
  }).catch(async (err: unknown) => {
    // A server that did not start leaves no temp dir behind (bad-config tests).
    if (ownDir) await rm(dataDir, { recursive: true, force: true });
    throw err;
  });
  let closed = false;
  return {
    url: app.url,
    port: app.port,
    dataDir,
    engine: app.engine,
    adminKey: opts.adminKey,
    flushAudit: () => app.flushAudit(),
    streamStats: () => app.streamStats(),
    schedulerIdle: () => app.schedulerIdle(),
    close: async () => {
      if (closed) return;
      closed = true;
      await app.close();
      if (ownDir && opts.keepDataDir !== true) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
