/**
 * @module templates/template-service — workflow templates over the engine (docs/api/templates.md):
 * versions, views, the Mermaid diagram, instantiation into a registered definition, and the one-off
 * document a start with `{ template, params }` runs.
 */
import { ErrorCode, NotFoundError, ValidationError } from '../common/errors.ts';
import type { DefinitionView, Page } from '../common/execution.ts';
import type { FlowDocument } from '../common/flow.ts';
import type { TemplateRef, TemplateSummary, TemplateView } from '../common/template.ts';
import { iso } from '../common/clock.ts';
import { flowToMermaid } from '../engine/definitions/diagram.ts';
import type { Engine, PageRequest } from '../engine/types.ts';
import type { SharedWrites } from '../common/shared-writes.ts';
import type { TemplateRow, TemplateStore } from '../store/types.ts';
import { substitute } from './placeholders.ts';
import { type ResolvedTemplate, TemplateRegistry } from './template-registry.ts';

export interface InstantiateRequest {
  /** Name of the definition to register (a new version of it). */
  readonly name: string;
  readonly params?: Readonly<Record<string, unknown>> | undefined;
  /** Template version; default the latest. */
  readonly version?: number | undefined;
}

export interface TemplateStartRequest {
  readonly template: string;
  readonly templateVersion?: number | undefined;
  readonly params?: Readonly<Record<string, unknown>> | undefined;
}

/** Tenant-scoped: another tenant's template is `template_not_found`. */
export interface Templates {
  /** Loads the stored templates (once, at boot). */
  load(): Promise<void>;
  /** A new version, or (`created: false`) the identical existing one; `unlessLatest` as TemplateRegistry.create. @throws template_invalid, version_exists, version_conflict */
  create(tenant: string, body: Readonly<Record<string, unknown>>, opts?: { unlessLatest?: boolean }): Promise<{ template: TemplateView; created: boolean }>;
  list(tenant: string, prefix: string | undefined, page: PageRequest): Page<TemplateSummary>;
  get(tenant: string, name: string, version?: number): TemplateView;
  /** Its live versions, oldest first (deleted ones left out). */
  versions(tenant: string, name: string, page: PageRequest): Page<TemplateSummary>;
  /** Every live version, or one; definitions made from it and executions started from it are unaffected. */
  delete(tenant: string, name: string, version?: number): Promise<void>;
  /** Mermaid `stateDiagram-v2` of the resolved document with the defaults in. */
  diagram(tenant: string, name: string, version?: number): string;
  /** Registers the template, with `params` (defaults filled in), as a new version of definition `req.name`. @throws validation_failed with paths under `/params` */
  instantiate(tenant: string, template: string, req: InstantiateRequest): Promise<DefinitionView>;
  /**
   * The one-off flow document a start of `{ template, params }` runs, and the template version it is.
   * @throws ValidationError template_not_found (paths `/template`, `/templateVersion`), validation_failed (`/params`)
   */
  forStart(tenant: string, req: TemplateStartRequest): { definition: FlowDocument; template: TemplateRef };
}

export interface TemplatesOptions {
  readonly engine: Engine;
  readonly store: TemplateStore;
  /** @default Date.now */
  readonly now?: () => number;
  /** Where writes of templates are applied (cluster mode: on every node). @default localWrites */
  readonly writes?: SharedWrites;
}

function summaryOf(r: ResolvedTemplate): TemplateSummary {
  const description = r.document['description'];
  return {
    name: r.row.name,
    version: r.row.version,
    description: typeof description === 'string' ? description : null,
    extends: r.row.parent ? `${r.row.parent.name}@${r.row.parent.version}` : null,
    parameters: r.parameters,
    createdAt: iso(r.row.createdAt) as string,
  };
}

const viewOf = (r: ResolvedTemplate): TemplateView => ({ ...summaryOf(r), document: r.document });

export function createTemplates({ engine, store, now = Date.now, writes }: TemplatesOptions): Templates {
  const registry = new TemplateRegistry(store, (tenant, doc) => engine.validateDefinition(tenant, doc), now, writes);
  const resolve = (row: TemplateRow) => registry.resolve(row);

  /** The flow `r` makes with `params`, named `name`. */
  const instance = (tenant: string, r: ResolvedTemplate, params: Readonly<Record<string, unknown>> | undefined, name: string) => {
    const checked = r.params.check(params ?? {});
    if (!checked.ok) throw new ValidationError(`the params do not match the parameters of template ${r.row.name}`, checked.issues);
    const doc = { ...(substitute(r.document, checked.values, false).value as Record<string, unknown>), name };
    const issues = engine.validateDefinition(tenant, doc);
    if (issues.length > 0) {
      throw new ValidationError(
        `with these params template ${r.row.name} makes an invalid flow`,
        issues.map((i) => ({ path: '/params', message: `make the flow invalid at ${i.path || '/'}: ${i.message}` })),
      );
    }
    return { doc: doc as unknown as FlowDocument, values: checked.values };
  };

  return {
    load: () => registry.load(),
    async create(tenant, body, opts) {
      const { row, created } = await registry.create(tenant, body, opts);
      return { template: viewOf(resolve(row)), created };
    },
    list(tenant, prefix, page) {
      const p = registry.list(tenant, prefix, page);
      return { items: p.items.map((row) => summaryOf(resolve(row))), nextCursor: p.nextCursor };
    },
    get: (tenant, name, version) => viewOf(resolve(registry.live(tenant, name, version))),
    versions(tenant, name, page) {
      const p = registry.versions(tenant, name, page);
      return { items: p.items.map((row) => summaryOf(resolve(row))), nextCursor: p.nextCursor };
    },
    delete: (tenant, name, version) => registry.delete(tenant, name, version),
    diagram(tenant, name, version) {
      const r = resolve(registry.live(tenant, name, version));
      return flowToMermaid(substitute(r.document, r.params.defaults, true).value as FlowDocument);
    },
    async instantiate(tenant, template, req) {
      const r = resolve(registry.live(tenant, template, req.version));
      const { doc, values } = instance(tenant, r, req.params, req.name);
      return (await engine.registerDefinition(tenant, doc, { name: r.row.name, version: r.row.version, params: values })).definition;
    },
    forStart(tenant, req) {
      let row: TemplateRow;
      try {
        row = registry.live(tenant, req.template, req.templateVersion);
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
        const path = req.templateVersion !== undefined && registry.has(tenant, req.template) ? '/templateVersion' : '/template';
        throw new ValidationError(err.message, [{ path, message: path === '/template' ? 'unknown template' : 'unknown version' }], ErrorCode.templateNotFound);
      }
      const { doc } = instance(tenant, resolve(row), req.params, row.name);
      return { definition: doc, template: { name: row.name, version: row.version } };
    },
  };
}
