/** @module api/resources/agent-tasks/handlers — results and heartbeats of HTTP push agents, authorized by the task token. */
import { iso } from '../../../common/clock.ts';
import { ActorflowError, ErrorCode, type Issue, NotFoundError } from '../../../common/errors.ts';
import { isRecord } from '../../../common/json.ts';
import type { HttpAgents } from '../../../http-agents/types.ts';
import { empty, json } from '../../http/reply.ts';
import type { HandlersOf } from '../../routing/route-spec.ts';
import { type AGENT_TASK_ROUTES, TASK_TOKEN_HEADER } from './routes.ts';

const stale = (taskId: string): NotFoundError =>
  new NotFoundError(ErrorCode.agentTaskNotFound, `No task ${JSON.stringify(taskId)} waits for this token: the attempt has its outcome, ended, or the server restarted (it then sends the task again).`);

/** Exactly one of `output` and `error` (JSON Schema says it badly). */
function oneOutcome(body: unknown): Issue[] {
  if (!isRecord(body) || ('output' in body) !== ('error' in body)) return [];
  return [{ path: '', message: 'exactly one of `output` and `error` is required' }];
}

/** Handlers of the agent-task routes, keyed by route id. */
export function agentTasksHandlers(httpAgents: HttpAgents) {
  return {
    postAgentTaskResult: {
      refine: oneOutcome,
      handle: async ({ params, headers, body }) => {
        const durable = httpAgents.complete(params.taskId, headers[TASK_TOKEN_HEADER] ?? '', body);
        if (durable === undefined) throw stale(params.taskId);
        if (!(await durable)) {
          throw new ActorflowError(ErrorCode.storeUnavailable, 'The result was not recorded: the attempt ended meanwhile, or the journal could not commit it. If the attempt still runs, its task is sent again.', {
            retryable: true,
          });
        }
        return empty(202);
      },
    },
    heartbeatAgentTask: {
      handle: ({ params, headers }) => {
        const deadline = httpAgents.heartbeat(params.taskId, headers[TASK_TOKEN_HEADER] ?? '');
        if (deadline === undefined) throw stale(params.taskId);
        return json(202, { deadline: iso(deadline) });
      },
    },
  } satisfies HandlersOf<typeof AGENT_TASK_ROUTES>;
}
