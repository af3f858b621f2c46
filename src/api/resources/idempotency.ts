/**
 * @module api/resources/idempotency — the `idempotency-key` of the routes that start work (POST
 * /executions, POST /tasks, POST /hooks/{workflow}): the checks of the key, the hash that tells a
 * replay from a conflicting reuse, and the answer of a replay.
 */
import { createHash } from 'node:crypto';
import type { Issue } from '../../common/errors.ts';
import { isRecord } from '../../common/json.ts';
import { type Reply, json } from '../http/reply.ts';

const REPLAY_HEADERS = { 'idempotent-replay': 'true' } as const;

/** JSON with object keys sorted, so equal bodies hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(',')}]`;
  if (isRecord(value)) {
    const keys = Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** sha256 hex of the canonical start body without `idempotencyKey` (key from header or body alike). */
export function startRequestHash(body: Readonly<Record<string, unknown>>): string {
  const { idempotencyKey: _key, ...rest } = body;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex');
}

/** The `idempotency-key` header is at most 255 characters, as the body's `idempotencyKey`. */
export function keyHeaderIssues(headers: Readonly<Record<string, string>>): Issue[] {
  const key = headers['idempotency-key'];
  return key !== undefined && key.length > 255 ? [{ path: '/headers/idempotency-key', message: 'must NOT have more than 255 characters' }] : [];
}

/** A key given both as the header and in the body must be the same key. */
export function keyMismatchIssues(body: unknown, headers: Readonly<Record<string, string>>): Issue[] {
  const header = headers['idempotency-key'];
  if (!isRecord(body) || header === undefined || body['idempotencyKey'] === undefined || body['idempotencyKey'] === header) return [];
  return [{ path: '/idempotencyKey', message: 'differs from the idempotency-key header' }];
}

/** `status` (201) with what was started, or 200 marked `idempotent-replay` when the key replayed an earlier start. */
export function startedOrReplayed(replayed: boolean, body: unknown, status = 201): Reply {
  return replayed ? json(200, body, REPLAY_HEADERS) : json(status, body);
}
