/**
 * @module http-agents/push-task — the handler of a kind's router: takes a slot of one of the task's
 * tenant's agents, POSTs the signed task to it (through the SSRF guard, on its keep-alive sockets), and
 * ends with its answer, or (after a 202) with the result it posts, or at the deadline heartbeats extend.
 */
import { isIP } from 'node:net';
import type { TaskContext, TaskHandler } from '../bus/types.ts';
import { iso } from '../common/clock.ts';
import { ActorflowError, toStepError } from '../common/errors.ts';
import { postPinnedRead, describeError } from '../webhooks/send-delivery.ts';
import { signatureHeader } from '../webhooks/signature.ts';
import { checkWebhookUrl } from '../webhooks/url-guard.ts';
import { applyExtras, failure, outcomeOfAnswer } from './answer.ts';
import type { Endpoint, Endpoints } from './endpoints.ts';
import type { Lease, TaskLeases } from './leases.ts';
import { HttpAgentErrorCode, MAX_ANSWER_BYTES, type PushOutcome } from './types.ts';

const USER_AGENT = 'actorflow-agents/1';

/** Why a task's POST is closed once the attempt has its outcome (only one still open is affected). */
const SETTLED = new Error('the attempt has its outcome');

const hostOf = (url: URL): string => (url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname);

export interface PushDeps {
  readonly endpoints: Endpoints;
  readonly leases: TaskLeases;
  readonly allowPrivate: boolean;
  /** One controller per task in flight (waiting for a slot included): the service aborts them all at shutdown. */
  readonly inFlight: Set<AbortController>;
}

/** The error a task ends with when the server shuts down under it (it is sent again after the restart). */
export const stoppingError = (): ActorflowError =>
  new ActorflowError(HttpAgentErrorCode.stopping, 'the server is shutting down; the attempt is sent again after the restart', { retryable: true });

/** The JSON body POSTed for one attempt (`taskToken` authorizes its result and heartbeats). */
function taskBody(ctx: TaskContext, lease: Lease): string {
  return JSON.stringify({
    taskId: lease.taskId,
    taskToken: lease.token,
    executionId: ctx.executionId,
    stepId: ctx.stepId,
    attempt: ctx.attempt,
    kind: ctx.kind,
    input: ctx.input,
    deadline: iso(lease.deadline),
  });
}

/** One exchange with the agent: its answer, or after a 202 its posted result; whichever ends the attempt first with the deadline or an abort. */
async function exchange(d: PushDeps, ctx: TaskContext, ep: Endpoint, lease: Lease, ac: AbortController, ended: Promise<PushOutcome>): Promise<PushOutcome> {
  const verdict = ep.checked ?? (await checkWebhookUrl(ep.row.url, { allowPrivate: d.allowPrivate }));
  if (ac.signal.aborted) return ended;
  if (!verdict.ok) return failure(HttpAgentErrorCode.unreachable, `url refused: ${verdict.reason}`, true);
  // An IP literal resolves to itself: its verdict holds for good. A host name is checked again each time (DNS rebinding).
  if (isIP(hostOf(verdict.url)) !== 0) ep.checked = verdict;
  const body = taskBody(ctx, lease);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': USER_AGENT,
    'x-actorflow-signature': signatureHeader(ep.row.secret, body, Math.floor(Date.now() / 1000)),
  };
  // The agent joins the execution's trace.
  if (ctx.traceparent !== undefined) headers['traceparent'] = ctx.traceparent;
  if (ctx.tracestate !== undefined) headers['tracestate'] = ctx.tracestate;
  const answered = postPinnedRead({
    url: verdict.url,
    addresses: verdict.addresses,
    headers,
    body,
    signal: ac.signal,
    maxResponseBytes: MAX_ANSWER_BYTES,
    agent: ep.agentFor(verdict.url.protocol === 'https:'),
  }).then(outcomeOfAnswer, (err: unknown) => failure(HttpAgentErrorCode.unreachable, describeError(err), true));
  // A result may be posted before the 202 is read: the first outcome wins.
  const first = await Promise.race([answered, lease.settled, ended]);
  return first === 'accepted' ? Promise.race([lease.settled, ended]) : first;
}

/** Runs one attempt on an agent of its tenant: the output, or throws its step error. */
async function push(d: PushDeps, ctx: TaskContext, taskId: string): Promise<unknown> {
  // Ends the attempt early: a cancel or step timeout (ctx.signal), the deadline, or shutdown.
  const ac = new AbortController();
  const cancel = (): void => ac.abort(ctx.signal.reason);
  if (ctx.signal.aborted) cancel();
  else ctx.signal.addEventListener('abort', cancel, { once: true });
  const ended = new Promise<PushOutcome>((resolve) => {
    const end = (): void => resolve({ ok: false, error: toStepError(ac.signal.reason) });
    if (ac.signal.aborted) end();
    else ac.signal.addEventListener('abort', end, { once: true });
  });
  d.inFlight.add(ac);
  try {
    const ep = await d.endpoints.acquire(ctx.tenant, ctx.kind, ac.signal);
    const started = performance.now();
    // A posted result is acknowledged once the bus says it is durable (a bus without that word: at once).
    const durable = (): Promise<boolean> => new Promise((resolve) => (ctx.onReported ? ctx.onReported(resolve) : resolve(true)));
    const lease = d.leases.take(taskId, ep.row.timeoutMs, durable);
    // The deadline aborts a POST still waiting for its answer (lease.settled has the timeout outcome).
    lease.expired.addEventListener('abort', () => ac.abort(lease.expired.reason), { once: true });
    let outcome: PushOutcome;
    try {
      outcome = await exchange(d, ctx, ep, lease, ac, ended);
    } finally {
      d.leases.release(lease);
      d.endpoints.release(ep);
    }
    if (ctx.signal.aborted) throw ctx.signal.reason;
    ep.record(outcome, performance.now() - started);
    applyExtras(ctx, outcome);
    if (outcome.ok) return outcome.output;
    throw new ActorflowError(outcome.error.code, outcome.error.message, { retryable: outcome.error.retryable !== false });
  } finally {
    d.inFlight.delete(ac);
    ctx.signal.removeEventListener('abort', cancel);
    // A POST still open (the result came first) is not waited for.
    if (!ac.signal.aborted) ac.abort(SETTLED);
  }
}

/**
 * The handler of every router: one run per attempt. A second dispatch of an attempt that runs here
 * (a re-dispatch within this process) joins it: one POST, one outcome.
 */
export function pushHandler(d: PushDeps): TaskHandler {
  const running = new Map<string, Promise<unknown>>();
  return (ctx) => {
    const taskId = `${ctx.executionId}:${ctx.stepId}:${ctx.attempt}`;
    const same = running.get(taskId);
    if (same !== undefined) return same;
    const p = push(d, ctx, taskId).finally(() => running.delete(taskId));
    running.set(taskId, p);
    return p;
  };
}
