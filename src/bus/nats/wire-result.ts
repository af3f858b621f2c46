/**
 * @module bus/nats/wire-result — a result from an agent, read defensively: agents in other languages
 * (docs/agent-protocol.md) may leave optional fields out or send them malformed. What can be defaulted
 * is; a result that names no attempt is refused with a reason, never left unanswered.
 */
import { msgpackCodec as codec } from '../../common/codec.ts';
import { toStepError } from '../../common/errors.ts';
import { toDocumentSaves } from '../../common/document-save.ts';
import { isRecord } from '../../common/json.ts';
import type { CostReport, TaskResult } from '../types.ts';

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

function costs(v: unknown): CostReport[] {
  if (!Array.isArray(v)) return [];
  return v.filter(isRecord).map((c) => ({ model: typeof c.model === 'string' ? c.model : null, tokens: num(c.tokens), usd: num(c.usd) }));
}

/**
 * The result in `data`, with defaults for optional fields (`costs` [], `durationMs` 0, `output` null,
 * `documents` none), or why it cannot be one. Malformed `documents` make it a failure `document_invalid`.
 */
export function readTaskResult(data: Uint8Array): { result: TaskResult } | { invalid: string } {
  let r: unknown;
  try {
    r = codec.decode<unknown>(data);
  } catch (err) {
    return { invalid: `not msgpack: ${String(err)}` };
  }
  if (!isRecord(r)) return { invalid: 'a result is a map' };
  for (const k of ['taskId', 'executionId', 'stepId', 'agentId'] as const) if (typeof r[k] !== 'string') return { invalid: `${k} must be a string` };
  if (!Number.isInteger(r.attempt) || (r.attempt as number) < 1) return { invalid: 'attempt must be an integer ≥ 1' };
  if (typeof r.ok !== 'boolean') return { invalid: 'ok must be true or false' };
  const base = { taskId: r.taskId as string, executionId: r.executionId as string, stepId: r.stepId as string, attempt: r.attempt as number, agentId: r.agentId as string, costs: costs(r.costs), durationMs: num(r.durationMs) };
  if (!r.ok) return { result: { ...base, ok: false, error: toStepError(r.error ?? { code: 'agent_error', message: 'the agent reported a failure without an error' }) } };
  // Documents that cannot be saved fail the attempt (not retried), as ctx.saveDocument would have thrown in the handler.
  let documents;
  try {
    documents = toDocumentSaves(r.documents);
  } catch (err) {
    return { result: { ...base, ok: false, error: toStepError(err) } };
  }
  return { result: { ...base, ok: true, output: r.output === undefined ? null : r.output, ...(documents.length > 0 ? { documents } : {}) } };
}
