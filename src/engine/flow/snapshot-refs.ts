/**
 * @module engine/flow/snapshot-refs — what a stored snapshot leaves to the journal: large step outputs (each in its
 * step's `workflow.step.completed` event) and large inputs of tasks in flight (in the attempt's
 * `workflow.step.started` event). A snapshot is written with every commit of an unfinished execution; copying
 * them too made each commit re-encode and rewrite every earlier result, O(N²) in the steps (issue 12). A restore
 * reads them back from those events (one range read of the execution's events) before XState sees the snapshot.
 */
import { msgpackCodec as codec } from '../../common/codec.ts';
import { ActorflowError, ErrorCode } from '../../common/errors.ts';
import type { StepEventData } from '../../store/types.ts';

/** A value at least this large (bytes of MessagePack; a string: its length) is left to the journal. */
export const REF_MIN_BYTES = 1024;

/** The steps whose values a snapshot left to the journal, and the seq of the last event it covers. */
export interface SnapshotRefs {
  /** Steps whose `output` is the one of their latest `workflow.step.completed` event up to `seq`. */
  readonly outputs?: readonly string[];
  /** Tasks in flight whose `input` is the one of their latest `workflow.step.started` event up to `seq`. */
  readonly inputs?: readonly string[];
  readonly seq: number;
}

interface Holder {
  output?: unknown;
  input?: unknown;
  attempt?: number;
  held?: boolean;
}
interface RefContext {
  steps?: Record<string, Holder>;
  inflight?: Record<string, Holder>;
}

/** Whether a holder's value is large; computed once per holder (a completion or an attempt makes a new one). */
const sizes = new WeakMap<object, boolean>();
function isLarge(holder: Holder, key: 'output' | 'input'): boolean {
  const v = holder[key];
  if (typeof v === 'string') return v.length >= REF_MIN_BYTES;
  if (v === null || typeof v !== 'object') return false;
  let large = sizes.get(holder);
  if (large === undefined) sizes.set(holder, (large = codec.encode(v).length >= REF_MIN_BYTES));
  return large;
}

/** `record` with `key` removed from the entries of `ids` (copies; the live context is not touched). */
function without(record: Record<string, Holder>, ids: readonly string[], key: 'output' | 'input'): Record<string, Holder> {
  const out = { ...record };
  for (const id of ids) {
    const { [key]: _inJournal, ...rest } = record[id] as Holder;
    out[id] = rest;
  }
  return out;
}

/**
 * The context to store for a snapshot taken at event `seq`, without the large values its events hold, and what it
 * left out; null when it left nothing. A held task (a paused execution) has no started event yet: its input stays.
 */
export function leaveToJournal(context: unknown, seq: number): { context: unknown; refs: SnapshotRefs } | null {
  const c = context as RefContext;
  let outputs: string[] | undefined;
  let inputs: string[] | undefined;
  if (c.steps !== undefined) for (const id in c.steps) if (isLarge(c.steps[id] as Holder, 'output')) (outputs ??= []).push(id);
  if (c.inflight !== undefined) {
    for (const id in c.inflight) {
      const t = c.inflight[id] as Holder;
      if (t.held !== true && isLarge(t, 'input')) (inputs ??= []).push(id);
    }
  }
  if (outputs === undefined && inputs === undefined) return null;
  const stored: RefContext = { ...c };
  if (outputs !== undefined) stored.steps = without(c.steps ?? {}, outputs, 'output');
  if (inputs !== undefined) stored.inflight = without(c.inflight ?? {}, inputs, 'input');
  return { context: stored, refs: { ...(outputs ? { outputs } : {}), ...(inputs ? { inputs } : {}), seq } };
}

/** Puts the values a snapshot left to the journal back into `context`. @throws ActorflowError `snapshot_output_missing` */
export function putBack(context: unknown, refs: SnapshotRefs, events: StepEventData): void {
  const c = context as RefContext & { executionId?: unknown };
  const missing = (what: string, id: string) =>
    new ActorflowError(ErrorCode.snapshotOutputMissing, `the journal holds no ${what} of step ${id} for this snapshot of execution ${String(c.executionId)}`);
  for (const id of refs.outputs ?? []) {
    const data = events.completed.get(id);
    const step = c.steps?.[id];
    if (data === undefined || step === undefined) throw missing('completion', id);
    step.output = codec.decode<{ output?: unknown }>(data).output ?? null;
  }
  for (const id of refs.inputs ?? []) {
    const data = events.started.get(id);
    const task = c.inflight?.[id];
    const started = data === undefined ? undefined : codec.decode<{ attempt?: unknown; input?: unknown }>(data);
    if (started === undefined || task === undefined || started.attempt !== task.attempt) throw missing(`start of attempt ${String(task?.attempt)}`, id);
    task.input = started.input ?? null;
  }
}
