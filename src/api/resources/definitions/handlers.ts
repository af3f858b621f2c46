/** @module api/resources/definitions/handlers — handlers of the /workflow-definitions routes. */
import type { Engine } from '../../../engine/types.ts';
import { ErrorCode, ValidationError } from '../../../common/errors.ts';
import { MEDIA_MERMAID } from '../../http/media.ts';
import { empty, json, text } from '../../http/reply.ts';
import type { HandlersOf } from '../../routing/route-spec.ts';
import { pageOf } from '../paging.ts';
import type { DEFINITION_ROUTES } from './routes.ts';

export interface DefinitionsDeps {
  readonly engine: Engine;
}

/** Handlers of the definition routes, keyed by route id. */
export function definitionsHandlers({ engine }: DefinitionsDeps) {
  return {
    listDefinitions: {
      handle: async ({ ctx, query }) => json(200, await engine.listDefinitions(ctx.tenant, query.name, pageOf(query))),
    },
    createDefinition: {
      handle: async ({ ctx, body }) => {
        const result = await engine.registerDefinition(ctx.tenant, body);
        return json(result.created ? 201 : 200, result.definition);
      },
    },
    validateDefinition: {
      handle: ({ ctx, body }) => {
        const issues = engine.validateDefinition(ctx.tenant, body);
        if (issues.length > 0) throw new ValidationError('The flow document is invalid; see `errors`.', issues, ErrorCode.invalidDefinition);
        return json(200, { valid: true });
      },
    },
    getDefinition: {
      handle: async ({ ctx, params, query }) =>
        json(200, await engine.getDefinition(ctx.tenant, params.name, query.version)),
    },
    listDefinitionVersions: {
      handle: async ({ ctx, params, query }) => json(200, await engine.listDefinitionVersions(ctx.tenant, params.name, pageOf(query))),
    },
    retireDefinition: {
      handle: async ({ ctx, params }) => {
        await engine.retireDefinition(ctx.tenant, params.name);
        return empty(204);
      },
    },
    stepSchema: {
      handle: async ({ ctx, params, query }) => json(200, await engine.stepSchemas(ctx.tenant, params.name, params.stepId, query.version)),
    },
    definitionDiagram: {
      handle: async ({ ctx, params, query }) => {
        const mermaid = await engine.definitionDiagram(ctx.tenant, params.name, query.version);
        return query.format === 'json' ? json(200, { mermaid }) : text(200, mermaid, MEDIA_MERMAID);
      },
    },
  } satisfies HandlersOf<typeof DEFINITION_ROUTES>;
}
