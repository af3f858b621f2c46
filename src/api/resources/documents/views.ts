/** @module api/resources/documents/views — a document, and one of its versions, as the API shows them. */
import { iso } from '../../../common/clock.ts';
import type { DocumentRow, DocumentVersionRow } from '../../../store/types.ts';

/** A document's latest version (`content` only where the route shows it). */
export function toDocumentView(d: DocumentRow & { readonly content?: unknown }) {
  return {
    id: d.id,
    scopeType: d.scopeType,
    scopeId: d.scopeId,
    type: d.type,
    title: d.title,
    status: d.status,
    version: d.version,
    ...('content' in d ? { content: d.content ?? null } : {}),
    executionId: d.executionId,
    stepId: d.stepId,
    createdAt: iso(d.createdAt),
    updatedAt: iso(d.updatedAt),
  };
}

/** One version (`content` only where the route shows it). */
export function toVersionView(v: DocumentVersionRow & { readonly content?: unknown }) {
  return {
    version: v.version,
    title: v.title,
    status: v.status,
    ...('content' in v ? { content: v.content ?? null } : {}),
    createdAt: iso(v.createdAt),
    executionId: v.executionId,
    stepId: v.stepId,
  };
}

/** The entity tag of a version (`etag`, and what `if-match` names): the version number, quoted. */
export const etagOf = (version: number): string => `"${version}"`;
