/** @module scheduler/scheduler — keeps schedules in memory, arms one timer for the earliest due run, fires runs, catches up at boot. */
import type { Engine, PageRequest } from '../engine/types.ts';
import type { Clock } from '../common/clock.ts';
import { ErrorCode, NotFoundError } from '../common/errors.ts';
import type { Page } from '../common/execution.ts';
import { PRIORITY } from '../common/flow.ts';
import { ulid } from '../common/ids.ts';
import type { Logger } from '../common/logger.ts';
import { localWrites, type SharedWrites } from '../common/shared-writes.ts';
import type { CatchUpPolicy, OverlapPolicy, ScheduleRow, ScheduleStore } from '../store/types.ts';
import { nextRunAfter } from './next-run.ts';
import { runSchedule } from './run-schedule.ts';
import { WorkQueue } from './work-queue.ts';

/** A new schedule (already validated: exactly one of `cron`, `everyMs`, `at`). */
export interface ScheduleSpec {
  readonly workflow: string;
  readonly input?: unknown;
  readonly cron?: string | undefined;
  readonly timezone?: string | undefined;
  readonly everyMs?: number | undefined;
  /** Epoch ms. */
  readonly at?: number | undefined;
  readonly enabled?: boolean | undefined;
  readonly catchUp?: CatchUpPolicy | undefined;
  readonly overlap?: OverlapPolicy | undefined;
  /** The `priority` of its runs (−10..10). @default 0 */
  readonly priority?: number | undefined;
}

/** A change: fields given replace the old ones; giving one of `cron`/`everyMs`/`at` replaces the trigger. */
export type SchedulePatch = Partial<ScheduleSpec>;

export interface SchedulerOptions {
  readonly engine: Engine;
  readonly store: ScheduleStore;
  readonly logger: Logger;
  /** Time of the scheduler (tests drive a manual clock). */
  readonly clock: Clock;
  /** Where writes of schedules are applied (cluster mode: on every node). @default localWrites */
  readonly writes?: SharedWrites;
  /**
   * Cluster mode: whether this node fires `s` (it serves the partition the schedule belongs to). Each run
   * then starts with an idempotency key of the schedule and its due time, so a node that takes the
   * schedule over between a start and its record cannot start that due time twice. @default every schedule, no key
   */
  readonly fires?: (s: ScheduleRow) => boolean;
}

/** A write of schedules (common/shared-writes.ts: in cluster mode every node applies it, in log order). */
export type ScheduleOp =
  | { readonly kind: 'create'; readonly row: ScheduleRow }
  | { readonly kind: 'update'; readonly tenant: string; readonly id: string; readonly patch: SchedulePatch; readonly at: number }
  | { readonly kind: 'delete'; readonly tenant: string; readonly id: string }
  /**
   * The run due at `due` was dealt with at `at`: started (`executionId`), skipped by its overlap policy
   * (null), or passed over by catch-up `skip` (`catchUpSkip`). Ignored unless `due` is still the schedule's
   * next run (it was changed meanwhile, or another op recorded that run already).
   */
  | { readonly kind: 'advance'; readonly id: string; readonly due: number; readonly at: number; readonly executionId: string | null; readonly catchUpSkip?: boolean };

export interface Scheduler {
  /** Loads the schedules; from then on the scheduler applies writes of schedules (cluster mode: those of every node). */
  load(): Promise<void>;
  /** Loads schedules (unless `load` did), applies each one's catch-up policy to runs missed while down, arms the timer. */
  start(): Promise<void>;
  create(tenant: string, spec: ScheduleSpec): Promise<ScheduleRow>;
  /** @throws NotFoundError `schedule_not_found` (also for another tenant's). */
  get(tenant: string, id: string): ScheduleRow;
  list(tenant: string, page: PageRequest): Page<ScheduleRow>;
  update(tenant: string, id: string, patch: SchedulePatch): Promise<ScheduleRow>;
  remove(tenant: string, id: string): Promise<void>;
  /** Resolves once no fire or change is in progress (tests). */
  idle(): Promise<void>;
  /** Cluster mode: which schedules this node fires changed (a partition gained or lost): re-arm, fire what is due. */
  reconsider(): void;
  /** Disarms the timer and waits for work in progress. */
  close(): Promise<void>;
}

const anchorOf = (s: ScheduleRow): number => s.updatedAt;

/** The next run of an enabled schedule strictly after `after`; null when disabled or none is left. */
function nextOf(s: ScheduleRow, after: number): number | null {
  if (!s.enabled) return null;
  return nextRunAfter({ cron: s.cron, timezone: s.timezone, everyMs: s.everyMs, at: s.at, anchor: anchorOf(s) }, after);
}

/** Creates the scheduler; call `start()` once the engine has recovered. */
export function createScheduler(opts: SchedulerOptions): Scheduler {
  const { engine, store, logger, clock } = opts;
  const fires = opts.fires ?? (() => true);
  const writes = opts.writes ?? localWrites;
  const rows = new Map<string, ScheduleRow>();
  const queue = new WorkQueue();
  let timer: unknown;
  let armedAt: number | null = null;
  let started = false;
  let closed = false;

  const disarm = (): void => {
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = undefined;
    armedAt = null;
  };

  /** One timer for the earliest due schedule. */
  const arm = (): void => {
    if (!started || closed) return;
    let earliest: number | null = null;
    for (const s of rows.values()) {
      if (s.enabled && s.nextRunAt !== null && (earliest === null || s.nextRunAt < earliest) && fires(s)) earliest = s.nextRunAt;
    }
    if (earliest === armedAt && timer !== undefined) return;
    disarm();
    if (earliest === null) return;
    armedAt = earliest;
    timer = clock.setTimeout(() => {
      timer = undefined;
      armedAt = null;
      void queue.run(fireDue).catch((err: unknown) => logger.error('scheduler fire failed', { error: String(err) }));
    }, Math.max(0, earliest - clock.now()));
  };

  const save = async (s: ScheduleRow): Promise<void> => {
    await store.put(s);
    rows.set(s.id, s);
  };

  const owned = (tenant: string, id: string): ScheduleRow => {
    const s = rows.get(id);
    if (s === undefined || s.tenant !== tenant) throw new NotFoundError(ErrorCode.scheduleNotFound, `no schedule ${id}`);
    return s;
  };

  const changed = async (s: ScheduleRow): Promise<ScheduleRow> => {
    const row = { ...s, nextRunAt: nextOf(s, s.updatedAt) };
    await save(row);
    arm();
    return row;
  };

  /** Applies a write of schedules here (on every node in cluster mode): deterministic, idempotent. */
  const apply = async (op: ScheduleOp): Promise<ScheduleRow | undefined> => {
    switch (op.kind) {
      case 'create':
        return changed(op.row);
      case 'update': {
        const s = owned(op.tenant, op.id);
        const patch = op.patch;
        const trigger = patch.cron !== undefined || patch.everyMs !== undefined || patch.at !== undefined;
        const cron = trigger ? (patch.cron ?? null) : s.cron;
        return changed({
          ...s,
          workflow: patch.workflow ?? s.workflow,
          input: 'input' in patch ? patch.input : s.input,
          cron,
          timezone: cron === null ? null : patch.timezone !== undefined ? patch.timezone : trigger ? null : s.timezone,
          everyMs: trigger ? (patch.everyMs ?? null) : s.everyMs,
          at: trigger ? (patch.at ?? null) : s.at,
          enabled: patch.enabled ?? s.enabled,
          catchUp: patch.catchUp ?? s.catchUp,
          overlap: patch.overlap ?? s.overlap,
          priority: patch.priority ?? s.priority,
          updatedAt: op.at,
        });
      }
      case 'delete':
        owned(op.tenant, op.id);
        await store.delete(op.id);
        rows.delete(op.id);
        arm();
        return undefined;
      case 'advance': {
        const current = rows.get(op.id);
        // Deleted or changed meanwhile, or this run recorded already: nothing to move.
        if (current === undefined || current.nextRunAt !== op.due) return current;
        const oneTime = current.at !== null;
        const ran = op.executionId === null ? {} : { lastRunAt: op.at, lastExecutionId: op.executionId };
        const next = { ...current, ...ran, ...(oneTime ? { enabled: false } : {}), ...(op.catchUpSkip === true && oneTime ? { updatedAt: op.at } : {}) };
        const row = { ...next, nextRunAt: nextOf(next, op.at) };
        await save(row);
        arm();
        return row;
      }
    }
  };
  let channel: ((op: ScheduleOp) => Promise<ScheduleRow | undefined>) | undefined;
  let loading: Promise<void> | undefined;
  /** Ops are applied to the schedules loaded: the channel opens once they are. */
  const load = (): Promise<void> =>
    (loading ??= (async () => {
      for (const s of await store.listAll()) rows.set(s.id, s);
      channel = writes.channel<ScheduleOp, ScheduleRow | undefined>('schedules', apply);
      await writes.caughtUp('schedules');
    })());
  const write = async (op: ScheduleOp): Promise<ScheduleRow | undefined> => {
    await load();
    return (channel as NonNullable<typeof channel>)(op);
  };

  /** Starts one run (overlap policy applies), then moves the schedule to its next run after `now`. */
  const fire = async (s: ScheduleRow, now: number): Promise<void> => {
    const due = s.nextRunAt as number;
    // Cluster mode: one start per due time, whichever node fires it.
    const executionId = await runSchedule(engine, s, logger, opts.fires === undefined ? undefined : `schedule:${s.id}:${due}`);
    await write({ kind: 'advance', id: s.id, due, at: now, executionId });
  };

  /** Every schedule due by now that this node fires, earliest first. A late timer runs a schedule once, not once per missed time. */
  const fireDue = async (): Promise<void> => {
    if (closed) return;
    const now = clock.now();
    const due = [...rows.values()].filter((s) => s.enabled && s.nextRunAt !== null && s.nextRunAt <= now && fires(s)).sort((a, b) => (a.nextRunAt ?? 0) - (b.nextRunAt ?? 0));
    for (const s of due) await fire(s, now);
    arm();
  };

  /** Runs missed while the server was down: `run-once` starts one now, `skip` does not; both move on to the next future run. */
  const catchUp = async (): Promise<void> => {
    const now = clock.now();
    for (const s of [...rows.values()]) {
      if (!s.enabled || s.nextRunAt === null || s.nextRunAt >= now || !fires(s)) continue;
      if (s.catchUp === 'run-once') {
        logger.info('schedule catching up one missed run', { schedule: s.id, due: new Date(s.nextRunAt).toISOString() });
        await fire(s, now);
      } else {
        await write({ kind: 'advance', id: s.id, due: s.nextRunAt, at: now, executionId: null, catchUpSkip: true });
      }
    }
  };

  return {
    load,
    start: () =>
      queue.run(async () => {
        if (closed) return;
        await load();
        started = true;
        await catchUp();
        arm();
      }),
    create: (tenant, spec) =>
      queue.run(async () => {
        const now = clock.now();
        const row = await write({ kind: 'create', row: {
          id: `sc_${ulid(Date.now())}`,
          tenant,
          workflow: spec.workflow,
          input: spec.input,
          cron: spec.cron ?? null,
          timezone: spec.cron === undefined ? null : (spec.timezone ?? null),
          everyMs: spec.everyMs ?? null,
          at: spec.at ?? null,
          enabled: spec.enabled ?? true,
          catchUp: spec.catchUp ?? 'skip',
          overlap: spec.overlap ?? 'skip',
          priority: spec.priority ?? PRIORITY.default,
          nextRunAt: null,
          lastRunAt: null,
          lastExecutionId: null,
          createdAt: now,
          updatedAt: now,
        } });
        return row as ScheduleRow;
      }),
    get: owned,
    list: (tenant, page) => {
      const all = [...rows.values()].filter((s) => s.tenant === tenant && (page.cursor === undefined || s.id > page.cursor)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      const items = all.slice(0, page.limit);
      return { items, nextCursor: all.length > page.limit ? (items[items.length - 1]?.id ?? null) : null };
    },
    update: (tenant, id, patch) =>
      queue.run(async () => {
        owned(tenant, id);
        return (await write({ kind: 'update', tenant, id, patch, at: clock.now() })) as ScheduleRow;
      }),
    remove: (tenant, id) =>
      queue.run(async () => {
        owned(tenant, id);
        await write({ kind: 'delete', tenant, id });
      }),
    idle: () => queue.idle(),
    reconsider: () => {
      if (!started || closed) return;
      arm();
      void queue.run(fireDue).catch((err: unknown) => logger.error('scheduler fire failed', { error: String(err) }));
    },
    close: async () => {
      closed = true;
      disarm();
      await queue.idle();
    },
  };
}
