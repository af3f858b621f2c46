/** @module api/resources/task-definitions/routes — the route table of task definitions: the kinds agents offer, with their schemas. */
import { Type } from '@sinclair/typebox';
import { ErrorCode } from '../../../common/errors.ts';
import type { RouteSpec } from '../../routing/route-spec.ts';
import { PAGE, shape } from '../../routing/schemas.ts';

/** Kinds are 1-200 characters (in-process agents' limit); a longer one cannot be served (404). */
const kind = Type.String({ minLength: 1, maxLength: 200, description: 'An agent kind, as a flow\'s `task` step names it in `agent`.' });

export const TASK_DEFINITION_ROUTES = [
  {
    id: 'listTaskDefinitions',
    method: 'get',
    path: '/task-definitions',
    summary:
      'Every kind an agent serves now (built-in, in-process, over NATS, HTTP push), by kind: `agents: { online, busy }` and what its agents declare, ' +
      '`inputSchema`, `outputSchema`, `description` (null when nothing). A step whose input fails the `inputSchema` fails with `input_invalid` before it is sent.',
    tag: 'agents',
    query: shape(PAGE),
    status: 200,
  },
  {
    id: 'getTaskDefinition',
    method: 'get',
    path: '/task-definitions/{kind}',
    summary: 'One kind served now; 404 `task_definition_not_found` when no agent serves it.',
    tag: 'agents',
    params: shape({ kind }),
    paramNotFound: { kind: ErrorCode.taskDefinitionNotFound },
    status: 200,
  },
] as const satisfies readonly RouteSpec[];
