/** @module api/resources/task-definitions/handlers — GET /task-definitions and /task-definitions/{kind}: the kinds of the agents on the bus. */
import { taskDefinitions } from '../../../agents/task-definitions.ts';
import { ErrorCode, NotFoundError } from '../../../common/errors.ts';
import type { Engine } from '../../../engine/types.ts';
import { json } from '../../http/reply.ts';
import type { HandlersOf } from '../../routing/route-spec.ts';
import { pageById, pageOf } from '../paging.ts';
import type { TASK_DEFINITION_ROUTES } from './routes.ts';

export interface TaskDefinitionsDeps {
  readonly engine: Engine;
}

/** Handlers of the task definition routes, keyed by route id. Kinds are shared by every tenant, as the agents are. */
export function taskDefinitionsHandlers({ engine }: TaskDefinitionsDeps) {
  const all = () => taskDefinitions(engine.agents(), (kind) => engine.taskDefinition(kind));
  return {
    listTaskDefinitions: {
      handle: ({ query }) => json(200, pageById(all().map((d) => ({ id: d.kind, d })), pageOf(query), (x) => x.d)),
    },
    getTaskDefinition: {
      handle: ({ params }) => {
        const found = all().find((d) => d.kind === params.kind);
        if (found === undefined) throw new NotFoundError(ErrorCode.taskDefinitionNotFound, `No agent serves kind ${JSON.stringify(params.kind)}.`);
        return json(200, found);
      },
    },
  } satisfies HandlersOf<typeof TASK_DEFINITION_ROUTES>;
}
