/** @module client — `actorflow/client`: a typed client for the actorflow API (Node 20 fetch, no dependency). */
export { createClient, type ActorflowClient, type ClientOptions, type DefinitionDocument } from './client.ts';
export { ActorflowApiError, isConflict, isNotFound, type Problem, type ProblemFieldError } from './errors.ts';
export { isTerminalEvent, isTerminalStatus, parseSse, type SseFrame, type WatchOptions } from './sse.ts';
export { buildUrl, type FetchLike } from './transport.ts';
export type * from './types.ts';
export type { AttemptView, DefinitionView, EventView, ExecutionStatus, ExecutionView, LogView, Page, StepView } from '../shared/execution.ts';
