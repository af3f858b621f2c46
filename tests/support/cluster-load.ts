/**
 * @module tests/support/cluster-load — what the cluster failure tests share: a steady load of starts and
 * signals over whichever nodes are alive, "every partition served once", and the checks after a failure
 * (every acknowledged start completed, histories gap-free, no step result applied twice, each event in the
 * journal stream once).
 */
import type { JetStreamManager, MsgRequest } from '@nats-io/jetstream';
import { expect } from 'vitest';
import { msgpackCodec as codec } from '../../src/common/codec.ts';
import { JOURNAL_STREAM, JOURNAL_SUBJECTS } from '../../src/cluster/partition-journal.ts';
import { partitionOf } from '../../src/cluster/partitions.ts';
import type { CommitBatch } from '../../src/store/types.ts';
import { api } from './http.ts';
import { pollUntil } from './wait.ts';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)] as T;

/** A request that a dead node answers with an exception: undefined instead. */
export async function tryReq<T>(f: () => Promise<T>): Promise<T | undefined> {
  try {
    return await f();
  } catch {
    return undefined;
  }
}

export const clusterOf = async (url: string) => (await api(url).get('/cluster')).body as { serving: number[]; nodes: string[] };

/** Resolves with the time at which every one of `partitions` partitions is served by exactly one of the nodes at `urls` (and, with `minEach`, each serves at least that many). */
export function allServed(urls: readonly string[], partitions: number, timeoutMs: number, minEach = 0): Promise<number> {
  return pollUntil(async () => {
    const views = await Promise.all(urls.map((u) => tryReq(() => clusterOf(u))));
    const served = views.flatMap((v) => v?.serving ?? []);
    const balanced = views.every((v) => (v?.serving.length ?? 0) >= minEach);
    return served.length === partitions && new Set(served).size === partitions && balanced ? Date.now() : undefined;
  }, `every partition served once by ${urls.join(', ')}`, timeoutMs, 50);
}

/** Signals `go` through any live node until one answers it (202), or it has finished meanwhile (409). */
export async function signalGo(id: string, alive: () => readonly string[], deadline: number): Promise<void> {
  for (;;) {
    const r = await tryReq(() => api(pick(alive())).post(`/executions/${id}/signals/go`, {}));
    if (r?.status === 202 || (r?.status === 409 && r.body.code === 'execution_finished')) return;
    if (Date.now() > deadline) throw new Error(`signal of ${id} not taken: ${r?.status} ${r?.text}`);
    await sleep(100);
  }
}

export interface Load {
  /** Ids of the starts a node acknowledged (201). */
  readonly acked: string[];
  /** Answers other than 201 and 503 (a refused hand-over) to a start. */
  readonly unexpected: string[];
  /** Resolves once `n` more starts than now are acknowledged. */
  more(n: number, what: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * `clients` loops that start `workflow` (which waits for a signal `go`) on a random live node and signal
 * each start through another one (then pause `pauseMs`: a steady rate whatever the machine), until stopped. A start that fails (a node killed under it) or is
 * refused with 503 (its partition changing hands) is not acknowledged, so not counted.
 */
export function startLoad(alive: () => readonly string[], clients: number, workflow = 'steady', pauseMs = 0): Load {
  const acked: string[] = [];
  const unexpected: string[] = [];
  let stopped = false;
  let n = 0;
  const loop = async () => {
    while (!stopped) {
      const res = await tryReq(() => api(pick(alive())).post('/executions', { workflow, input: { n: n++ } }));
      if (res === undefined || res.status === 503) {
        await sleep(50);
        continue;
      }
      if (res.status !== 201) {
        unexpected.push(`${res.status} ${res.text}`);
        continue;
      }
      acked.push(res.body.id as string);
      await signalGo(res.body.id as string, alive, Date.now() + 30_000);
      if (pauseMs > 0) await sleep(pauseMs);
    }
  };
  const loops = Array.from({ length: clients }, loop);
  return {
    acked,
    unexpected,
    more: async (k, what, timeoutMs = 30_000) => {
      const target = acked.length + k;
      await pollUntil(async () => (acked.length >= target ? true : undefined), `${k} more acknowledged starts ${what}`, timeoutMs, 50);
    },
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

export interface StreamCommit {
  readonly seq: number;
  readonly partition: number;
  readonly msgId: string;
  readonly batch: CommitBatch;
}

/** Every commit of the journal stream from `fromSeq`, in order, with the id of the writer that appended it. */
export async function streamCommits(jsm: JetStreamManager, fromSeq = 1): Promise<StreamCommit[]> {
  const out: StreamCommit[] = [];
  for (let seq = fromSeq; ; ) {
    const m = await jsm.streams.getMessage(JOURNAL_STREAM, { seq, next_by_subj: JOURNAL_SUBJECTS } as unknown as MsgRequest);
    if (m === null) return out;
    out.push({ seq: m.seq, partition: Number(m.subject.split('.').pop()), msgId: m.header?.get('Nats-Msg-Id') ?? '', batch: codec.decode<CommitBatch>(m.data) });
    seq = m.seq + 1;
  }
}

export interface HistoryEvent {
  readonly seq: number;
  readonly type: string;
  readonly stepId: string | null;
  readonly data: Record<string, unknown>;
}

/**
 * Waits until every id is completed (read on `url`), then checks each history: seqs 1..lastSeq, no step
 * completed twice (by step, and by step and attempt: one result applied per attempt). Returns the histories.
 */
export async function expectCompleted(url: string, ids: readonly string[], timeoutMs = 30_000): Promise<Map<string, HistoryEvent[]>> {
  const out = new Map<string, HistoryEvent[]>();
  for (const id of ids) {
    const x = await pollUntil(async () => {
      const r = await tryReq(() => api(url).get(`/executions/${id}`));
      return r?.body.status === 'completed' ? r.body : undefined;
    }, `${id} completed`, timeoutMs, 50);
    const events = (await api(url).get(`/executions/${id}/events`, { query: { limit: 1000 } })).body.items as HistoryEvent[];
    expect(events.map((e) => e.seq), id).toEqual(Array.from({ length: x.lastSeq }, (_, i) => i + 1));
    const completed = events.filter((e) => e.type === 'workflow.step.completed');
    expect(new Set(completed.map((e) => e.stepId)).size, `${id}: a step completed twice`).toBe(completed.length);
    expect(new Set(completed.map((e) => `${e.stepId}#${String(e.data.attempt)}`)).size, `${id}: an attempt's result applied twice`).toBe(completed.length);
    out.set(id, events);
  }
  return out;
}

/** The journal stream itself: every (execution, seq) appended once, each partition's events only on its subject. */
export async function expectJournalOnce(jsm: JetStreamManager, partitions: number): Promise<void> {
  const seen = new Set<string>();
  for (const c of await streamCommits(jsm)) {
    for (const e of c.batch.events) {
      const key = `${e.executionId}#${e.seq}`;
      expect(seen.has(key), `${key} appended twice (stream seq ${c.seq})`).toBe(false);
      seen.add(key);
      expect(partitionOf(e.executionId, partitions)).toBe(c.partition);
    }
  }
}
