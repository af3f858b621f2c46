/** @module http-agents/answer — what an HTTP push agent's answer (or posted result) means for the attempt. */
import type { LogLevel, TaskContext } from '../bus/types.ts';
import type { StepError } from '../common/errors.ts';
import { isRecord } from '../common/json.ts';
import { toDocumentSaves } from '../common/document-save.ts';
import type { PinnedAnswer } from '../webhooks/send-delivery.ts';
import { HttpAgentErrorCode, MAX_ANSWER_BYTES, type PushOutcome, type PushedCost, type PushedLog, type PushedResult } from './types.ts';

const LEVELS: ReadonlySet<string> = new Set(['debug', 'info', 'warn', 'error']);

/** A failed outcome with a code of ours. */
export const failure = (code: string, message: string, retryable: boolean): PushOutcome => ({ ok: false, error: { code, message, retryable } });

/** The log lines of an answer, the malformed ones left out (an answer is not validated like a request). */
function logsOf(v: unknown): PushedLog[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out: PushedLog[] = [];
  for (const l of v) {
    if (!isRecord(l) || typeof l.message !== 'string') continue;
    const level = typeof l.level === 'string' && LEVELS.has(l.level) ? (l.level as LogLevel) : 'info';
    out.push({ level, message: l.message, ...(l.data === undefined ? {} : { data: l.data }) });
  }
  return out;
}

function costsOf(v: unknown): PushedCost[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const num = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
  return v.filter(isRecord).map((c) => ({
    ...(typeof c.model === 'string' ? { model: c.model } : {}),
    ...(num(c.tokens) ? { tokens: c.tokens } : {}),
    ...(num(c.usd) ? { usd: c.usd } : {}),
  }));
}

/** The agent's own `{ error: { code, message } }`, if its answer carries one. */
function ownError(body: unknown): { code: string; message: string } | undefined {
  const e = isRecord(body) ? body.error : undefined;
  if (!isRecord(e) || typeof e.code !== 'string' || e.code === '') return undefined;
  return { code: e.code, message: typeof e.message === 'string' ? e.message : e.code };
}

function parse(body: Buffer): { ok: true; value: unknown } | { ok: false } {
  if (body.length === 0) return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(body.toString('utf8')) };
  } catch {
    return { ok: false };
  }
}

/**
 * The outcome of an answer to the task's POST, or `accepted` for a 202 (the result comes later).
 * 2xx: `{ output, logs?, costs?, documents? }` (an empty body is output null). 3xx: not followed, not retryable.
 * 4xx: not retryable, except 408 and 429 (the agent asks to try later). 5xx: retryable. A body
 * `{ error: { code, message } }` names the failure; the status decides whether it is retried.
 */
export function outcomeOfAnswer(a: PinnedAnswer): PushOutcome | 'accepted' {
  if (!a.complete && !a.cut) return failure(HttpAgentErrorCode.unreachable, `the connection broke during the answer (HTTP ${a.status})`, true);
  const { status } = a;
  if (status === 202) return 'accepted';
  if (status >= 200 && status < 300) {
    if (a.cut) return failure(HttpAgentErrorCode.badAnswer, `the answer is over ${MAX_ANSWER_BYTES} bytes`, false);
    const parsed = parse(a.body);
    if (!parsed.ok) return failure(HttpAgentErrorCode.badAnswer, `HTTP ${status} with a body that is not JSON`, false);
    const body = parsed.value;
    if (body !== undefined && !isRecord(body)) return failure(HttpAgentErrorCode.badAnswer, `HTTP ${status} with a body that is not an object { output, logs?, costs? }`, false);
    return { ok: true, output: body?.output ?? null, logs: logsOf(body?.logs), costs: costsOf(body?.costs), documents: body?.documents };
  }
  const parsed = a.cut ? { ok: false as const } : parse(a.body);
  const own = parsed.ok ? ownError(parsed.value) : undefined;
  const retryable = status >= 500 || status === 408 || status === 429;
  const why = status >= 300 && status < 400 ? ' (redirects are not followed)' : '';
  const error: StepError = { code: own?.code ?? HttpAgentErrorCode.status, message: own?.message ?? `HTTP ${status}${why}`, retryable };
  const body = parsed.ok && isRecord(parsed.value) ? parsed.value : undefined;
  return { ok: false, error, logs: logsOf(body?.logs), costs: costsOf(body?.costs) };
}

/** The outcome of a result posted to `/agent-tasks/{taskId}/result` (its route validated the shape). */
export function outcomeOfResult(r: PushedResult): PushOutcome {
  if (r.error !== undefined) return { ok: false, error: { code: r.error.code, message: r.error.message, retryable: r.error.retryable !== false }, logs: r.logs, costs: r.costs };
  return { ok: true, output: r.output ?? null, logs: r.logs, costs: r.costs, documents: r.documents };
}

/** Hands an outcome's log lines, costs and (with an output) documents to the attempt; throws `document_invalid` for documents that cannot be saved. */
export function applyExtras(ctx: TaskContext, o: PushOutcome): void {
  for (const l of o.logs ?? []) ctx.log(l.level, l.message, l.data);
  for (const c of o.costs ?? []) ctx.reportCost(c);
  if (o.ok) for (const d of toDocumentSaves(o.documents)) ctx.saveDocument(d);
}
