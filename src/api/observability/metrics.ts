/**
 * @module api/observability/metrics — Prometheus metrics of one server (its own registry, never prom-client's
 * global one): executions and steps from the engine's committed events, durations, HTTP latency
 * per route template and status, stream gauges, journal commits and event-loop lag.
 */
import { stat } from 'node:fs/promises';
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { Gauge, Registry } from 'prom-client';
import type { Engine } from '../../engine/types.ts';
import type { EventView } from '../../common/execution.ts';
import type { RouteTimer } from '../http/exchange.ts';
import { FastCounter, FastHistogram, type HistogramCell } from './metric-cells.ts';
import { registerClusterGauges } from './cluster-metrics.ts';
import type { ClusterInfo } from '../services.ts';

/** Open executions / steps remembered for durations and agent labels; the oldest is forgotten past this. */
const MAX_TRACKED = 100_000;

const HTTP_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const STEP_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800];
const FLOW_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800, 3600, 21600, 86400];
const COMMIT_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
const BATCH_BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000];

const TERMINAL: Readonly<Record<string, string>> = {
  'workflow.completed': 'completed',
  'workflow.failed': 'failed',
  'workflow.cancelled': 'cancelled',
  'workflow.timed_out': 'timed_out',
};

const STEP_OUTCOME: Readonly<Record<string, string>> = {
  'workflow.step.completed': 'completed',
  'workflow.step.failed': 'failed',
  'workflow.step.retrying': 'retrying',
};

/** The stream counters the gauges read (the `StreamStats` of api/streams/create-streams.ts has them). */
export interface StreamCounts {
  readonly sockets: number;
  readonly subscriptions: number;
  readonly slowConsumers: number;
  readonly sseStreams: number;
}

export interface MetricsDeps {
  readonly engine: Engine;
  /** Counters of the WebSocket hub and SSE (read at scrape time). */
  readonly streamStats: () => StreamCounts;
  /** The journal's write-ahead log (`<db>-wal`), whose size is read at scrape time; none = no gauge. */
  readonly walFile?: string | undefined;
  /** Cluster mode: the node whose gauges `/metrics` adds (cluster-metrics.ts). */
  readonly cluster?: ClusterInfo | undefined;
}

export interface ApiMetrics {
  /** The prom-client registry of the gauges (streams, event loop); `render()` adds the counters and histograms. */
  readonly registry: Registry;
  /** The latency timer of a route (`route` is the path template); resolve once per route at mount. */
  routeTimer(route: string, method: string): RouteTimer;
  /** The Prometheus text exposition. */
  render(): Promise<string>;
  readonly contentType: string;
  /** Detaches from the engine and stops the event-loop monitor. Idempotent. */
  close(): void;
}

/** Remembers `key` → `value`, forgetting the oldest entry when full (Maps iterate in insertion order). */
function remember<V>(map: Map<string, V>, key: string, value: V): void {
  if (map.size >= MAX_TRACKED) {
    const oldest = map.keys().next();
    if (oldest.done !== true) map.delete(oldest.value);
  }
  map.set(key, value);
}

const digit = (s: string, i: number): number => s.charCodeAt(i) - 48;
const num = (s: string, from: number, len: number): number => {
  let n = 0;
  for (let i = from; i < from + len; i++) n = n * 10 + digit(s, i);
  return n;
};

/** Epoch ms of the engine's timestamps (`toISOString()`: `YYYY-MM-DDTHH:MM:SS.mmmZ`) without `Date.parse` (≈ 10× cheaper). */
export function isoMs(s: string): number {
  if (s.length !== 24 || s.charCodeAt(23) !== 90 /* Z */) return Date.parse(s);
  return Date.UTC(num(s, 0, 4), num(s, 5, 2) - 1, num(s, 8, 2), num(s, 11, 2), num(s, 14, 2), num(s, 17, 2), num(s, 20, 3));
}

interface StepInfo {
  readonly type: string;
  readonly agent: string;
}

/**
 * Builds the metrics of one server and subscribes to the engine.
 * @example
 * const metrics = createApiMetrics({ engine, streamStats: () => streams.stats() });
 * const text = await metrics.render();
 */
export function createApiMetrics(d: MetricsDeps): ApiMetrics {
  const registry = new Registry();

  const started = new FastCounter('actorflow_executions_started_total', 'Executions started, by workflow.', ['workflow']);
  const finished = new FastCounter('actorflow_executions_finished_total', 'Executions finished, by workflow and final status (completed, failed, cancelled, timed_out).', ['workflow', 'status']);
  const steps = new FastCounter('actorflow_steps_total', 'Step attempts ended, by step type, agent kind (`none` for non-agent steps) and outcome (completed, failed, retrying).', ['type', 'agent', 'outcome']);
  const stepDuration = new FastHistogram('actorflow_step_duration_seconds', 'Duration of agent step attempts, by agent kind and outcome.', ['agent', 'outcome'], STEP_BUCKETS);
  const flowDuration = new FastHistogram('actorflow_execution_duration_seconds', 'Execution duration from workflow.started to its terminal event, by workflow and status.', ['workflow', 'status'], FLOW_BUCKETS);
  const http = new FastHistogram('actorflow_http_request_duration_seconds', 'HTTP request latency to the answer (first byte for streams), by route template, method and status.', ['route', 'method', 'status'], HTTP_BUCKETS);
  const commitDuration = new FastHistogram('actorflow_journal_commit_duration_seconds', 'Latency of journal group commits.', [], COMMIT_BUCKETS);
  const commitBatch = new FastHistogram('actorflow_journal_commit_batch_events', 'Events written per journal group commit.', [], BATCH_BUCKETS);
  // Rendered straight to text (same format as prom-client, without its per-sample objects: a scrape with
  // hundreds of series stays cheap); the gauges below live in the prom-client registry.
  const cells = [started, finished, steps, stepDuration, flowDuration, http, commitDuration, commitBatch];

  // Gauges read at scrape time only.
  const streamGauge = (name: string, help: string, pick: (s: StreamCounts) => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(pick(d.streamStats()));
      },
    });
  };
  streamGauge('actorflow_ws_connections', 'Open WebSocket connections.', (s) => s.sockets);
  streamGauge('actorflow_ws_subscriptions', 'Active WebSocket subscriptions.', (s) => s.subscriptions);
  streamGauge('actorflow_ws_slow_consumers_closed', 'WebSockets closed as slow consumers since start.', (s) => s.slowConsumers);
  streamGauge('actorflow_sse_streams', 'Open server-sent-event streams.', (s) => s.sseStreams);

  // Recovery happens once per boot: gauges read at scrape time (0 until it has finished).
  new Gauge({
    name: 'actorflow_recovery_duration_seconds',
    help: 'How long the boot-time recovery of unfinished executions took.',
    registers: [registry],
    collect() {
      this.set((d.engine.recoveryStats?.()?.durationMs ?? 0) / 1000);
    },
  });
  new Gauge({
    name: 'actorflow_recovered_executions',
    help: 'Unfinished executions recovered at boot: rebuilt in memory (running, pending, paused), or left in the store with only their next timer armed (waiting).',
    labelNames: ['how'],
    registers: [registry],
    collect() {
      const stats = d.engine.recoveryStats?.();
      this.set({ how: 'rebuilt' }, stats?.executions ?? 0);
      this.set({ how: 'waiting' }, stats?.waiting ?? 0);
    },
  });

  // Rebuilds since the start: a refused one is an execution its stored state cannot bring back (logged with its id).
  new Gauge({
    name: 'actorflow_execution_rebuilds',
    help: 'Executions rebuilt from the store since start (after passivation, for a retry, at recovery), and rebuilds refused because the stored snapshot or journaled inputs could not be read or replayed.',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      const stats = d.engine.rebuildStats?.();
      this.set({ outcome: 'restored' }, stats?.executions ?? 0);
      this.set({ outcome: 'refused' }, stats?.refused ?? 0);
    },
  });

  // Queued executions per workflow, read from the engine's queues at scrape time (a workflow seen once stays, at 0).
  const queuedSeen = new Set<string>();
  new Gauge({
    name: 'actorflow_executions_queued',
    help: 'Executions held in a concurrency queue (status queued), by workflow.',
    labelNames: ['workflow'],
    registers: [registry],
    collect() {
      const now = d.engine.queuedByWorkflow?.() ?? {};
      for (const w of Object.keys(now)) queuedSeen.add(w);
      for (const w of queuedSeen) this.set({ workflow: w }, now[w] ?? 0);
    },
  });

  if (d.cluster !== undefined) registerClusterGauges(registry, d.cluster);

  const walFile = d.walFile;
  if (walFile !== undefined) {
    new Gauge({
      name: 'actorflow_wal_bytes',
      help: 'Size of the journal\'s SQLite write-ahead log file in bytes, read at scrape time (checkpoints keep it bounded).',
      registers: [registry],
      async collect() {
        // One stat per scrape; no file (not written yet, or removed by the last close) is 0.
        this.set(await stat(walFile).then((st) => st.size, () => 0));
      },
    });
  }

  const loop: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  new Gauge({
    name: 'actorflow_event_loop_lag_seconds',
    help: 'Event-loop delay since the previous scrape (quantile 0.5, 0.99 and 1 = max).',
    labelNames: ['quantile'],
    registers: [registry],
    collect() {
      const has = loop.count > 0;
      this.set({ quantile: '0.5' }, has ? loop.percentile(50) / 1e9 : 0);
      this.set({ quantile: '0.99' }, has ? loop.percentile(99) / 1e9 : 0);
      this.set({ quantile: '1' }, has ? loop.max / 1e9 : 0);
      loop.reset();
    },
  });

  const startedAt = new Map<string, number>();
  const stepInfo = new Map<string, StepInfo>();
  const onEvent = (e: EventView): void => {
    const type = e.type;
    if (type === 'workflow.started') {
      started.cell(e.workflow).inc();
      remember(startedAt, e.executionId, isoMs(e.timestamp));
      return;
    }
    if (type === 'workflow.step.started') {
      const agent = e.data['agent'];
      const stepType = e.data['type'];
      const info = { type: typeof stepType === 'string' ? stepType : 'unknown', agent: typeof agent === 'string' ? agent : 'none' };
      remember(stepInfo, `${e.executionId}\u0000${e.stepId ?? ''}`, info);
      return;
    }
    const outcome = STEP_OUTCOME[type];
    if (outcome !== undefined) {
      const key = `${e.executionId}\u0000${e.stepId ?? ''}`;
      const info = stepInfo.get(key);
      stepInfo.delete(key);
      const agent = info?.agent ?? 'unknown';
      steps.cell(info?.type ?? 'unknown', agent, outcome).inc();
      const ms = e.data['durationMs'];
      if (typeof ms === 'number' && Number.isFinite(ms)) stepDuration.cell(agent, outcome).observe(ms / 1000);
      return;
    }
    const status = TERMINAL[type];
    if (status !== undefined) {
      finished.cell(e.workflow, status).inc();
      const t0 = startedAt.get(e.executionId);
      if (t0 !== undefined) {
        startedAt.delete(e.executionId);
        const ms = isoMs(e.timestamp) - t0;
        if (Number.isFinite(ms) && ms >= 0) flowDuration.cell(e.workflow, status).observe(ms / 1000);
      }
    }
  };
  const offEvent = d.engine.onEvent(onEvent);
  const commitCell = commitDuration.cell();
  const batchCell = commitBatch.cell();
  const offCommit = d.engine.onCommit?.((c) => {
    commitCell.observe(c.ms / 1000);
    batchCell.observe(c.events);
  });

  let closed = false;
  return {
    registry,
    contentType: registry.contentType,
    routeTimer: (route, method) => {
      // One cell per status, resolved on first use: an observation is a lookup and a few writes.
      const byStatus = new Map<number, HistogramCell>();
      return {
        observe(status, t0) {
          let cell = byStatus.get(status);
          if (cell === undefined) {
            cell = http.cell(route, method, String(status));
            byStatus.set(status, cell);
          }
          cell.observe((performance.now() - t0) / 1000);
        },
      };
    },
    render: async () => `${cells.map((m) => m.toText()).join('\n\n')}\n\n${await registry.metrics()}`,
    close: () => {
      if (closed) return;
      closed = true;
      offEvent();
      offCommit?.();
      loop.disable();
    },
  };
}
