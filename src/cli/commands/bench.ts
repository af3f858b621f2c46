/**
 * @module cli/commands/bench — `actorflow bench`: drives POST /executions on any running server at a
 * fixed rate (or as fast as possible with `--rate 0`) over `--connections` concurrent requests, for
 * `--duration` seconds. Start latency is measured for every start (from its scheduled send time, so
 * a slow server cannot hide queueing); completion latency for every `--sample`-th start, through that
 * execution's SSE stream. Prints p50/p99/p99.9 and throughput.
 */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { ActorflowApiError, type ActorflowClient } from '../../client/index.ts';
import { UsageError } from './common.ts';
import type { Command } from './spec.ts';

export interface BenchResult {
  workflow: string;
  durationS: number;
  rate: number;
  connections: number;
  started: number;
  errors: number;
  startsPerS: number;
  startLatencyMs: Percentiles;
  completion: { sampled: number; completed: number; failed: number; latencyMs: Percentiles | null };
}

export interface Percentiles {
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

const now = () => process.hrtime.bigint();
const ms = (ns: number) => Math.round(ns / 1e3) / 1e3;

function percentiles(h: RecordableHistogram): Percentiles {
  return { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), p999: ms(h.percentile(99.9)), max: ms(h.max) };
}

const record = (h: RecordableHistogram, ns: bigint) => h.record(ns > 0n ? ns : 1n);

async function untilNs(target: bigint): Promise<void> {
  const wait = Number(target - now()) / 1e6;
  if (wait > 1) await new Promise((r) => setTimeout(r, Math.floor(wait)));
}

/** Runs the benchmark and resolves with the numbers. */
export async function runBench(client: ActorflowClient, o: { workflow: string; rate: number; durationS: number; connections: number; input: unknown; sample: number; drainS: number }): Promise<BenchResult> {
  const startH = createHistogram();
  const doneH = createHistogram();
  const t0 = now();
  const end = t0 + BigInt(Math.round(o.durationS * 1e9));
  const interval = o.rate > 0 ? BigInt(Math.round(1e9 / o.rate)) : 0n;
  let next = 0;
  let started = 0;
  let errors = 0;
  let lastError = '';
  const completion = { sampled: 0, completed: 0, failed: 0 };
  const watchers: Promise<void>[] = [];
  const abort = new AbortController();

  const watch = (id: string, sentAt: bigint) =>
    (async () => {
      completion.sampled++;
      try {
        for await (const e of client.executions.watch(id, { signal: abort.signal })) {
          if (e.executionId !== id) continue;
          if (e.type === 'workflow.completed') (completion.completed++, record(doneH, now() - sentAt));
          else if (e.type === 'workflow.failed' || e.type === 'workflow.cancelled' || e.type === 'workflow.timed_out') completion.failed++;
        }
      } catch {
        completion.failed++;
      }
    })();

  const worker = async () => {
    for (;;) {
      const i = next++;
      const scheduled = t0 + interval * BigInt(i);
      if (scheduled >= end || now() >= end) return;
      if (interval > 0n) await untilNs(scheduled);
      const sent = now();
      try {
        const e = await client.executions.start({ workflow: o.workflow, input: o.input });
        const t = now();
        record(startH, t - (interval > 0n ? scheduled : sent));
        started++;
        if (started % o.sample === 0) watchers.push(watch(e.id, interval > 0n ? scheduled : sent));
      } catch (err) {
        errors++;
        lastError = err instanceof Error ? err.message : String(err);
        if (err instanceof ActorflowApiError && (err.status === 0 || err.status === 422 || err.status === 401 || err.status === 403)) throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: o.connections }, worker));
  const elapsedS = Number(now() - t0) / 1e9;
  // Bounded: sampled executions get `drainS` to finish, then their streams are closed.
  const timer = setTimeout(() => abort.abort(), o.drainS * 1000);
  await Promise.all(watchers);
  clearTimeout(timer);
  if (started === 0 && errors > 0) throw new Error(`no start succeeded: ${lastError}`);
  return {
    workflow: o.workflow,
    durationS: Math.round(elapsedS * 1000) / 1000,
    rate: o.rate,
    connections: o.connections,
    started,
    errors,
    startsPerS: Math.round((started / elapsedS) * 10) / 10,
    startLatencyMs: percentiles(startH),
    completion: { ...completion, latencyMs: completion.completed > 0 ? percentiles(doneH) : null },
  };
}

const fmt = (p: Percentiles | null) => (p === null ? 'n/a' : `p50 ${p.p50}  p99 ${p.p99}  p99.9 ${p.p999}  max ${p.max}`);

export const benchCommand: Command = {
  name: 'bench',
  args: '--workflow W',
  summary: 'drive POST /executions at a fixed rate; p50/p99/p99.9 of start and completion latency',
  details: 'Start latency is measured for every start from its scheduled send time; completion latency for every --sample-th start, over its SSE stream.',
  flags: {
    workflow: { type: 'string', short: 'w', arg: 'W', help: 'workflow to start (required)' },
    rate: { type: 'string', arg: 'R', help: 'starts per second, 0 = as fast as possible (default 100)' },
    duration: { type: 'string', arg: 'S', help: 'seconds to run (default 10)' },
    connections: { type: 'string', arg: 'C', help: 'concurrent requests (default 10)' },
    input: { type: 'string', arg: 'JSON|@FILE', help: 'input of every start (default {})' },
    sample: { type: 'string', arg: 'N', help: 'follow every N-th execution to its end (default 10)' },
    drain: { type: 'string', arg: 'S', help: 'seconds the sampled executions get to finish (default 10)' },
  },
  async run(c) {
    const workflow = c.str('workflow') ?? c.positionals[0];
    if (workflow === undefined) throw new UsageError('bench needs --workflow');
    const durationS = Number(c.str('duration') ?? 10);
    if (!(durationS > 0 && durationS <= 3600)) throw new UsageError('--duration must be seconds in (0, 3600]');
    const o = {
      workflow,
      rate: c.int('rate', 0) ?? 100,
      durationS,
      connections: c.int('connections', 1) ?? 10,
      input: c.jsonValue('input') ?? {},
      sample: c.int('sample', 1) ?? 10,
      drainS: c.int('drain', 0) ?? 10,
    };
    if (!c.json) c.err(`bench ${workflow}: ${o.rate === 0 ? 'max rate' : `${o.rate}/s`}, ${o.durationS} s, ${o.connections} connections → ${c.url}`);
    const r = await runBench(c.client, o);
    if (c.json) c.out(JSON.stringify(r, null, 2));
    else {
      c.out(
        [
          `started      ${r.started} in ${r.durationS} s (${r.startsPerS}/s), errors ${r.errors}`,
          `start ms     ${fmt(r.startLatencyMs)}`,
          `complete ms  ${fmt(r.completion.latencyMs)}  (sampled ${r.completion.sampled}, completed ${r.completion.completed}, failed ${r.completion.failed})`,
        ].join('\n'),
      );
    }
    return r.errors > 0 ? 1 : 0;
  },
};
