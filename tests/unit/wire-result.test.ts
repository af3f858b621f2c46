/** Results from agents in other languages: optional fields defaulted, malformed ones refused with a reason. */
import { describe, expect, it } from 'vitest';
import { readTaskResult } from '../../src/bus/nats/wire-result.ts';
import { msgpackCodec as codec } from '../../src/common/codec.ts';

const ids = { taskId: 'ex_1:s:1', executionId: 'ex_1', stepId: 's', attempt: 1, agentId: 'py-1' };

describe('readTaskResult', () => {
  it('defaults costs, durationMs and output of a minimal success', () => {
    expect(readTaskResult(codec.encode({ ...ids, ok: true }))).toEqual({ result: { ...ids, ok: true, output: null, costs: [], durationMs: 0 } });
  });

  it('keeps well-formed costs and drops malformed entries; a failure without an error gets one', () => {
    const read = readTaskResult(codec.encode({ ...ids, ok: false, costs: [{ model: 'm', tokens: 3, usd: 0.5 }, 'junk', { tokens: 'x' }], durationMs: 12 }));
    expect(read).toEqual({ result: { ...ids, ok: false, error: { code: 'agent_error', message: 'the agent reported a failure without an error', retryable: true }, costs: [{ model: 'm', tokens: 3, usd: 0.5 }, { model: null, tokens: 0, usd: 0 }], durationMs: 12 } });
  });

  it('carries the documents of a success, and turns malformed ones into a failure document_invalid (not retried)', () => {
    const doc = { type: 'report', title: 'Q1', content: { n: 1 }, scopeType: 'project', scopeId: 'p-1' };
    expect(readTaskResult(codec.encode({ ...ids, ok: true, output: 1, documents: [doc] }))).toEqual({ result: { ...ids, ok: true, output: 1, costs: [], durationMs: 0, documents: [doc] } });
    expect(readTaskResult(codec.encode({ ...ids, ok: true, documents: [] }))).toEqual({ result: { ...ids, ok: true, output: null, costs: [], durationMs: 0 } });
    for (const documents of [{ type: 'x' }, [{ title: 't', content: 1 }], [{ ...doc, scopeId: undefined }], [{ ...doc, id: 'doc_nope' }], [{ ...doc, status: 'done' }], [{ ...doc, extra: 1 }]]) {
      const read = readTaskResult(codec.encode({ ...ids, ok: true, documents }));
      expect(read).toMatchObject({ result: { ok: false, error: { code: 'document_invalid', retryable: false } } });
    }
  });

  it('refuses what names no attempt, and bytes that are not msgpack', () => {
    expect(readTaskResult(codec.encode({ ...ids, attempt: 0, ok: true }))).toEqual({ invalid: 'attempt must be an integer ≥ 1' });
    expect(readTaskResult(codec.encode({ ...ids, taskId: 7, ok: true }))).toEqual({ invalid: 'taskId must be a string' });
    expect(readTaskResult(codec.encode({ ...ids }))).toEqual({ invalid: 'ok must be true or false' });
    expect(readTaskResult(codec.encode([1, 2]))).toEqual({ invalid: 'a result is a map' });
    expect('invalid' in readTaskResult(new Uint8Array([0xc1]))).toBe(true);
  });
});
