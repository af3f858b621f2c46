/** @module api/resources/documents/routes — the route table of versioned documents: create, list, read, update under `if-match`, versions. */
import { Type } from '@sinclair/typebox';
import { ErrorCode } from '../../../common/errors.ts';
import { DOCUMENT_STATUSES, MAX_DOCUMENT_NAME, MAX_DOCUMENT_TITLE, MAX_DOCUMENTS_PER_RESULT } from '../../../common/document-save.ts';
import type { RouteSpec } from '../../routing/route-spec.ts';
import { PAGE, executionId, inOrder, shape, stringEnum, ulidId } from '../../routing/schemas.ts';

const { Optional } = Type;

export const documentId = ulidId('doc', 'Document id');
const name = (description: string) => inOrder(Type.String({ minLength: 1, maxLength: MAX_DOCUMENT_NAME, description }));
export const scopeType = name('Kind of thing the document belongs to, e.g. `project`.');
export const scopeId = name('Which one, e.g. `p-1`.');
export const documentType = name('What the document is, e.g. `spec`, `report`.');
export const documentTitle = inOrder(Type.String({ minLength: 1, maxLength: MAX_DOCUMENT_TITLE }));
export const documentStatus = stringEnum(DOCUMENT_STATUSES, { description: '`draft` (default), `final` or `archived`.' });
const content = Type.Unknown({ description: 'Any JSON value (text as a string).' });

/**
 * A document saved with a step result (HTTP push agents' answers and posted results, as `ctx.saveDocument`):
 * without `id` a new document, with `id` a new version of it.
 */
export const documentSave = shape({
  id: Optional(documentId),
  scopeType: Optional(scopeType),
  scopeId: Optional(scopeId),
  type: documentType,
  title: documentTitle,
  content,
  status: Optional(documentStatus),
});
export const documentSaves = Type.Array(documentSave, {
  maxItems: MAX_DOCUMENTS_PER_RESULT,
  description: 'Documents saved with the output, journaled with it (`document.saved` events): without `id` a new document (scope: its own, else the execution\'s), with `id` a new version.',
});

const idParams = shape({ id: documentId });
/** Path parameters are text: a version number as digits (no leading zero). */
const versionNumber = inOrder(Type.String({ pattern: '^[1-9][0-9]{0,14}$', description: 'Version number (1, 2, 3 …).' }));
const versionParams = shape({ id: documentId, version: versionNumber });
const ID_404 = { id: ErrorCode.documentNotFound, version: ErrorCode.documentNotFound } as const;

export const DOCUMENT_ROUTES = [
  {
    id: 'createDocument',
    method: 'post',
    path: '/documents',
    summary: 'Create a document: version 1 of `{ scopeType, scopeId, type, title, content, status? }`.',
    tag: 'documents',
    body: { schema: shape({ scopeType, scopeId, type: documentType, title: documentTitle, content, status: Optional(documentStatus) }) },
    status: 201,
  },
  {
    id: 'listDocuments',
    method: 'get',
    path: '/documents',
    summary:
      'Documents, newest first (by creation), without `content`; filters `scopeType`, `scopeId`, `type`, `status`, and `executionId` (the documents an execution wrote a version of).',
    tag: 'documents',
    query: shape({ scopeType: Optional(scopeType), scopeId: Optional(scopeId), type: Optional(documentType), status: Optional(documentStatus), executionId: Optional(executionId), ...PAGE }),
    status: 200,
  },
  {
    id: 'getDocument',
    method: 'get',
    path: '/documents/{id}',
    summary: 'A document: its latest version with `content`; `etag` is the version (quoted), what `if-match` of an update names.',
    tag: 'documents',
    params: idParams,
    paramNotFound: ID_404,
    status: 200,
  },
  {
    id: 'updateDocument',
    method: 'put',
    path: '/documents/{id}',
    summary:
      'Write the next version: `{ title?, content?, status? }` (absent fields keep their value) with `if-match: <version>`, the latest one. ' +
      'A stale version is 412 `version_mismatch`, no `if-match` 428 `if_match_required`: of two updates from the same version exactly one passes.',
    tag: 'documents',
    params: idParams,
    paramNotFound: ID_404,
    headers: ['if-match'],
    body: { schema: shape({ title: Optional(documentTitle), content: Optional(content), status: Optional(documentStatus) }, { minProperties: 1 }) },
    errorStatus: { [ErrorCode.versionMismatch]: 412, [ErrorCode.ifMatchRequired]: 428 },
    status: 200,
  },
  {
    id: 'listDocumentVersions',
    method: 'get',
    path: '/documents/{id}/versions',
    summary: 'Every version of a document, oldest first, without `content`: `{ version, title, status, createdAt, executionId, stepId }`.',
    tag: 'documents',
    params: idParams,
    paramNotFound: ID_404,
    query: shape(PAGE),
    status: 200,
  },
  {
    id: 'getDocumentVersion',
    method: 'get',
    path: '/documents/{id}/versions/{version}',
    summary: 'One version of a document, with its `content`.',
    tag: 'documents',
    params: versionParams,
    paramNotFound: ID_404,
    status: 200,
  },
] as const satisfies readonly RouteSpec[];
