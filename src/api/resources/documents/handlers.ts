/** @module api/resources/documents/handlers — POST/GET /documents, GET/PUT /documents/{id} and its versions (tenant-scoped). */
import { ActorflowError, ErrorCode } from '../../../common/errors.ts';
import type { Documents } from '../../../documents/document-service.ts';
import { json } from '../../http/reply.ts';
import type { HandlersOf } from '../../routing/route-spec.ts';
import { pageOf, viewPage } from '../paging.ts';
import type { DOCUMENT_ROUTES } from './routes.ts';
import { etagOf, toDocumentView, toVersionView } from './views.ts';

/** `if-match: 3` or `if-match: "3"` (the `etag` of a read); absent is 428, anything else can name no version (412). */
function ifMatchOf(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') {
    throw new ActorflowError(ErrorCode.ifMatchRequired, 'updating a document needs `if-match: <version>`, its latest version (the `etag` of GET /documents/{id})');
  }
  const m = /^\s*"?(\d{1,15})"?\s*$/.exec(raw);
  if (m === null) throw new ActorflowError(ErrorCode.versionMismatch, `if-match ${JSON.stringify(raw)} names no version of this document`);
  return Number(m[1]);
}

/** Handlers of the document routes, keyed by route id. */
export function documentsHandlers(documents: Documents) {
  return {
    createDocument: {
      handle: async ({ ctx, body }) => {
        const doc = await documents.create(ctx.tenant, body);
        return json(201, toDocumentView(doc), { etag: etagOf(doc.version) });
      },
    },
    listDocuments: {
      handle: async ({ ctx, query }) => {
        const { scopeType, scopeId, type, status, executionId } = query;
        return json(200, viewPage(await documents.list(ctx.tenant, { scopeType, scopeId, type, status, executionId }, pageOf(query)), toDocumentView));
      },
    },
    getDocument: {
      handle: async ({ ctx, params }) => {
        const doc = await documents.get(ctx.tenant, params.id);
        return json(200, toDocumentView(doc), { etag: etagOf(doc.version) });
      },
    },
    updateDocument: {
      handle: async ({ ctx, params, headers, body }) => {
        // The document first: another tenant's (or no) document is a 404 whatever if-match says.
        documents.assertExists(ctx.tenant, params.id);
        const doc = await documents.update(ctx.tenant, params.id, ifMatchOf(headers['if-match']), body);
        return json(200, toDocumentView(doc), { etag: etagOf(doc.version) });
      },
    },
    listDocumentVersions: {
      handle: async ({ ctx, params, query }) => json(200, viewPage(await documents.versions(ctx.tenant, params.id, pageOf(query)), toVersionView)),
    },
    getDocumentVersion: {
      handle: async ({ ctx, params }) => json(200, toVersionView(await documents.version(ctx.tenant, params.id, Number(params.version)))),
    },
  } satisfies HandlersOf<typeof DOCUMENT_ROUTES>;
}
