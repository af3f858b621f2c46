/**
 * @module bench/queue — concurrency queues (issue 17), in its own process on an in-process server:
 *   node --import tsx bench/queue.ts [--quick] [--sync full|normal]   (bench/run.ts forks it per sync mode)
 *
 * Workflow `qbench` has `concurrency: { limit: 1 }` and one `wait` step, so each started execution holds
 * the one slot until it is cancelled. One holder starts, then 100,000 starts (`--quick`: 10,000) with
 * priorities spread over −10..10 are queued (256 in flight; their time gives queued starts/s). Then the
 * running execution is cancelled again and again: release latency = from the committed
 * `workflow.cancelled` of the one holding the slot (its end is durable: the slot frees) to the committed
 * `workflow.started` of the next one (the heap pop, two point reads of its row and `workflow.queued`, its
 * actor, and its own commit: an fsync with sync=full), for 2,000 releases (`--quick`: 300) out of the
 * full queue. Then the server is closed and opened again on the same data: the time until ready (the
 * queues rebuilt from one indexed read) with that many still queued. Engine calls, no HTTP: what is
 * measured is the queue, not the transport.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHistogram } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startActorflow } from '../src/cli/serve.ts';
import type { Engine } from '../src/engine/types.ts';
import { reportFigures } from './agent-variants.ts';
import { type Figure, type SyncMode, fmtLat, int, ms, recordNs, sleep, summarize } from './common.ts';

const sync: SyncMode = process.argv[process.argv.indexOf('--sync') + 1] === 'normal' ? 'normal' : 'full';
const quick = process.argv.includes('--quick');
const QUEUED = quick ? 10_000 : 100_000;
const RELEASES = quick ? 300 : 2_000;
const IN_FLIGHT = 256;
const PART = 'queue';
const TENANT = 'default';
const FLOW = { name: 'qbench', concurrency: { limit: 1 }, steps: [{ id: 'w', type: 'wait', signal: 'go' }] };

// A full collection before each heap reading (the fork has no --expose-gc): the heap per queued execution is then the index's.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Starts `count` queued executions, `IN_FLIGHT` at a time; resolves with their rate per second. */
async function fill(engine: Engine, count: number): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    for (let n = next++; n < count; n = next++) {
      const { execution } = await engine.start({ tenant: TENANT, workflow: FLOW.name, input: { n }, priority: ((n * 7) % 21) - 10 });
      if (execution.status !== 'queued') throw new Error(`start ${n} was ${execution.status}, not queued`);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return count / ((performance.now() - t0) / 1000);
}

/** Cancels the holder `releases` times; each time, the latency from its committed end to the next one's committed start. */
async function release(engine: Engine, holder: string, releases: number) {
  const h = createHistogram();
  let current = holder;
  let freedAt = 0n;
  let started: ((id: string) => void) | null = null;
  const off = engine.onEvent((e) => {
    if (e.workflow !== FLOW.name) return;
    if (e.type === 'workflow.cancelled' && e.executionId === current) freedAt = process.hrtime.bigint();
    else if (e.type === 'workflow.started' && started !== null) {
      recordNs(h, freedAt, process.hrtime.bigint());
      started(e.executionId);
    }
  });
  try {
    for (let i = 0; i < releases; i++) {
      const next = new Promise<string>((resolve) => (started = resolve));
      await engine.cancel(TENANT, current, 'bench');
      current = await next;
      started = null;
    }
  } finally {
    off();
  }
  return summarize(h);
}

console.log(`\n## queue: release latency with ${int(QUEUED)} queued (limit 1) — sync=${sync}`);
const dataDir = mkdtempSync(join(tmpdir(), `actorflow-bench-queue-${sync}-`));
const open = () => startActorflow({ host: '127.0.0.1', port: 0, dataDir, sync, quiet: true, logLevel: 'error', noAuth: true, rateLimit: null });
try {
  let app = await open();
  await app.engine.registerDefinition(TENANT, FLOW);
  const holder = (await app.engine.start({ tenant: TENANT, workflow: FLOW.name, input: { holder: true } })).execution.id;
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  const rate = await fill(app.engine, QUEUED);
  gc();
  const perQueued = (process.memoryUsage().heapUsed - heap0) / QUEUED;
  const queuedNow = () => app.engine.queuedByWorkflow?.(TENANT)[FLOW.name] ?? 0;
  console.log(`queued ${int(queuedNow())} at ${int(rate)} starts/s`);
  const lat = await release(app.engine, holder, RELEASES);
  console.log(`release: ${fmtLat(lat)}`);

  // Restart with the queue still full: the queues and slots come back from one indexed read.
  const left = queuedNow();
  await app.close();
  const t0 = performance.now();
  app = await open();
  while (!app.engine.ready) await sleep(1);
  const bootMs = performance.now() - t0;
  const after = queuedNow();
  await app.close();
  if (after !== left) throw new Error(`${left} queued before the restart, ${after} after`);

  const figures: Figure[] = [
    { part: PART, what: `queued starts/s (${IN_FLIGHT} in flight, limit 1 full)`, sync, value: int(rate), target: '—', pass: null, note: `${int(QUEUED)} starts` },
    {
      part: PART, what: `release latency with ${int(QUEUED)} queued (slot frees → next started, both committed)`, sync,
      value: `p50 ${ms(lat.p50)}, p99 ${ms(lat.p99)}`, target: '—', pass: null, note: `max ${ms(lat.max, 2)}, n=${int(lat.count)}; includes its commit`,
    },
    { part: PART, what: 'heap per queued execution (the in-memory index)', sync, value: `${int(perQueued)} B`, target: '—', pass: null, note: 'heap growth after a full gc / queued count' },
    { part: PART, what: `restart until ready with ${int(left)} queued`, sync, value: ms(bootMs, 0), target: '—', pass: null, note: 'queues rebuilt from one indexed read' },
  ];
  reportFigures(figures);
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
