/**
 * @module documents/document-service — the documents API's side of versioned documents: create, update
 * under optimistic locking (`if-match`), reads. Versions are numbered on the main thread in the same
 * turn as the check (DocumentStore.head/reserve), then written by the journal's committer, so two
 * updates from the same version cannot both pass, whatever flows write meanwhile.
 */
import type { Clock } from '../common/clock.ts';
import { ActorflowError, ErrorCode, NotFoundError } from '../common/errors.ts';
import type { Page } from '../common/execution.ts';
import type { PageRequest } from '../engine/types.ts';
import type { DocumentRow, DocumentStatus, DocumentStore, DocumentVersionRow, DocumentWrite, Store } from '../store/types.ts';
import { isDocumentId, newDocumentId } from '../common/document-save.ts';
import { firstVersion, nextVersion } from './document-writes.ts';

export interface NewDocument {
  readonly scopeType: string;
  readonly scopeId: string;
  readonly type: string;
  readonly title: string;
  readonly content: unknown;
  readonly status?: DocumentStatus | undefined;
}

export interface DocumentChange {
  readonly title?: string | undefined;
  /** Absent: the content of the version it builds on is kept. */
  readonly content?: unknown;
  readonly status?: DocumentStatus | undefined;
}

export interface DocumentFilter {
  readonly scopeType?: string | undefined;
  readonly scopeId?: string | undefined;
  readonly type?: string | undefined;
  readonly status?: DocumentStatus | undefined;
  readonly executionId?: string | undefined;
}

/** A document with the content of one of its versions. */
export type DocumentWithContent = DocumentRow & { readonly content: unknown };

/** Every call is tenant-scoped: another tenant's document is `document_not_found`. */
export interface Documents {
  /** Version 1 of a new document; resolves once durable. */
  create(tenant: string, doc: NewDocument): Promise<DocumentWithContent>;
  /** The version after `ifMatch`, which must be the latest one (else `version_mismatch`); resolves once durable. */
  update(tenant: string, id: string, ifMatch: number, change: DocumentChange): Promise<DocumentWithContent>;
  get(tenant: string, id: string): Promise<DocumentWithContent>;
  /** Throws `document_not_found` unless `tenant` has document `id` (written, or being written). */
  assertExists(tenant: string, id: string): void;
  list(tenant: string, filter: DocumentFilter, page: PageRequest): Promise<Page<DocumentRow>>;
  versions(tenant: string, id: string, page: PageRequest): Promise<Page<DocumentVersionRow>>;
  version(tenant: string, id: string, version: number): Promise<DocumentVersionRow & { readonly content: unknown }>;
}

export interface DocumentsOptions {
  readonly documents: DocumentStore;
  /** The journal: the versions are written by its committer, in their own transaction. */
  readonly store: Pick<Store, 'commit'>;
  readonly clock: Clock;
}

/** Reads of a version being written: the content of the version an update builds on, tried again this often when a newer one lands meanwhile. */
const UPDATE_READS = 3;

const notFound = (id: string): NotFoundError => new NotFoundError(ErrorCode.documentNotFound, `no document ${id}`);
const mismatch = (ifMatch: number, latest: number): ActorflowError =>
  new ActorflowError(ErrorCode.versionMismatch, `if-match is version ${ifMatch}, the latest version is ${latest}; read it and try again`);

/** A written version as reads show it (no read back: the committed row may already be a later version). */
function withContent(w: DocumentWrite): DocumentWithContent {
  const { at, content, ...row } = w;
  return { ...row, updatedAt: at, content };
}

export function createDocuments(o: DocumentsOptions): Documents {
  const { documents, store, clock } = o;

  const write = async (w: DocumentWrite): Promise<DocumentWithContent> => {
    documents.reserve(w);
    try {
      await store.commit({ events: [], executions: [], snapshots: [], documents: [w] });
    } catch (err) {
      throw new ActorflowError(ErrorCode.storeUnavailable, 'the document could not be written; nothing of it was kept', { cause: err, retryable: true });
    } finally {
      documents.release(w);
    }
    return withContent(w);
  };

  return {
    create(tenant, doc) {
      const at = clock.now();
      const head = { id: newDocumentId(at), tenant, scopeType: doc.scopeType, scopeId: doc.scopeId, type: doc.type };
      return write(firstVersion(head, { title: doc.title, status: doc.status ?? 'draft', content: doc.content }, { executionId: null, stepId: null, at }));
    },

    async update(tenant, id, ifMatch, change) {
      for (let reads = 1; ; reads++) {
        // The content kept comes from the version `if-match` names; with a new content nothing is read.
        const base = change.content === undefined ? await documents.get(tenant, id) : undefined;
        // From here to the reservation, no await: the check and the claim of the next version are one step.
        const head = documents.head(tenant, id);
        if (head === undefined) throw notFound(id);
        if (head.version !== ifMatch) throw mismatch(ifMatch, head.version);
        if (base !== undefined && base.version !== head.version) {
          // A version committed between the read and the check (if-match names it): read again.
          if (reads < UPDATE_READS) continue;
          throw mismatch(ifMatch, head.version);
        }
        const fields = { title: change.title ?? head.title, status: change.status ?? head.status, content: base === undefined ? change.content : base.content };
        return write(nextVersion(head, fields, { executionId: null, stepId: null, at: clock.now() }));
      }
    },

    async get(tenant, id) {
      const doc = isDocumentId(id) ? await documents.get(tenant, id) : undefined;
      if (doc === undefined) throw notFound(id);
      return doc;
    },

    assertExists(tenant, id) {
      if (documents.head(tenant, id) === undefined) throw notFound(id);
    },

    async list(tenant, filter, page) {
      const rows = await documents.list({ tenant, ...filter, beforeId: page.cursor, limit: page.limit + 1 });
      const items = rows.slice(0, page.limit);
      return { items, nextCursor: rows.length > page.limit ? (items[items.length - 1]?.id ?? null) : null };
    },

    async versions(tenant, id, page) {
      const after = page.cursor === undefined ? 0 : Number(page.cursor);
      const rows = await documents.listVersions(tenant, id, Number.isSafeInteger(after) && after > 0 ? after : 0, page.limit + 1);
      // An empty page of a document that exists is a page; of one that does not, a 404.
      if (rows.length === 0 && documents.head(tenant, id) === undefined) throw notFound(id);
      const items = rows.slice(0, page.limit);
      return { items, nextCursor: rows.length > page.limit ? String(items[items.length - 1]?.version) : null };
    },

    async version(tenant, id, version) {
      const v = await documents.getVersion(tenant, id, version);
      if (v === undefined) throw documents.head(tenant, id) === undefined ? notFound(id) : new NotFoundError(ErrorCode.documentNotFound, `document ${id} has no version ${version}`);
      return v;
    },
  };
}
