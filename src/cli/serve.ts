/** @module cli/serve — the composition root: wires store, bus, built-in agents, engine, the services the API serves, and the API. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BootstrapResult } from '../api/auth/bootstrap.ts';
import { createAuth } from '../api/auth/create-auth.ts';
import { type ApiServer, createApiServer } from '../api/server.ts';
import { assertNativeUws } from '../api/http/uws-runtime.ts';
import { type TlsFiles, readTlsFiles } from '../api/http/tls-files.ts';
import type { JwtSettings, RateLimit } from '../api/auth/types.ts';
import { type StreamOptions, resolveStreamOptions } from '../api/streams/options.ts';
import { BUILTIN_AGENTS, serveBuiltinAgents } from '../agents/builtin-agents.ts';
import { type InProcessAgents, serveInProcessAgents } from '../agents/in-process-agents.ts';
import { createMemoryBus } from '../bus/memory-bus.ts';
import { createBulkOperations } from '../bulk/bulk-service.ts';
import { createDocuments } from '../documents/document-service.ts';
import { createEngine } from '../engine/create-engine.ts';
import type { Engine } from '../engine/types.ts';
import { lazyGraphql } from '../graphql/lazy-graphql.ts';
import { createHttpAgents } from '../http-agents/http-agents.ts';
import { createScheduler } from '../scheduler/scheduler.ts';
import { type Clock, systemClock } from '../common/clock.ts';
import { createConsoleLogger, type Logger, type LogLevelName } from '../common/logger.ts';
import { openSqliteStores } from '../store/sqlite/open-sqlite-stores.ts';
import { walFileOf } from '../store/sqlite/wal-checkpointer.ts';
import { createTasks } from '../tasks/task-service.ts';
import { createTelemetryService } from '../telemetry/telemetry-service.ts';
import { createTenantRegistry } from '../tenants/tenant-registry.ts';
import { createTemplates } from '../templates/template-service.ts';
import { loadTemplatesDir } from '../templates/templates-dir.ts';
import { loadInProcessAgents } from './machine-agents.ts';
import { applyHeapPolicy } from './heap-tuning.ts';
import { applyInterruptBudget } from './jit-tuning.ts';
import { prepareMachineModules } from './machine-modules.ts';
import { createWebhookDispatcher } from '../webhooks/dispatcher.ts';
import type { SnapshotSettings } from '../cluster/read-model-snapshotter.ts';
import { localWrites } from '../common/shared-writes.ts';
import type { ScheduleRow } from '../store/types.ts';

export interface ServeConfig {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly sync: 'full' | 'normal';
  readonly machinesDir?: string;
  /** @default 1048576 */
  readonly maxBodyBytes?: number;
  readonly quiet?: boolean;
  /** Log level of the stderr JSON logs (`ACTORFLOW_LOG_LEVEL`, `--log-level`); wins over `quiet`. @default info (warn when quiet) */
  readonly logLevel?: LogLevelName;
  readonly logger?: Logger;
  /** OTLP/HTTP traces URL (…/v1/traces): execution and step spans are exported there. Unset = no OpenTelemetry loaded. */
  readonly otlpEndpoint?: string;
  /** NATS server(s); unset = the in-process bus. In cluster mode: the cluster's servers, also the agents' bus. */
  readonly natsUrl?: string;
  /** Cluster mode (`--cluster`): this process is one node of a cluster sharing `natsUrl` (README, "Running a cluster"). Unset = single node. */
  readonly cluster?: ClusterConfig;
  /** Subject prefix on NATS. @default 'actorflow' */
  readonly natsPrefix?: string;
  /** Run the built-in agents in this process. @default true */
  readonly builtinAgents?: boolean;
  /** Your own agents, run in this process like the machines dir's `agents` exports (docs/agents.md, "In-process agents"). */
  readonly agents?: InProcessAgents;
  /** WebSocket/SSE limits; defaults in src/api/streams/options.ts. */
  readonly streams?: Partial<StreamOptions>;
  /** Development only: no credentials, every request is admin of tenant `default`. @default false */
  readonly noAuth?: boolean;
  /** Bootstrap admin key of tenant `default` (`ACTORFLOW_ADMIN_KEY`); else one is generated on first boot. */
  readonly adminKey?: string;
  /** Default per-credential rate limit; null = none (per-key limits still apply). @default { rps: 2000, burst: 4000 } */
  readonly rateLimit?: RateLimit | null;
  /** JWT credentials (HS256 secret or JWKS); unset = API keys only. */
  readonly jwt?: JwtSettings;
  /** Allowed CORS origins (`*` = any). @default [] */
  readonly corsOrigins?: readonly string[];
  /** Open WebSockets per credential. @default 1000 */
  readonly maxSocketsPerCredential?: number;
  /** Serve `/metrics` without a credential (`ACTORFLOW_METRICS_PUBLIC=1`). @default false */
  readonly metricsPublic?: boolean;
  /** Share the listening port with other processes (`ACTORFLOW_REUSE_PORT=1`, `--reuse-port`). @default false */
  readonly reusePort?: boolean;
  /** Where a generated admin key is shown once. @default stderr (nothing when `quiet`) */
  readonly print?: (text: string) => void;
  /** Time of the scheduler only (tests inject a manual clock); the engine keeps the system clock. @default systemClock */
  readonly schedulerClock?: Clock;
  /** Webhook and HTTP push agent URLs may point at private/loopback addresses (`ACTORFLOW_WEBHOOK_ALLOW_PRIVATE=1`; local receivers). @default false */
  readonly webhookAllowPrivate?: boolean;
  /** First webhook retry after this many ms, doubling up to 5 min (`ACTORFLOW_WEBHOOK_RETRY_MS`). @default 1000 */
  readonly webhookRetryMs?: number;
  /** A waiting execution that a step at an agent or a timer will wake soon leaves memory after this long without input (`ACTORFLOW_PASSIVATE_MS`). @default 1000 */
  readonly passivateMs?: number;
  /** One that waits for a signal or a distant timer leaves after this long (`ACTORFLOW_PASSIVATE_QUIET_MS`). @default 100 */
  readonly passivateQuietMs?: number;
  /** A flow's snapshot is written every this many inputs; a restore replays the inputs since (`ACTORFLOW_SNAPSHOT_EVERY`). @default 64 */
  readonly snapshotEveryInputs?: number;
  /** With NATS: publish every committed event on `<prefix>.events.…` (`ACTORFLOW_NATS_EVENTS`; docs/agent-protocol.md). @default true */
  readonly natsEvents?: boolean;
  /**
   * V8's `--heap-growing-percent` for this process (`ACTORFLOW_HEAP_GROWING_PERCENT`; the CLI's default is 20,
   * see cli/heap-tuning.ts). Unset: the host process's GC is left as it is (library mode). 0: V8's own policy.
   */
  readonly heapGrowingPercent?: number;
  /** V8's `--interrupt-budget` for this process (`ACTORFLOW_V8_INTERRUPT_BUDGET`; the CLI's default is 8192, see cli/jit-tuning.ts). Unset: left as it is (library mode). 0: V8's own. */
  readonly interruptBudget?: number;
  /** Fill the WAL file with zeros up to its size limit when the database opens (`ACTORFLOW_WAL_PREALLOCATE`; store/sqlite/wal-preallocate.ts). The CLI's default is on. @default false */
  readonly walPreallocate?: boolean;
  /** Rows up to which a commit that finds the writer thread idle runs on the main thread (`ACTORFLOW_FAST_COMMIT_ROWS`; store/sqlite/fast-commit.ts); 0: never. @default 16 */
  readonly fastCommitRows?: number;
  /** Keep V8's allocation-site pretenuring, which the CLI's heap policy turns off (`ACTORFLOW_V8_PRETENURING=1`; cli/heap-tuning.ts). Only with `heapGrowingPercent`. @default false */
  readonly pretenuring?: boolean;
  /** Executions kept in memory at most; past it the least recently active waiting ones leave (`ACTORFLOW_MAX_LIVE`). @default 50000 */
  readonly maxLive?: number;
  /** Serve HTTPS/WSS from these PEM files (`ACTORFLOW_TLS_CERT`, `ACTORFLOW_TLS_KEY`); with `caFile` (`ACTORFLOW_TLS_CA`) clients need a certificate it signed. Unset = plain HTTP. */
  readonly tls?: TlsFiles;
}

export interface ClusterConfig {
  /** This node's id (`--node-id`, `ACTORFLOW_NODE_ID`): letters, digits, `_`, `-`. */
  readonly nodeId: string;
  /** Partitions of a new cluster (`ACTORFLOW_CLUSTER_PARTITIONS`); a running cluster keeps its own. @default 32 */
  readonly partitions?: number;
  /** Replicas of the journal stream and the cluster's buckets (`ACTORFLOW_CLUSTER_REPLICAS`). @default 1 */
  readonly replicas?: number;
  /** Partition lease TTL (`ACTORFLOW_LEASE_TTL_MS`): how soon a dead node's partitions are taken over. @default 5000 */
  readonly leaseTtlMs?: number;
  /** How long a command for a partition served elsewhere waits for it to have an owner before 503 `partition_unavailable` (`ACTORFLOW_FORWARD_DEADLINE_MS`). @default 5000 */
  readonly forwardDeadlineMs?: number;
  /** Read-model snapshots and journal compaction (README, "Running a cluster"). */
  readonly snapshots?: SnapshotSettings;
}

export interface Running {
  readonly url: string;
  readonly port: number;
  readonly engine: Engine;
  /** What the admin-key bootstrap did (`generated` writes `<dataDir>/admin.key`). */
  readonly bootstrap: BootstrapResult;
  /** Writes queued audit entries now. */
  flushAudit(): Promise<void>;
  /** WebSocket hub counters (sockets, subscriptions, topics, slow consumers closed). */
  streamStats(): ReturnType<ApiServer['streamStats']>;
  /** Resolves once the scheduler has no fire or change in progress (tests). */
  schedulerIdle(): Promise<void>;
  close(): Promise<void>;
}

export const DEFAULT_MAX_BODY = 1_048_576;

/** The keys of `o` that are set. */
function pick<T extends object, K extends keyof T>(o: T, ...keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** What cluster mode runs on, imported when a server starts in it. */
async function loadClusterCode() {
  const [node, snapshots, bus, files] = await Promise.all([
    import('../cluster/cluster-node.ts'),
    import('../cluster/read-model-snapshotter.ts'),
    import('../cluster/cluster-bus.ts'),
    import('../store/sqlite/read-model-file.ts'),
  ]);
  return { openClusterNode: node.openClusterNode, prepareClusterStore: snapshots.prepareClusterStore, startSnapshotter: snapshots.startSnapshotter, createClusterBus: bus.createClusterBus, sqliteReadModelFiles: files.sqliteReadModelFiles };
}

export async function startActorflow(config: ServeConfig): Promise<Running> {
  const logger = config.logger ?? createConsoleLogger(config.logLevel ?? config.quiet ?? false);
  // Before any file is opened: a server that cannot answer must not start.
  assertNativeUws(logger);
  const tls = config.tls === undefined ? undefined : readTlsFiles(config.tls);
  if (config.heapGrowingPercent !== undefined) applyHeapPolicy(config.heapGrowingPercent, config.pretenuring);
  if (config.interruptBudget !== undefined) applyInterruptBudget(config.interruptBudget);
  if (config.machinesDir) await prepareMachineModules(config.machinesDir);
  const ownAgents = await loadInProcessAgents({ machinesDir: config.machinesDir, agents: config.agents, reserved: config.builtinAgents === false ? [] : Object.keys(BUILTIN_AGENTS) });
  const dbPath = join(config.dataDir, 'actorflow.db');
  // NATS and cluster code is imported only by a server that runs on it: ~0.15-0.25 s less to boot without (bench/RESULTS.md).
  const clusterMode = config.cluster && config.natsUrl ? { settings: config.cluster, servers: config.natsUrl, code: await loadClusterCode() } : undefined;
  // Cluster mode: a missing, empty or stale store (behind a compacted journal) starts from the latest read-model snapshot.
  if (clusterMode) await clusterMode.code.prepareClusterStore({ servers: clusterMode.servers, nodeId: clusterMode.settings.nodeId, dbPath, files: clusterMode.code.sqliteReadModelFiles, replicas: clusterMode.settings.replicas ?? 1, logger, ...pick(clusterMode.settings, 'partitions') });
  const { store, auth, schedules, telemetry, webhooks: webhookStore, httpAgents: httpAgentStore, tenants: tenantStore, templates: templateStore, documents: documentStore, bulk: bulkStore } = await openSqliteStores({ path: dbPath, sync: config.sync, ...pick(config, 'fastCommitRows', 'walPreallocate') });
  // Cluster mode: the node joins before the engine exists (the engine writes through its journal).
  const cluster = clusterMode
    ? await clusterMode.code.openClusterNode({ servers: clusterMode.servers, store, logger, nodeId: clusterMode.settings.nodeId, ...pick(clusterMode.settings, 'partitions', 'replicas', 'leaseTtlMs', 'forwardDeadlineMs') })
    : undefined;
  // Definitions, templates, keys, tenants, schedules and webhooks: the same on every node in cluster mode.
  const writes = cluster?.shared ?? localWrites;
  // Cluster mode: an agent's result goes to the node serving its execution's partition (cluster/cluster-bus.ts).
  const natsBus = config.natsUrl ? { servers: config.natsUrl, logger, publishEvents: config.natsEvents !== false, ...(config.natsPrefix ? { prefix: config.natsPrefix } : {}) } : undefined;
  const bus = natsBus === undefined ? createMemoryBus() : clusterMode && cluster ? await clusterMode.code.createClusterBus(cluster, natsBus) : await (await import('../bus/nats/nats-bus.ts')).createNatsBus(natsBus);
  const agents = [...(config.builtinAgents === false ? [] : serveBuiltinAgents(bus, config.natsUrl ? 64 : 10_000)), ...serveInProcessAgents(bus, ownAgents)];
  // Before the engine: recovery commits events too, and their deliveries commit with them.
  const webhooks = createWebhookDispatcher({ journal: store, store: webhookStore, logger, allowPrivate: config.webhookAllowPrivate === true, retryMs: config.webhookRetryMs, writes });
  await webhooks.start();
  // Before the engine: recovery dispatches the steps in flight, to these agents too (same task id and attempt).
  const httpAgents = createHttpAgents({ bus, store: httpAgentStore, logger, allowPrivate: config.webhookAllowPrivate === true });
  await httpAgents.start();
  // Before the engine and the gate: every start checks its tenant's quota, every request its tenant's rate.
  const tenants = await createTenantRegistry(tenantStore, Date.now(), writes);
  const running = await createEngine({
    store, bus, logger,
    ...(cluster === undefined ? {} : { journal: cluster.journal, ownership: cluster.ownership, sharedWrites: cluster.shared }),
    documents: documentStore,
    maxOpen: (tenant) => tenants.maxRunning(tenant),
    ...(config.machinesDir ? { machinesDir: config.machinesDir } : {}),
    ...(config.passivateMs === undefined ? {} : { passivateMs: config.passivateMs }),
    ...(config.passivateQuietMs === undefined ? {} : { passivateQuietMs: config.passivateQuietMs }),
    ...(config.snapshotEveryInputs === undefined ? {} : { snapshotEveryInputs: config.snapshotEveryInputs }),
    ...(config.maxLive === undefined ? {} : { maxLive: config.maxLive }),
  });
  // Cluster mode: commands on partitions served elsewhere go to their owner; every service uses this engine.
  const engine = cluster === undefined ? running : await cluster.join(running);
  const snapshotter = clusterMode && cluster ? await clusterMode.code.startSnapshotter({ servers: clusterMode.servers, dbPath, files: clusterMode.code.sqliteReadModelFiles, node: cluster, store, logger, ...clusterMode.settings.snapshots }) : undefined;
  // After the engine: a template's `workflow` steps name definitions, the machines directory's too.
  const templates = createTemplates({ engine, store: templateStore, writes });
  await templates.load();
  if (config.machinesDir) await loadTemplatesDir(config.machinesDir, templates, logger);
  // Loaded only with an endpoint: no OpenTelemetry code otherwise.
  const tracing = config.otlpEndpoint ? (await import('../tracing/otlp-tracing.ts')).startOtlpTracing({ engine, url: config.otlpEndpoint, logger }) : undefined;
  const scheduler = createScheduler({
    engine, store: schedules, logger, clock: config.schedulerClock ?? systemClock, writes,
    // Cluster mode: a schedule is fired by the node serving the partition its id falls in.
    ...(cluster === undefined ? {} : { fires: (s: ScheduleRow) => cluster.servesKey(s.tenant, s.id) }),
  });
  await scheduler.load();
  cluster?.onServing(() => scheduler.reconsider());
  // Catch-up and timers begin once recovery is done (runs started meanwhile would race it).
  const schedulerStarted = running.whenReady().then(() => scheduler.start()).catch((err: unknown) => logger.error('scheduler failed to start', { error: String(err) }));
  const bulk = createBulkOperations({ engine, store: bulkStore, clock: systemClock, logger });
  // Operations a stop or crash interrupted resume once recovery has brought their executions back.
  const bulkStarted = running.whenReady().then(() => bulk.start()).catch((err: unknown) => logger.error('bulk operations failed to resume', { error: String(err) }));
  const print = config.print ?? ((text: string) => (config.quiet === true ? undefined : void process.stderr.write(text)));
  const version = packageVersion();
  const startedAt = Date.now();
  // Bad stream limits fail the start before a credential is touched.
  const streams = resolveStreamOptions(config.streams);
  const { gate, bootstrap } = await createAuth({
    store: auth,
    dataDir: config.dataDir,
    adminKey: config.adminKey,
    print,
    logger,
    tenantRate: (tenant) => tenants.rate(tenant),
    writes,
    settings: {
      disabled: config.noAuth === true,
      ...(config.rateLimit === undefined ? {} : { rateLimit: config.rateLimit }),
      jwt: config.jwt,
      corsOrigins: config.corsOrigins ?? [],
      ...(config.maxSocketsPerCredential === undefined ? {} : { maxSocketsPerCredential: config.maxSocketsPerCredential }),
    },
  });
  // Cluster mode: the node answers once its copy of every shared resource has the writes it missed.
  await cluster?.shared.caughtUp();
  const services = {
    engine,
    scheduler,
    webhooks,
    httpAgents,
    tasks: createTasks(engine),
    telemetry: createTelemetryService(telemetry),
    documents: createDocuments({ documents: documentStore, store, clock: systemClock }),
    bulk,
    graphql: lazyGraphql({ engine, logger }),
    tenants,
    templates,
    ...(cluster === undefined ? {} : { cluster }),
  };
  const api = await createApiServer({
    services,
    gate,
    version,
    startedAt,
    host: config.host,
    port: config.port,
    maxBodyBytes: config.maxBodyBytes ?? DEFAULT_MAX_BODY,
    logger,
    streams,
    metricsPublic: config.metricsPublic === true,
    reusePort: config.reusePort === true,
    walFile: walFileOf(dbPath),
    tls,
  }).catch(async (err: unknown) => {
    await gate.close();
    throw err;
  });
  const url = `${api.scheme}://${config.host}:${api.port}`;
  let closing: Promise<void> | undefined;
  return {
    url,
    port: api.port,
    engine,
    bootstrap,
    flushAudit: () => gate.audit.flush(),
    streamStats: () => api.streamStats(),
    schedulerIdle: () => schedulerStarted.then(() => scheduler.idle()),
    close: () =>
      (closing ??= (async () => {
        await api.close();
        // Pending audit entries and last-used times are written before the store closes.
        await gate.close();
        await schedulerStarted;
        await scheduler.close();
        // Before the engine: the batch in flight finishes its calls and records them; the rest resumes at the next start.
        await bulkStarted;
        await bulk.close();
        await engine.close();
        // After the engine's last commits (still this node's partitions): then the leases go, and the others take over at once.
        await snapshotter?.close();
        await cluster?.close();
        await webhooks.close();
        await httpAgents.close();
        for (const a of agents) await a.close();
        await bus.close();
        await tracing?.close();
        await store.close();
      })()),
  };
}
