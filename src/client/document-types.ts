/** @module client/document-types — request and answer shapes of the `/documents` routes (docs/api/documents.md). */
import type { ListOptions } from './types.ts';

export type DocumentStatus = 'draft' | 'final' | 'archived';

/** A document as lists show it: its latest version, without content. */
export interface DocumentSummaryView {
  readonly id: string;
  readonly scopeType: string;
  readonly scopeId: string;
  readonly type: string;
  readonly title: string;
  readonly status: DocumentStatus;
  /** The latest version; what `update` names as `ifMatch`. */
  readonly version: number;
  /** The execution and step that wrote the latest version; null when written through the API. */
  readonly executionId: string | null;
  readonly stepId: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** A document with the content of its latest version. */
export interface DocumentView extends DocumentSummaryView {
  readonly content: unknown;
}

/** One version, without content (lists). */
export interface DocumentVersionSummaryView {
  readonly version: number;
  readonly title: string;
  readonly status: DocumentStatus;
  readonly createdAt: string;
  readonly executionId: string | null;
  readonly stepId: string | null;
}

export interface DocumentVersionView extends DocumentVersionSummaryView {
  readonly content: unknown;
}

export interface CreateDocumentRequest {
  readonly scopeType: string;
  readonly scopeId: string;
  readonly type: string;
  readonly title: string;
  /** Any JSON value (text as a string). */
  readonly content: unknown;
  /** @default 'draft' */
  readonly status?: DocumentStatus;
}

/** At least one field; absent ones keep their value. */
export interface UpdateDocumentRequest {
  readonly title?: string;
  readonly content?: unknown;
  readonly status?: DocumentStatus;
}

export interface ListDocumentsOptions extends ListOptions {
  readonly scopeType?: string;
  readonly scopeId?: string;
  readonly type?: string;
  readonly status?: DocumentStatus;
  /** The documents this execution wrote a version of. */
  readonly executionId?: string;
}
