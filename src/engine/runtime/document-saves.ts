/**
 * @module engine/runtime/document-saves — the documents a step result saves. Numbered and reserved when the
 * result is applied, announced by `document.saved` events placed before the step's completion, and
 * written in the same journal commit as those events: a crash keeps both or neither.
 */
import { ActorflowError, ErrorCode, type StepError, toStepError } from '../../common/errors.ts';
import { type DocumentSave, newDocumentId } from '../../common/document-save.ts';
import { firstVersion, nextVersion } from '../../documents/document-writes.ts';
import type { DocumentStore, DocumentWrite } from '../../store/types.ts';
import type { LiveExecution } from './live-execution.ts';
import type { Supervisor } from './supervisor.ts';

/** Step error of a result whose documents this engine cannot keep (it was made without a document store). */
export const DOCUMENTS_UNAVAILABLE = 'documents_unavailable';

/**
 * The writes of `saves`, their versions reserved; or the error that fails the attempt (an `id` that is
 * no document of the execution's tenant), with nothing reserved. A new document's scope: the save's,
 * else the execution's `scope`, else `execution`/<execution id>.
 */
export function planSaves(store: DocumentStore, rec: Pick<LiveExecution, 'id' | 'tenant' | 'scope'>, stepId: string, saves: readonly DocumentSave[], at: number): DocumentWrite[] | StepError {
  const writes: DocumentWrite[] = [];
  const origin = { executionId: rec.id, stepId, at };
  try {
    for (const s of saves) {
      let w: DocumentWrite;
      if (s.id === undefined) {
        const scope = s.scopeType !== undefined && s.scopeId !== undefined ? { type: s.scopeType, id: s.scopeId } : (rec.scope ?? { type: 'execution', id: rec.id });
        const head = { id: newDocumentId(at), tenant: rec.tenant, scopeType: scope.type, scopeId: scope.id, type: s.type };
        w = firstVersion(head, { title: s.title, status: s.status ?? 'draft', content: s.content }, origin);
      } else {
        const head = store.head(rec.tenant, s.id);
        if (head === undefined) throw new ActorflowError(ErrorCode.documentNotFound, `no document ${s.id}`, { retryable: false });
        w = nextVersion(head, { title: s.title, status: s.status ?? head.status, content: s.content }, origin);
      }
      store.reserve(w);
      writes.push(w);
    }
  } catch (err) {
    for (const w of writes) store.release(w);
    // Not found: the same result fails again, so not retried; a read that failed may pass next time.
    return toStepError(err);
  }
  return writes;
}

/** The `document.saved` event's data: which version of which document (its content is read from the documents API). */
export function savedEventData(w: DocumentWrite): Record<string, unknown> {
  return { documentId: w.id, version: w.version, scopeType: w.scopeType, scopeId: w.scopeId, type: w.type, title: w.title, status: w.status };
}

/**
 * Saves the documents of an accepted result of step `stepId`: one `document.saved` event each, and its
 * version queued to commit with that event (a direct execution keeps them until it ends). Returns the
 * error that should fail the attempt instead, when they cannot be saved.
 */
export function saveStepDocuments(sup: Supervisor, store: DocumentStore | undefined, rec: LiveExecution, stepId: string, saves: readonly DocumentSave[], at: number): StepError | undefined {
  if (store === undefined) return { code: DOCUMENTS_UNAVAILABLE, message: 'this engine keeps no documents', retryable: false };
  const writes = planSaves(store, rec, stepId, saves, at);
  if (!Array.isArray(writes)) return writes;
  for (const w of writes) {
    sup.record(rec, 'document.saved', stepId, savedEventData(w), at);
    if (rec.direct) rec.documents.push(w);
    else sup.queue.appendDocument(rec.id, rec.lastSeq, w);
  }
  return undefined;
}
