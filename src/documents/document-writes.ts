/**
 * @module documents/document-writes — the version rows a save, a create or an update writes: version 1
 * of a new document, or the version after a document's head (its id, tenant, scope and type kept).
 */
import type { DocumentHead, DocumentStatus, DocumentWrite } from '../store/types.ts';

/** Who wrote a version: the step of an execution, or nobody (the documents API). */
export interface WriteOrigin {
  readonly executionId: string | null;
  readonly stepId: string | null;
  readonly at: number;
}

/** What a version says. */
export interface VersionFields {
  readonly title: string;
  readonly status: DocumentStatus;
  readonly content: unknown;
}

/** Version 1 of a new document. */
export function firstVersion(head: Omit<DocumentHead, 'version' | 'title' | 'status' | 'createdAt'>, fields: VersionFields, origin: WriteOrigin): DocumentWrite {
  return { ...head, ...fields, version: 1, createdAt: origin.at, ...origin };
}

/** The version after `head`. */
export function nextVersion(head: DocumentHead, fields: VersionFields, origin: WriteOrigin): DocumentWrite {
  const { id, tenant, scopeType, scopeId, type, createdAt } = head;
  return { id, tenant, scopeType, scopeId, type, createdAt, ...fields, version: head.version + 1, ...origin };
}
