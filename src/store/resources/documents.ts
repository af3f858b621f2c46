/** @module store/resources/documents — the rows and the store interface of versioned documents (re-exported by store/types.ts). */
import type { DocumentStatus } from '../../common/document-save.ts';

export type { DocumentStatus };

/** What every version of a document shares, and what its latest version says (times as epoch ms). */
export interface DocumentHead {
  readonly id: string;
  readonly tenant: string;
  readonly scopeType: string;
  readonly scopeId: string;
  readonly type: string;
  readonly title: string;
  readonly status: DocumentStatus;
  /** Its latest version (1, 2, 3 … no gap). */
  readonly version: number;
  /** When version 1 was written. */
  readonly createdAt: number;
}

/** One version to write; version 1 creates the document. `executionId`/`stepId`: the step that saved it, null for the API. */
export interface DocumentWrite extends DocumentHead {
  readonly content: unknown;
  readonly executionId: string | null;
  readonly stepId: string | null;
  readonly at: number;
}

/** A document as stored: its head (latest version), who wrote that version and when. */
export interface DocumentRow extends DocumentHead {
  readonly executionId: string | null;
  readonly stepId: string | null;
  readonly updatedAt: number;
}

/** One version of a document; `content` only where a read asks for it. */
export interface DocumentVersionRow {
  readonly version: number;
  readonly title: string;
  readonly status: DocumentStatus;
  readonly executionId: string | null;
  readonly stepId: string | null;
  readonly createdAt: number;
}

export interface DocumentQuery {
  readonly tenant: string;
  readonly scopeType?: string | undefined;
  readonly scopeId?: string | undefined;
  readonly type?: string | undefined;
  readonly status?: DocumentStatus | undefined;
  /** Documents of which this execution wrote a version. */
  readonly executionId?: string | undefined;
  /** Ids strictly below this one (newest first). */
  readonly beforeId?: string | undefined;
  readonly limit: number;
}

/**
 * Versioned documents. Versions are numbered on the main thread, synchronously: `head` is the latest
 * version as writes see it (a reserved, not yet committed one included), `reserve` claims the next one
 * until `release`. The rows are written in journal commits (`CommitBatch.documents`), by the same
 * committer as the events, so a version and the event that announces it commit or roll back together.
 */
export interface DocumentStore {
  /** The latest version of `tenant`'s document `id`, reserved ones included; undefined when there is none (or it is another tenant's). */
  head(tenant: string, id: string): DocumentHead | undefined;
  /** Marks `w.version` taken (a commit of `w` is on its way). Call `release(w)` once that commit settled or `w` was dropped. */
  reserve(w: DocumentWrite): void;
  release(w: DocumentWrite): void;
  /** The latest version with its content. */
  get(tenant: string, id: string): Promise<(DocumentRow & { readonly content: unknown }) | undefined>;
  /** One version with its content. */
  getVersion(tenant: string, id: string, version: number): Promise<(DocumentVersionRow & { readonly content: unknown }) | undefined>;
  /** Versions after `afterVersion`, in version order, at most `limit`. */
  listVersions(tenant: string, id: string, afterVersion: number, limit: number): Promise<DocumentVersionRow[]>;
  /** Newest first (by id), without content. */
  list(q: DocumentQuery): Promise<DocumentRow[]>;
}
