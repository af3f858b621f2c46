/** @module graphql/resolvers — field resolvers: each calls only the Engine interface, with the request's tenant. */
import { agentDetail } from '../agents/agent-view.ts';
import type { ExecutionFilter, PageRequest } from '../engine/types.ts';
import { ActorflowError, ErrorCode, type Issue, NotFoundError, ValidationError } from '../common/errors.ts';
import { pointerToken } from '../common/json.ts';
import { ExecutionStatus, type DefinitionView, type ExecutionView, type LogView, type StepView } from '../common/execution.ts';
import { DEFAULT_PAGE_LIMIT, type GraphqlContext, MAX_CURSOR_LENGTH, MAX_PAGE_LIMIT } from './types.ts';

type Args = Readonly<Record<string, unknown>>;

/** A field resolver as graphql-js calls it (source, arguments, context). */
export type FieldResolver = (source: unknown, args: Args, ctx: GraphqlContext) => unknown;

/** Resolvers by type name, then field name; fields not listed read the property of the same name. */
export type ResolverMap = Readonly<Record<string, Readonly<Record<string, FieldResolver>>>>;

/** The execution a step belongs to, kept on the step object without showing up as a field. */
const EXECUTION_ID = Symbol('executionId');
type StepSource = StepView & { readonly [EXECUTION_ID]: string };

const EXECUTION_ID_SHAPE = /^ex_[0-9A-HJKMNP-TV-Z]{26}$/;
const STATUSES: ReadonlySet<string> = new Set(Object.values(ExecutionStatus));
const LOG_LEVELS: ReadonlySet<string> = new Set(['debug', 'info', 'warn', 'error']);

function invalid(issues: Issue[]): never {
  throw new ValidationError('The arguments are invalid; see `extensions.issues`.', issues);
}

/** `limit`/`cursor` arguments with the REST bounds (1–1000, cursor ≤ 1024 chars; empty cursor = none). */
function pageOf(args: Args, issues: Issue[] = []): PageRequest {
  const limit = args['limit'] ?? DEFAULT_PAGE_LIMIT;
  if (typeof limit !== 'number' || limit < 1 || limit > MAX_PAGE_LIMIT) issues.push({ path: '/limit', message: `must be between 1 and ${MAX_PAGE_LIMIT}` });
  const cursor = args['cursor'];
  if (typeof cursor === 'string' && cursor.length > MAX_CURSOR_LENGTH) issues.push({ path: '/cursor', message: `must NOT have more than ${MAX_CURSOR_LENGTH} characters` });
  if (issues.length > 0) invalid(issues);
  return { limit: limit as number, cursor: typeof cursor === 'string' && cursor !== '' ? cursor : undefined };
}

/** An id that cannot exist is not found, as in REST (no engine call for garbage). */
function executionIdOf(raw: unknown): string {
  const id = String(raw);
  if (!EXECUTION_ID_SHAPE.test(id)) throw new NotFoundError(ErrorCode.executionNotFound, `No execution ${JSON.stringify(id.slice(0, 100))}.`);
  return id;
}

function epochMsOf(value: unknown, path: string, issues: Issue[]): number | undefined {
  if (value === undefined || value === null) return undefined;
  const ms = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/i.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) issues.push({ path, message: 'must be an RFC 3339 date-time' });
  return ms;
}

/** A label filter: an object of at most 64 string values (the REST bounds of `label.<k>=<v>`). */
function labelsOf(value: unknown, issues: Issue[]): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    issues.push({ path: '/labels', message: 'must be an object of strings' });
    return undefined;
  }
  const entries = Object.entries(value);
  if (entries.length > 64) issues.push({ path: '/labels', message: 'must NOT have more than 64 properties' });
  for (const [k, v] of entries) {
    if (typeof v !== 'string' || v.length > 1024 || k.length < 1 || k.length > 128) issues.push({ path: `/labels/${pointerToken(k)}`, message: 'must be a string (key 1–128, value ≤ 1024 chars)' });
  }
  return entries.length === 0 ? undefined : (Object.fromEntries(entries) as Record<string, string>);
}

function executionFilterOf(args: Args, issues: Issue[]): ExecutionFilter {
  const status = args['status'] as readonly string[] | null | undefined;
  (status ?? []).forEach((s, i) => {
    if (!STATUSES.has(s)) issues.push({ path: `/status/${i}`, message: `must be one of ${[...STATUSES].join(', ')}` });
  });
  const parentId = args['parentId'];
  const labels = labelsOf(args['labels'], issues);
  const filter: ExecutionFilter = {
    labels,
    status: status === null || status === undefined || status.length === 0 ? undefined : (status as ExecutionStatus[]),
    workflow: typeof args['workflow'] === 'string' ? args['workflow'] : undefined,
    parentId: typeof parentId === 'string' ? parentId : undefined,
    createdAfter: epochMsOf(args['createdAfter'], '/createdAfter', issues),
    createdBefore: epochMsOf(args['createdBefore'], '/createdBefore', issues),
  };
  return filter;
}


/** The definition an execution runs on; null when there is none to show (a one-off flow). */
async function definitionOf(ctx: GraphqlContext, x: ExecutionView): Promise<DefinitionView | null> {
  try {
    return await ctx.engine.getDefinition(ctx.tenant, x.workflow, x.version);
  } catch (err) {
    if (err instanceof ActorflowError && err.code === ErrorCode.definitionNotFound) return null;
    throw err;
  }
}

/** Every resolver of the schema in graphql/sdl.ts. */
export const RESOLVERS: ResolverMap = {
  Query: {
    execution: (_s, args, ctx) => ctx.engine.get(ctx.tenant, executionIdOf(args['id'])),
    executions: (_s, args, ctx) => {
      // Every failing argument at once, as REST reports every failing query parameter.
      const issues: Issue[] = [];
      const filter = executionFilterOf(args, issues);
      const page = pageOf(args, issues);
      return ctx.engine.list(ctx.tenant, filter, page);
    },
    definition: (_s, args, ctx) => {
      const version = args['version'];
      if (typeof version === 'number' && version < 1) invalid([{ path: '/version', message: 'must be >= 1' }]);
      return ctx.engine.getDefinition(ctx.tenant, String(args['name']), typeof version === 'number' ? version : undefined);
    },
    agents: (_s, _a, ctx) =>
      ctx.engine
        .agents()
        .slice()
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .map(agentDetail),
  },
  Execution: {
    parent: (s, _a, ctx) => {
      const x = s as ExecutionView;
      return x.parentId === null ? null : ctx.engine.get(ctx.tenant, x.parentId);
    },
    definition: (s, _a, ctx) => definitionOf(ctx, s as ExecutionView),
    steps: async (s, args, ctx) => {
      const id = (s as ExecutionView).id;
      const page = await ctx.engine.steps(ctx.tenant, id, pageOf(args));
      return { items: page.items.map((step): StepSource => ({ ...step, [EXECUTION_ID]: id })), nextCursor: page.nextCursor };
    },
    events: (s, args, ctx) => {
      const since = args['since'] ?? 0;
      if (typeof since !== 'number' || since < 0) invalid([{ path: '/since', message: 'must be >= 0' }]);
      return ctx.engine.events(ctx.tenant, (s as ExecutionView).id, since as number, pageOf(args));
    },
    logs: (s, args, ctx) => {
      const filter: { level?: LogView['level']; stepId?: string } = {};
      const level = args['level'];
      if (typeof level === 'string') {
        if (!LOG_LEVELS.has(level)) invalid([{ path: '/level', message: 'must be one of debug, info, warn, error' }]);
        filter.level = level as LogView['level'];
      }
      if (typeof args['stepId'] === 'string') filter.stepId = args['stepId'];
      return ctx.engine.logs(ctx.tenant, (s as ExecutionView).id, filter, pageOf(args));
    },
    children: (s, args, ctx) => ctx.engine.children(ctx.tenant, (s as ExecutionView).id, pageOf(args)),
    costs: (s, _a, ctx) => ctx.engine.costs(ctx.tenant, (s as ExecutionView).id),
  },
  Step: {
    attemptHistory: (s, args, ctx) => {
      const step = s as StepSource;
      return ctx.engine.attempts(ctx.tenant, step[EXECUTION_ID], step.stepId, pageOf(args));
    },
  },
  Child: {
    execution: (s, _a, ctx) => ctx.engine.get(ctx.tenant, (s as { id: string }).id),
  },
};
