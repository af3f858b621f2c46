/** @module store/resources/templates — the rows and the store interface of workflow templates (re-exported by store/types.ts). */
import type { TemplateRef } from '../../common/template.ts';

/** One template version as stored: the document as posted (without `version`), its parent pinned at creation. */
export interface TemplateRow {
  tenant: string;
  name: string;
  version: number;
  document: Record<string, unknown>;
  /** The parent version its `extends` named when it was created; null without `extends`. */
  parent: TemplateRef | null;
  createdAt: number;
  /** Set by a delete: hidden from the API, kept so that versions are never reused and children still resolve. */
  deletedAt: number | null;
}

/** Workflow templates (the template service keeps them in memory). */
export interface TemplateStore {
  /** Every version of every tenant, deleted ones included. */
  listAllTemplates(): Promise<TemplateRow[]>;
  insertTemplate(row: TemplateRow): Promise<void>;
  /** Marks versions deleted: one, or every live one when `version` is undefined. */
  markTemplateDeleted(tenant: string, name: string, version: number | undefined, at: number): Promise<void>;
}
