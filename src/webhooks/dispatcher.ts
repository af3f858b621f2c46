/** @module webhooks/dispatcher — createWebhookDispatcher: records deliveries in the journal's own commit (outbox), sends, retries. */
import type { PageRequest } from '../engine/types.ts';
import { ErrorCode, NotFoundError, ValidationError } from '../common/errors.ts';
import { toEventView } from '../common/event-view.ts';
import type { EventView } from '../common/execution.ts';
import { ulid } from '../common/ids.ts';
import { localWrites } from '../common/shared-writes.ts';
import type { CommitBatch, CommitShare, DeliveryRow, ExecutionRow, WebhookRow } from '../store/types.ts';
import { createAgentPool } from './agent-pool.ts';
import { eventMatcher } from './event-patterns.ts';
import { sendDelivery } from './send-delivery.ts';
import {
  DEFAULT_WEBHOOK_CONCURRENCY,
  DEFAULT_WEBHOOK_CONCURRENCY_PER_WEBHOOK,
  DEFAULT_WEBHOOK_RETRY_MS,
  DEFAULT_WEBHOOK_TIMEOUT_MS,
  WEBHOOK_MAX_ATTEMPTS,
  type WebhookDispatcher,
  type WebhookDispatcherOptions,
  type WebhookOp,
  retryDelayMs,
} from './types.ts';
import { checkWebhookUrl } from './url-guard.ts';

interface Subscription {
  readonly row: WebhookRow;
  readonly matches: (type: string) => boolean;
  /** Aborts its requests in flight when it is deleted or the dispatcher closes. */
  readonly stop: AbortController;
}

const byId = (a: { id: string }, b: { id: string }): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Creates the dispatcher; call `start()` before the API serves (it loads the subscriptions). */
export function createWebhookDispatcher(opts: WebhookDispatcherOptions): WebhookDispatcher {
  const { journal, store, logger } = opts;
  const retryMs = opts.retryMs ?? DEFAULT_WEBHOOK_RETRY_MS;
  const allowPrivate = opts.allowPrivate === true;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
  const concurrency = Math.max(1, opts.concurrency ?? DEFAULT_WEBHOOK_CONCURRENCY);
  const perWebhook = Math.max(1, Math.min(concurrency, opts.concurrencyPerWebhook ?? DEFAULT_WEBHOOK_CONCURRENCY_PER_WEBHOOK));

  /** Keep-alive connections per webhook, as many as it may have attempts in flight. */
  const agents = createAgentPool({ maxSockets: perWebhook });
  const hooks = new Map<string, Subscription>();
  /** The hot-path index: tenants without webhooks are absent, so most events cost one map miss. */
  const byTenant = new Map<string, Subscription[]>();
  /** Attempt outcomes to write in the next batch (latest version per id). */
  let queued = new Map<string, DeliveryRow>();
  let flushArmed = false;
  let writing: Promise<void> = Promise.resolve();
  /** Due deliveries per webhook; served round-robin so one slow receiver cannot take every slot. */
  const due = new Map<string, DeliveryRow[]>();
  /** Attempts in flight per webhook. */
  const busy = new Map<string, number>();
  const retryTimers = new Map<string, { timer: NodeJS.Timeout; webhookId: string }>();
  const inFlight = new Set<Promise<void>>();
  let off: (() => void) | undefined;
  let closed = false;

  const reindex = (tenant: string): void => {
    const subs = [...hooks.values()].filter((s) => s.row.tenant === tenant);
    if (subs.length === 0) byTenant.delete(tenant);
    else byTenant.set(tenant, subs);
  };

  const add = (row: WebhookRow, index = true): void => {
    hooks.set(row.id, { row, matches: eventMatcher(row.events), stop: new AbortController() });
    if (index) reindex(row.tenant);
  };

  const owned = (tenant: string, id: string): Subscription => {
    const s = hooks.get(id);
    if (s === undefined || s.row.tenant !== tenant) throw new NotFoundError(ErrorCode.webhookNotFound, `no webhook ${id}`);
    return s;
  };

  /** Writes every attempt outcome queued so far in one transaction. */
  const flush = (): Promise<void> => {
    flushArmed = false;
    writing = writing.then(async () => {
      if (queued.size === 0) return;
      const batch = [...queued.values()].filter((row) => hooks.has(row.webhookId));
      queued = new Map();
      try {
        await store.putDeliveries(batch);
      } catch (err) {
        // Losing an outcome only means one more attempt after a restart (at least once).
        logger.error('webhook deliveries could not be recorded', { error: String(err), count: batch.length });
      }
    });
    return writing;
  };

  const save = (row: DeliveryRow): void => {
    queued.set(row.id, row);
    if (flushArmed || closed) return;
    flushArmed = true;
    // One write per turn of the event loop, whatever number of attempts ended in it.
    setImmediate(() => void flush());
  };

  /** The deliveries a journal batch causes: `pending` rows for every (matching event, webhook of its tenant). */
  const match = (batch: CommitBatch): DeliveryRow[] | undefined => {
    // Every event's execution row is in its batch; tenants without webhooks cost one map miss each.
    let execs: Map<string, ExecutionRow> | undefined;
    for (const x of batch.executions) if (byTenant.has(x.tenant)) (execs ??= new Map()).set(x.id, x);
    if (execs === undefined) return undefined;
    let out: DeliveryRow[] | undefined;
    const now = Date.now();
    for (const e of batch.events) {
      const x = execs.get(e.executionId);
      const subs = x && byTenant.get(x.tenant);
      if (x === undefined || subs === undefined) continue;
      let view: EventView | undefined;
      let body = '';
      for (const s of subs) {
        if (!s.matches(e.type)) continue;
        if (view === undefined) {
          // The same JSON the engine's event listeners see.
          view = toEventView(e, x.workflow, x.tenant);
          body = JSON.stringify(view);
        }
        (out ??= []).push({
          id: `whd_${ulid(now)}`,
          webhookId: s.row.id,
          tenant: x.tenant,
          eventId: view.id,
          eventType: e.type,
          body,
          status: 'pending',
          attempts: 0,
          lastStatusCode: null,
          lastError: null,
          nextAttemptAt: now,
          createdAt: now,
          deliveredAt: null,
        });
      }
    }
    return out;
  };

  /** The journal's commit participant: deliveries commit (or roll back) with the events that cause them, and are sent after. */
  const prepare = (batch: CommitBatch): CommitShare | undefined => {
    // No webhook at all: the journal's hot path pays one size check.
    if (byTenant.size === 0 || closed) return undefined;
    // Cluster mode: another node's commits, copied here, are that node's to deliver.
    const own = batch.originated ?? batch;
    if (own.events.length === 0) return undefined;
    let fresh: DeliveryRow[] | undefined;
    try {
      fresh = match(own);
    } catch (err) {
      // Never fail the journal's commit for a webhook fault.
      logger.error('webhook deliveries could not be matched', { error: String(err), events: batch.events.length });
      return undefined;
    }
    if (fresh === undefined) return undefined;
    const rows = fresh;
    return {
      write: { kind: 'webhook-deliveries', rows },
      settled: (committed) => {
        if (!committed || closed) return;
        try {
          for (const row of rows) if (hooks.has(row.webhookId)) enqueue(row);
          pump();
        } catch (err) {
          // Never fail a commit that happened: the rows are `pending` and resume at the next boot.
          logger.error('webhook deliveries could not be sent', { error: String(err), count: rows.length });
        }
      },
    };
  };

  const scheduleRetry = (row: DeliveryRow, delayMs: number): void => {
    const timer = setTimeout(() => {
      retryTimers.delete(row.id);
      enqueue(row);
      pump();
    }, Math.max(0, delayMs));
    retryTimers.set(row.id, { timer, webhookId: row.webhookId });
  };

  const attempt = async (row: DeliveryRow): Promise<void> => {
    const sub = hooks.get(row.webhookId);
    if (sub === undefined) return;
    const result = await sendDelivery({ url: sub.row.url, secret: sub.row.secret, delivery: row, allowPrivate, timeoutMs, signal: sub.stop.signal, nowMs: Date.now(), agentFor: (https) => (hooks.has(row.webhookId) ? agents.get(row.webhookId, https) : undefined) });
    // Shut down meanwhile, or the webhook was deleted: nothing to record.
    if (result.kind === 'aborted' || closed || !hooks.has(row.webhookId)) return;
    const now = Date.now();
    const attempts = row.attempts + 1;
    let next: DeliveryRow;
    if (result.kind === 'delivered') {
      next = { ...row, status: 'delivered', attempts, lastStatusCode: result.statusCode, lastError: null, nextAttemptAt: null, deliveredAt: now };
    } else if (attempts >= WEBHOOK_MAX_ATTEMPTS) {
      next = { ...row, status: 'dead', attempts, lastStatusCode: result.statusCode, lastError: result.error, nextAttemptAt: null };
    } else {
      const delay = retryDelayMs(attempts, retryMs);
      next = { ...row, status: 'failed', attempts, lastStatusCode: result.statusCode, lastError: result.error, nextAttemptAt: now + delay };
      scheduleRetry(next, delay);
    }
    if (next.status === 'dead') logger.warn('webhook delivery is dead', { webhookId: row.webhookId, deliveryId: row.id, lastError: next.lastError });
    save(next);
  };

  function enqueue(row: DeliveryRow): void {
    const q = due.get(row.webhookId);
    if (q === undefined) due.set(row.webhookId, [row]);
    else q.push(row);
  }

  function launch(row: DeliveryRow): void {
    const hookId = row.webhookId;
    busy.set(hookId, (busy.get(hookId) ?? 0) + 1);
    const p: Promise<void> = attempt(row)
      .catch((err: unknown) => logger.error('webhook attempt failed unexpectedly', { error: String(err), deliveryId: row.id }))
      .finally(() => {
        inFlight.delete(p);
        const n = (busy.get(hookId) ?? 1) - 1;
        if (n === 0) busy.delete(hookId);
        else busy.set(hookId, n);
        pump();
      });
    inFlight.add(p);
  }

  /** Starts due attempts, one webhook after the other, within `concurrency` overall and `perWebhook` each. */
  function pump(): void {
    let started = true;
    while (!closed && started && inFlight.size < concurrency) {
      started = false;
      for (const hookId of [...due.keys()]) {
        if (inFlight.size >= concurrency) return;
        if ((busy.get(hookId) ?? 0) >= perWebhook) continue;
        const q = due.get(hookId) ?? [];
        const row = q.shift();
        // Served: to the back of the round-robin order (or out of it when drained).
        due.delete(hookId);
        if (q.length > 0) due.set(hookId, q);
        if (row === undefined) continue;
        launch(row);
        started = true;
      }
    }
  }

  /** Stops a webhook here: its attempts, retries and connections; its queued outcomes are written first. */
  const drop = async (s: Subscription): Promise<void> => {
    const id = s.row.id;
    hooks.delete(id);
    due.delete(id);
    s.stop.abort();
    agents.drop(id);
    reindex(s.row.tenant);
    for (const [deliveryId, t] of retryTimers) {
      if (t.webhookId !== id) continue;
      clearTimeout(t.timer);
      retryTimers.delete(deliveryId);
    }
    // Writes already queued for it go first, so none lands after the delete.
    await flush();
    await store.deleteWebhook(id);
  };

  /** Applies a write of webhooks here (on every node in cluster mode): deterministic, idempotent. */
  const apply = async (op: WebhookOp): Promise<WebhookRow | undefined> => {
    if (op.kind === 'delete') {
      await drop(owned(op.tenant, op.id));
      return undefined;
    }
    // Applied before (a restart between the apply and the record of its position): that row.
    const known = hooks.get(op.row.id);
    if (known !== undefined) return known.row;
    await store.insertWebhook(op.row);
    add(op.row);
    return op.row;
  };
  let write: ((op: WebhookOp) => Promise<WebhookRow | undefined>) | undefined;
  const send = (op: WebhookOp): Promise<WebhookRow | undefined> => {
    if (write === undefined) throw new Error('webhooks are written only after start()');
    return write(op);
  };

  return {
    start: async () => {
      const rows = await store.listWebhooks();
      for (const row of rows) add(row, false);
      for (const tenant of new Set(rows.map((r) => r.tenant))) reindex(tenant);
      const writes = opts.writes ?? localWrites;
      write = writes.channel<WebhookOp, WebhookRow | undefined>('webhooks', apply);
      await writes.caughtUp('webhooks');
      // Registered once the webhooks are known: started before the engine, no commit goes unmatched.
      off = journal.addCommitParticipant({ prepare });
      const open = await store.listOpenDeliveries();
      const now = Date.now();
      for (const row of open) if (hooks.has(row.webhookId)) scheduleRetry(row, (row.nextAttemptAt ?? now) - now);
    },

    create: async (tenant, spec) => {
      const verdict = await checkWebhookUrl(spec.url, { allowPrivate });
      if (!verdict.ok) throw new ValidationError(`The webhook URL is refused: ${verdict.reason}.`, [{ path: '/url', message: verdict.reason }], ErrorCode.webhookUrlForbidden);
      const now = Date.now();
      const row: WebhookRow = { id: `wh_${ulid(now)}`, tenant, url: spec.url, events: [...new Set(spec.events)], secret: spec.secret, createdAt: now };
      return (await send({ kind: 'create', row })) as WebhookRow;
    },

    get: (tenant, id) => owned(tenant, id).row,

    list: (tenant, page: PageRequest) => {
      const all = (byTenant.get(tenant) ?? []).map((s) => s.row).filter((w) => page.cursor === undefined || w.id > page.cursor).sort(byId);
      const items = all.slice(0, page.limit);
      return { items, nextCursor: all.length > page.limit ? (items[items.length - 1]?.id ?? null) : null };
    },

    remove: async (tenant, id) => {
      owned(tenant, id);
      await send({ kind: 'delete', tenant, id });
    },

    deliveries: async (tenant, id, page) => {
      owned(tenant, id);
      await flush();
      const rows = await store.listDeliveries(id, page.cursor, page.limit + 1);
      const items = rows.slice(0, page.limit);
      return { items, nextCursor: rows.length > page.limit ? (items[items.length - 1]?.id ?? null) : null };
    },

    flush,

    close: async () => {
      if (closed) return;
      closed = true;
      off?.();
      for (const t of retryTimers.values()) clearTimeout(t.timer);
      retryTimers.clear();
      for (const s of hooks.values()) s.stop.abort();
      await Promise.allSettled([...inFlight]);
      agents.close();
      await flush();
    },
  };
}
