/** @module cli/config — server settings from flags, then env vars, then defaults (docs/configuration.md). */
import { parseArgs } from 'node:util';
import type { JwtSettings, RateLimit } from '../api/auth/types.ts';
import { isLogLevel, LOG_LEVELS } from '../common/logger.ts';
import type { ServeConfig } from './serve.ts';
import { DEFAULT_HEAP_GROWING_PERCENT } from './heap-tuning.ts';
import { DEFAULT_INTERRUPT_BUDGET } from './jit-tuning.ts';

export class ConfigError extends Error {
  readonly code = 'invalid_config';
}

export function readServeConfig(argv: string[], env: NodeJS.ProcessEnv): ServeConfig {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      'data-dir': { type: 'string' },
      sync: { type: 'string' },
      machines: { type: 'string' },
      'max-body': { type: 'string' },
      quiet: { type: 'boolean' },
      'log-level': { type: 'string' },
      'otlp-endpoint': { type: 'string' },
      nats: { type: 'string' },
      cluster: { type: 'boolean' },
      'node-id': { type: 'string' },
      'nats-prefix': { type: 'string' },
      'no-builtin-agents': { type: 'boolean' },
      'no-auth': { type: 'boolean' },
      'reuse-port': { type: 'boolean' },
      'rate-limit': { type: 'string' },
      'cors-origins': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'tls-ca': { type: 'string' },
    },
    strict: true,
  });
  const port = Number(values.port ?? env.ACTORFLOW_PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`invalid port: ${values.port ?? env.ACTORFLOW_PORT}`);
  const sync = values.sync ?? env.ACTORFLOW_SYNC ?? 'full';
  if (sync !== 'full' && sync !== 'normal') throw new ConfigError(`ACTORFLOW_SYNC must be full or normal, not ${sync}`);
  const maxBody = Number(values['max-body'] ?? env.ACTORFLOW_MAX_BODY ?? 1_048_576);
  const natsUrl = values.nats ?? env.NATS_URL ?? env.ACTORFLOW_NATS_URL;
  if (!Number.isInteger(maxBody) || maxBody < 1) throw new ConfigError('invalid max body');
  return {
    host: values.host ?? env.ACTORFLOW_HOST ?? '127.0.0.1',
    port,
    dataDir: values['data-dir'] ?? env.ACTORFLOW_DATA_DIR ?? './data',
    sync,
    machinesDir: values.machines ?? env.ACTORFLOW_MACHINES_DIR ?? './machines',
    maxBodyBytes: maxBody,
    quiet: values.quiet ?? false,
    ...logLevelOf(values['log-level'], values.quiet === true ? undefined : env.ACTORFLOW_LOG_LEVEL),
    ...otlpOf(values['otlp-endpoint'], env),
    ...(natsUrl ? { natsUrl } : {}),
    ...clusterOf(values.cluster === true || isTrue(env.ACTORFLOW_CLUSTER), values['node-id'] ?? env.ACTORFLOW_NODE_ID, natsUrl, env),
    ...(values['nats-prefix'] ?? env.ACTORFLOW_NATS_PREFIX ? { natsPrefix: (values['nats-prefix'] ?? env.ACTORFLOW_NATS_PREFIX) as string } : {}),
    builtinAgents: !(values['no-builtin-agents'] ?? env.ACTORFLOW_NO_BUILTIN_AGENTS === '1'),
    noAuth: values['no-auth'] ?? isTrue(env.ACTORFLOW_NO_AUTH),
    metricsPublic: isTrue(env.ACTORFLOW_METRICS_PUBLIC),
    reusePort: values['reuse-port'] ?? isTrue(env.ACTORFLOW_REUSE_PORT),
    webhookAllowPrivate: isTrue(env.ACTORFLOW_WEBHOOK_ALLOW_PRIVATE),
    ...(env.ACTORFLOW_WEBHOOK_RETRY_MS ? { webhookRetryMs: parseRetryMs(env.ACTORFLOW_WEBHOOK_RETRY_MS) } : {}),
    ...(env.ACTORFLOW_PASSIVATE_MS ? { passivateMs: parseIntIn('ACTORFLOW_PASSIVATE_MS', env.ACTORFLOW_PASSIVATE_MS, 1, 86_400_000) } : {}),
    ...(env.ACTORFLOW_PASSIVATE_QUIET_MS ? { passivateQuietMs: parseIntIn('ACTORFLOW_PASSIVATE_QUIET_MS', env.ACTORFLOW_PASSIVATE_QUIET_MS, 1, 86_400_000) } : {}),
    ...(env.ACTORFLOW_SNAPSHOT_EVERY ? { snapshotEveryInputs: parseIntIn('ACTORFLOW_SNAPSHOT_EVERY', env.ACTORFLOW_SNAPSHOT_EVERY, 1, 100_000) } : {}),
    ...(env.ACTORFLOW_MAX_LIVE ? { maxLive: parseIntIn('ACTORFLOW_MAX_LIVE', env.ACTORFLOW_MAX_LIVE, 1, 100_000_000) } : {}),
    ...(env.ACTORFLOW_V8_PRETENURING === '1' ? { pretenuring: true } : {}),
    ...(env.ACTORFLOW_FAST_COMMIT_ROWS ? { fastCommitRows: parseIntIn('ACTORFLOW_FAST_COMMIT_ROWS', env.ACTORFLOW_FAST_COMMIT_ROWS, 0, 10_000) } : {}),
    heapGrowingPercent: env.ACTORFLOW_HEAP_GROWING_PERCENT ? parseIntIn('ACTORFLOW_HEAP_GROWING_PERCENT', env.ACTORFLOW_HEAP_GROWING_PERCENT, 0, 1000) : DEFAULT_HEAP_GROWING_PERCENT,
    interruptBudget: env.ACTORFLOW_V8_INTERRUPT_BUDGET ? parseIntIn('ACTORFLOW_V8_INTERRUPT_BUDGET', env.ACTORFLOW_V8_INTERRUPT_BUDGET, 0, 10_000_000) : DEFAULT_INTERRUPT_BUDGET,
    walPreallocate: env.ACTORFLOW_WAL_PREALLOCATE === undefined || isTrue(env.ACTORFLOW_WAL_PREALLOCATE),
    natsEvents: env.ACTORFLOW_NATS_EVENTS === undefined || isTrue(env.ACTORFLOW_NATS_EVENTS),
    ...(env.ACTORFLOW_ADMIN_KEY ? { adminKey: env.ACTORFLOW_ADMIN_KEY } : {}),
    rateLimit: parseRateLimit(values['rate-limit'] ?? env.ACTORFLOW_RATE_LIMIT ?? '2000:4000'),
    corsOrigins: (values['cors-origins'] ?? env.ACTORFLOW_CORS_ORIGINS ?? '').split(',').map((o) => o.trim()).filter((o) => o !== ''),
    ...jwtFromEnv(env),
    ...tlsOf(values['tls-cert'] ?? env.ACTORFLOW_TLS_CERT, values['tls-key'] ?? env.ACTORFLOW_TLS_KEY, values['tls-ca'] ?? env.ACTORFLOW_TLS_CA),
  };
}

/**
 * Cluster mode (`--cluster`, ACTORFLOW_CLUSTER=1) needs a node id and the cluster's NATS servers. Replicas of
 * the journal default to the number of servers listed, at most 3 (R3 on a 3-server NATS cluster).
 */
function clusterOf(on: boolean, nodeId: string | undefined, natsUrl: string | undefined, env: NodeJS.ProcessEnv): Pick<ServeConfig, 'cluster'> {
  if (!on) return {};
  if (!nodeId) throw new ConfigError('cluster mode needs a node id: --node-id or ACTORFLOW_NODE_ID');
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(nodeId)) throw new ConfigError(`a node id is 1-64 letters, digits, '_' or '-', not ${nodeId}`);
  if (!natsUrl) throw new ConfigError('cluster mode needs the NATS servers: --nats or NATS_URL (ACTORFLOW_NATS_URL)');
  const servers = natsUrl.split(',').filter((u) => u.trim() !== '').length;
  return {
    cluster: {
      nodeId,
      replicas: env.ACTORFLOW_CLUSTER_REPLICAS ? parseIntIn('ACTORFLOW_CLUSTER_REPLICAS', env.ACTORFLOW_CLUSTER_REPLICAS, 1, 5) : Math.min(3, servers),
      ...(env.ACTORFLOW_CLUSTER_PARTITIONS ? { partitions: parseIntIn('ACTORFLOW_CLUSTER_PARTITIONS', env.ACTORFLOW_CLUSTER_PARTITIONS, 1, 4096) } : {}),
      ...(env.ACTORFLOW_LEASE_TTL_MS ? { leaseTtlMs: parseIntIn('ACTORFLOW_LEASE_TTL_MS', env.ACTORFLOW_LEASE_TTL_MS, 500, 60_000) } : {}),
      ...(env.ACTORFLOW_FORWARD_DEADLINE_MS ? { forwardDeadlineMs: parseIntIn('ACTORFLOW_FORWARD_DEADLINE_MS', env.ACTORFLOW_FORWARD_DEADLINE_MS, 1, 60_000) } : {}),
      ...snapshotsOf(env),
    },
  };
}

/**
 * Read-model snapshots and journal compaction: ACTORFLOW_SNAPSHOT_INTERVAL_MS (how often the partition-0 owner
 * considers one; 0 = never; default 10 min), ACTORFLOW_SNAPSHOT_MIN_COMMITS (commits applied since the last one;
 * default 1000), ACTORFLOW_COMPACT_MARGIN (stream sequences kept below what a snapshot covers; default 10000).
 */
function snapshotsOf(env: NodeJS.ProcessEnv): Pick<NonNullable<ServeConfig['cluster']>, 'snapshots'> {
  const s = {
    ...(env.ACTORFLOW_SNAPSHOT_INTERVAL_MS ? { intervalMs: parseIntIn('ACTORFLOW_SNAPSHOT_INTERVAL_MS', env.ACTORFLOW_SNAPSHOT_INTERVAL_MS, 0, 86_400_000) } : {}),
    ...(env.ACTORFLOW_SNAPSHOT_MIN_COMMITS ? { minCommits: parseIntIn('ACTORFLOW_SNAPSHOT_MIN_COMMITS', env.ACTORFLOW_SNAPSHOT_MIN_COMMITS, 1, 1_000_000_000) } : {}),
    ...(env.ACTORFLOW_COMPACT_MARGIN ? { compactMargin: parseIntIn('ACTORFLOW_COMPACT_MARGIN', env.ACTORFLOW_COMPACT_MARGIN, 0, 1_000_000_000) } : {}),
  };
  return Object.keys(s).length === 0 ? {} : { snapshots: s };
}

/** Certificate and key go together; a CA (client certificates required) needs both. The files are read at startup (api/http/tls-files.ts). */
function tlsOf(cert: string | undefined, key: string | undefined, ca: string | undefined): Pick<ServeConfig, 'tls'> {
  const [c, k, a] = [cert, key, ca].map((v) => (v === '' ? undefined : v));
  if (c === undefined && k === undefined) {
    if (a !== undefined) throw new ConfigError('ACTORFLOW_TLS_CA (--tls-ca) needs ACTORFLOW_TLS_CERT and ACTORFLOW_TLS_KEY (--tls-cert, --tls-key): client certificates are checked over TLS only');
    return {};
  }
  if (c === undefined || k === undefined) throw new ConfigError(`ACTORFLOW_TLS_CERT and ACTORFLOW_TLS_KEY (--tls-cert, --tls-key) go together: only the ${c === undefined ? 'key' : 'certificate'} is set`);
  return { tls: { certFile: c, keyFile: k, ...(a === undefined ? {} : { caFile: a }) } };
}

/** An integer setting within [min, max]. */
function parseIntIn(name: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be an integer in ${min}..${max}, not ${text}`);
  return n;
}

/** ACTORFLOW_WEBHOOK_RETRY_MS: first retry gap of webhook deliveries, a positive integer of ms. */
function parseRetryMs(text: string): number {
  const ms = Number(text);
  if (!Number.isInteger(ms) || ms < 1 || ms > 300_000) throw new ConfigError(`ACTORFLOW_WEBHOOK_RETRY_MS must be an integer of ms in 1..300000, not ${text}`);
  return ms;
}

/** `--log-level` wins over `--quiet`, which wins over ACTORFLOW_LOG_LEVEL. */
function logLevelOf(flag: string | undefined, fromEnv: string | undefined): Pick<ServeConfig, 'logLevel'> {
  const v = flag ?? (fromEnv === '' ? undefined : fromEnv);
  if (v === undefined) return {};
  if (!isLogLevel(v)) throw new ConfigError(`ACTORFLOW_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, not ${v}`);
  return { logLevel: v };
}

/** OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is the traces URL as is; OTEL_EXPORTER_OTLP_ENDPOINT (or `--otlp-endpoint`) gets `/v1/traces`. */
function otlpOf(flag: string | undefined, env: NodeJS.ProcessEnv): Pick<ServeConfig, 'otlpEndpoint'> {
  const base = flag ?? env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const url = flag === undefined && env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ? env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT : base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined;
  if (url === undefined) return {};
  if (!/^https?:\/\/\S+$/.test(url)) throw new ConfigError(`the OTLP endpoint must be an http(s) URL, not ${url}`);
  return { otlpEndpoint: url };
}

const isTrue = (v: string | undefined): boolean => v !== undefined && ['1', 'true', 'yes', 'on'].includes(v.toLowerCase());

/** `rps:burst` (burst defaults to 2 × rps); `0` turns the default limit off. */
export function parseRateLimit(text: string): RateLimit | null {
  if (text.trim() === '0') return null;
  const [a = '', b] = text.split(':');
  const rps = Number(a);
  const burst = b === undefined ? Math.max(1, Math.ceil(rps * 2)) : Number(b);
  if (!(rps > 0) || !Number.isFinite(rps) || !Number.isInteger(burst) || burst < 1) {
    throw new ConfigError(`ACTORFLOW_RATE_LIMIT must be rps:burst (e.g. 2000:4000) or 0, not ${text}`);
  }
  return { rps, burst };
}

/** ACTORFLOW_JWT_SECRET (HS256) or ACTORFLOW_JWT_JWKS (URL or file), with optional issuer/audience. */
function jwtFromEnv(env: NodeJS.ProcessEnv): { jwt?: JwtSettings } {
  const secret = env.ACTORFLOW_JWT_SECRET;
  const jwks = env.ACTORFLOW_JWT_JWKS;
  if (!secret && !jwks) return {};
  if (secret && jwks) throw new ConfigError('set ACTORFLOW_JWT_SECRET or ACTORFLOW_JWT_JWKS, not both');
  if (secret !== undefined && secret !== '' && secret.length < 32) throw new ConfigError('ACTORFLOW_JWT_SECRET must have at least 32 characters');
  return {
    jwt: {
      ...(secret ? { secret } : {}),
      ...(jwks ? { jwks } : {}),
      ...(env.ACTORFLOW_JWT_ISSUER ? { issuer: env.ACTORFLOW_JWT_ISSUER } : {}),
      ...(env.ACTORFLOW_JWT_AUDIENCE ? { audience: env.ACTORFLOW_JWT_AUDIENCE } : {}),
    },
  };
}
