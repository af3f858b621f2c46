/** @module api/resources/templates/handlers — handlers of the /workflow-templates routes. */
import type { Templates } from '../../../templates/template-service.ts';
import { MEDIA_MERMAID } from '../../http/media.ts';
import { empty, json, text } from '../../http/reply.ts';
import type { HandlersOf } from '../../routing/route-spec.ts';
import { pageOf } from '../paging.ts';
import type { TEMPLATE_ROUTES } from './routes.ts';

export interface TemplatesDeps {
  readonly templates: Templates;
}

/** Handlers of the template routes, keyed by route id. */
export function templatesHandlers({ templates }: TemplatesDeps) {
  return {
    listTemplates: {
      handle: ({ ctx, query }) => json(200, templates.list(ctx.tenant, query.name, pageOf(query))),
    },
    createTemplate: {
      handle: async ({ ctx, body }) => {
        const result = await templates.create(ctx.tenant, body);
        return json(result.created ? 201 : 200, result.template);
      },
    },
    getTemplate: {
      handle: ({ ctx, params, query }) => json(200, templates.get(ctx.tenant, params.name, query.version)),
    },
    listTemplateVersions: {
      handle: ({ ctx, params, query }) => json(200, templates.versions(ctx.tenant, params.name, pageOf(query))),
    },
    deleteTemplate: {
      handle: async ({ ctx, params, query }) => {
        await templates.delete(ctx.tenant, params.name, query.version);
        return empty(204);
      },
    },
    templateDiagram: {
      handle: ({ ctx, params, query }) => {
        const mermaid = templates.diagram(ctx.tenant, params.name, query.version);
        return query.format === 'json' ? json(200, { mermaid }) : text(200, mermaid, MEDIA_MERMAID);
      },
    },
    instantiateTemplate: {
      handle: async ({ ctx, params, query, body }) =>
        json(201, await templates.instantiate(ctx.tenant, params.name, { name: body.name ?? params.name, params: body.params, version: query.version })),
    },
  } satisfies HandlersOf<typeof TEMPLATE_ROUTES>;
}
