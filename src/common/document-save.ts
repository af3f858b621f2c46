/**
 * @module common/document-save — what an agent saves with a step result (`ctx.saveDocument(...)`, or
 * `documents: [...]` in a result on the wire), checked the same way wherever it comes from.
 */
import { msgpackCodec as codec } from './codec.ts';
import { ActorflowError } from './errors.ts';
import { LIMITS } from './flow.ts';
import { ulid } from './ids.ts';
import { isRecord } from './json.ts';

/** A document's lifecycle: `draft` (the default), `final`, `archived`. */
export type DocumentStatus = 'draft' | 'final' | 'archived';

export const DOCUMENT_STATUSES: readonly DocumentStatus[] = ['draft', 'final', 'archived'];

/** Longest `scopeType`, `scopeId`, `type` (names: they are filters and index keys). */
export const MAX_DOCUMENT_NAME = 200;
/** Longest `title`. */
export const MAX_DOCUMENT_TITLE = 1000;
/** Documents one step result may save. */
export const MAX_DOCUMENTS_PER_RESULT = 100;

const DOCUMENT_ID = /^doc_[0-9A-HJKMNP-TV-Z]{26}$/;

export function newDocumentId(now: number): string {
  return `doc_${ulid(now)}`;
}

export function isDocumentId(raw: string): boolean {
  return DOCUMENT_ID.test(raw);
}

/**
 * One document saved by a step. Without `id` a new document (scope: the given one, else the
 * execution's `scope`, else `execution`/<execution id>); with `id` a new version of that document of
 * the same tenant (its scope and type stay; `status` defaults to its current one).
 */
export interface DocumentSave {
  readonly id?: string;
  readonly scopeType?: string;
  readonly scopeId?: string;
  readonly type: string;
  readonly title: string;
  /** Any JSON value (text as a string). */
  readonly content: unknown;
  /** @default 'draft' for a new document, the current status for a new version */
  readonly status?: DocumentStatus;
}

/** A step's documents that cannot be saved (fails the attempt, never retried: the same result would fail again). */
export const DocumentErrorCode = {
  invalid: 'document_invalid',
} as const;

const name = (v: unknown, max: number): v is string => typeof v === 'string' && v.length >= 1 && v.length <= max;

/** Why `v` is no DocumentSave (the first thing wrong, `at` naming it), or undefined. */
function problemOf(v: unknown, at: string): string | undefined {
  if (!isRecord(v)) return `${at} must be an object { type, title, content, status?, scopeType?, scopeId?, id? }`;
  const unknown = Object.keys(v).filter((k) => !['id', 'scopeType', 'scopeId', 'type', 'title', 'content', 'status'].includes(k));
  if (unknown.length > 0) return `${at} has unknown field ${JSON.stringify(unknown[0])}`;
  if (v.id !== undefined && !(typeof v.id === 'string' && isDocumentId(v.id))) return `${at}.id must be a document id (doc_ + ULID)`;
  for (const k of ['scopeType', 'scopeId'] as const) {
    if (v[k] !== undefined && !name(v[k], MAX_DOCUMENT_NAME)) return `${at}.${k} must be a string of 1 to ${MAX_DOCUMENT_NAME} characters`;
  }
  if ((v.scopeType === undefined) !== (v.scopeId === undefined)) return `${at}: scopeType and scopeId go together`;
  if (!name(v.type, MAX_DOCUMENT_NAME)) return `${at}.type must be a string of 1 to ${MAX_DOCUMENT_NAME} characters`;
  if (!name(v.title, MAX_DOCUMENT_TITLE)) return `${at}.title must be a string of 1 to ${MAX_DOCUMENT_TITLE} characters`;
  if (v.content === undefined) return `${at}.content is required (any JSON value)`;
  if (v.status !== undefined && !DOCUMENT_STATUSES.includes(v.status as DocumentStatus)) return `${at}.status must be one of ${DOCUMENT_STATUSES.join(', ')}`;
  let bytes: number;
  try {
    bytes = codec.encode(v.content).length;
  } catch {
    return `${at}.content cannot be encoded`;
  }
  if (bytes > LIMITS.maxPayloadBytes) return `${at}.content is over ${LIMITS.maxPayloadBytes} bytes`;
  return undefined;
}

/** `v` as a DocumentSave with only its known fields; throws `document_invalid` (not retryable) otherwise. */
export function toDocumentSave(v: unknown, at = 'document'): DocumentSave {
  const problem = problemOf(v, at);
  if (problem !== undefined) throw new ActorflowError(DocumentErrorCode.invalid, problem, { retryable: false });
  const d = v as Record<string, unknown>;
  return {
    ...(d.id === undefined ? {} : { id: d.id as string }),
    ...(d.scopeType === undefined ? {} : { scopeType: d.scopeType as string, scopeId: d.scopeId as string }),
    type: d.type as string,
    title: d.title as string,
    content: d.content,
    ...(d.status === undefined ? {} : { status: d.status as DocumentStatus }),
  };
}

/** The `documents` of a result from outside the process (NATS, HTTP push agents): absent is none; throws `document_invalid`. */
export function toDocumentSaves(v: unknown): DocumentSave[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ActorflowError(DocumentErrorCode.invalid, 'documents must be an array', { retryable: false });
  if (v.length > MAX_DOCUMENTS_PER_RESULT) throw new ActorflowError(DocumentErrorCode.invalid, `at most ${MAX_DOCUMENTS_PER_RESULT} documents per result`, { retryable: false });
  return v.map((d, i) => toDocumentSave(d, `documents[${i}]`));
}

/** `ctx.saveDocument(doc)`: checks `doc` and adds it to the attempt's `saved` (throws `document_invalid` to the handler). */
export function saveDocumentInto(saved: DocumentSave[], doc: unknown): void {
  if (saved.length >= MAX_DOCUMENTS_PER_RESULT) throw new ActorflowError(DocumentErrorCode.invalid, `at most ${MAX_DOCUMENTS_PER_RESULT} documents per result`, { retryable: false });
  saved.push(toDocumentSave(doc));
}
