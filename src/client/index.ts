/** @module client — `actorflow/client`: a typed client for the actorflow API (Node 20 fetch, no dependency). */
export { createClient, type ActorflowClient, type ClientOptions, type DefinitionDocument, type ResultOptions, type StartOptions } from './client.ts';
export { ActorflowDurationError, toMs, type Duration } from './duration.ts';
export { ActorflowExecutionError, MAX_WAIT_MS, type ExecutionResult } from './result.ts';
export { ActorflowApiError, isConflict, isNotFound, type Problem, type ProblemFieldError } from './errors.ts';
export { isTerminalEvent, isTerminalStatus, parseSse, type SseFrame, type WatchOptions } from './sse.ts';
export { buildUrl, type FetchLike } from './transport.ts';
export type * from './types.ts';
export type * from './document-types.ts';
export type * from './bulk-types.ts';
export type { BulkWaitOptions } from './bulk-wait.ts';
export type { AttemptView, DefinitionView, EventView, ExecutionError, ExecutionStatus, ExecutionView, LogView, Page, StepView } from '../common/execution.ts';
export type { FlowDocument, Step } from '../common/flow.ts';
export type { TemplateInstance, TemplateRef, TemplateSummary, TemplateView } from '../common/template.ts';
