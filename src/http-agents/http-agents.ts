/**
 * @module http-agents/http-agents — createHttpAgents: registrations of HTTP push agents, one bus router
 * per kind served by any of them, and the task tokens of their results and heartbeats.
 *
 * Kinds are one namespace for every tenant (SDK agents over NATS serve all of them), so the router of a
 * kind takes every task of that kind and sends each to an agent of the task's own tenant; one whose
 * tenant has none (or whose agents are all busy) waits in the router until one registers or frees a slot
 * (or the step times out, or is cancelled). A router leaves the bus when its kind's last agent is deleted:
 * tasks of that kind then wait on the bus for any agent.
 */
import { ConflictError, ErrorCode, NotFoundError, ValidationError } from '../common/errors.ts';
import { ulid } from '../common/ids.ts';
import type { AgentHandle } from '../bus/types.ts';
import type { HttpAgentRow } from '../store/types.ts';
import { checkWebhookUrl } from '../webhooks/url-guard.ts';
import { outcomeOfResult } from './answer.ts';
import { Endpoint, Endpoints } from './endpoints.ts';
import { TaskLeases } from './leases.ts';
import { pushHandler, stoppingError } from './push-task.ts';
import { type HttpAgents, type HttpAgentsOptions, ROUTER_CAPACITY, ROUTER_PREFIX, routerName } from './types.ts';

export function createHttpAgents(opts: HttpAgentsOptions): HttpAgents {
  const { bus, store, logger } = opts;
  const allowPrivate = opts.allowPrivate === true;
  const endpoints = new Endpoints();
  const leases = new TaskLeases();
  const inFlight = new Set<AbortController>();
  const handler = pushHandler({ endpoints, leases, allowPrivate, inFlight });
  const routers = new Map<string, AgentHandle>();
  /** Routers leaving the bus (on NATS, a drain waits for the tasks they hold). */
  const leaving = new Set<Promise<void>>();
  let closed = false;

  /** Serves each kind some agent has, and stops serving the others. */
  const route = (kinds: readonly string[]): void => {
    for (const kind of kinds) {
      const router = routers.get(kind);
      if (endpoints.serves(kind)) {
        if (router === undefined && !closed) routers.set(kind, bus.serve({ name: routerName(kind), kinds: [kind], concurrency: ROUTER_CAPACITY, version: 'http' }, handler));
      } else if (router !== undefined) {
        routers.delete(kind);
        // Not waited for: the tasks it holds end on their own (a result, the deadline, shutdown).
        const p: Promise<void> = router
          .close()
          .catch((err: unknown) => logger.warn('an HTTP agent router did not close cleanly', { kind, err: String(err) }))
          .finally(() => leaving.delete(p));
        leaving.add(p);
      }
    }
  };

  /** Kinds of `kinds` that agents other than the routers serve now: a router would take (and hold) their tasks. */
  const takenKinds = (kinds: readonly string[]): string[] => {
    const others = bus.agents().filter((a) => a.status !== 'offline' && !a.name.startsWith(ROUTER_PREFIX));
    return kinds.filter((k) => others.some((a) => a.kinds.includes(k)));
  };

  const owned = (tenant: string, id: string): Endpoint => {
    const ep = endpoints.get(id);
    if (ep === undefined || ep.row.tenant !== tenant) throw new NotFoundError(ErrorCode.agentNotFound, `No agent ${JSON.stringify(id)}.`);
    return ep;
  };

  return {
    start: async () => {
      const rows = await store.listHttpAgents();
      for (const row of rows) endpoints.add(new Endpoint(row));
      route([...new Set(rows.flatMap((r) => r.kinds))]);
    },

    register: async (tenant, spec) => {
      const taken = takenKinds(spec.kinds);
      if (taken.length > 0) {
        throw new ConflictError(ErrorCode.agentKindTaken, `Other agents serve ${taken.map((k) => JSON.stringify(k)).join(', ')}: a kind is served either by HTTP push agents or by others.`);
      }
      const verdict = await checkWebhookUrl(spec.url, { allowPrivate });
      if (!verdict.ok) throw new ValidationError(`The agent URL is refused: ${verdict.reason}.`, [{ path: '/url', message: verdict.reason }], ErrorCode.agentUrlForbidden);
      const now = Date.now();
      const row: HttpAgentRow = {
        id: `ag_${ulid(now)}`,
        tenant,
        name: spec.name,
        kinds: [...new Set(spec.kinds)],
        url: spec.url,
        secret: spec.secret,
        concurrency: spec.concurrency,
        timeoutMs: spec.timeoutMs,
        createdAt: now,
      };
      await store.insertHttpAgent(row);
      const ep = new Endpoint(row);
      endpoints.add(ep);
      route(row.kinds);
      return ep.view();
    },

    list: (tenant) => endpoints.ofTenant(tenant).map((ep) => ep.view()),

    get: (tenant, id) => {
      const ep = endpoints.get(id);
      return ep !== undefined && ep.row.tenant === tenant ? ep.view() : undefined;
    },

    remove: async (tenant, id) => {
      const ep = owned(tenant, id);
      await store.deleteHttpAgent(id);
      endpoints.remove(id);
      route(ep.row.kinds);
    },

    complete: (taskId, token, result) => leases.complete(taskId, token, outcomeOfResult(result)),

    heartbeat: (taskId, token) => leases.heartbeat(taskId, token),

    close: async () => {
      if (closed) return;
      closed = true;
      // Attempts in flight end now (retryable); after a restart the engine sends them again, same task id and attempt.
      for (const ac of inFlight) ac.abort(stoppingError());
      const stopping = [...routers.values()].map((r) => r.close());
      routers.clear();
      await Promise.allSettled([...stopping, ...leaving]);
      endpoints.closeAll();
    },
  };
}
