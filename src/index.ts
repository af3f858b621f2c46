/** @module actorflow — the public API: start a server in-process, or build an agent. */
export { startActorflow } from './cli/serve.ts';
export type { Running, ServeConfig } from './cli/serve.ts';
export { createAgent, NonRetryableError } from './agents/create-agent.ts';
export type { Agent, AgentOptions, InProcessAgent, InProcessAgents, InProcessHandler, TaskContext, TaskHandler } from './agents/create-agent.ts';
export type { Engine } from './engine/types.ts';
export type { FlowDocument, Step } from './common/flow.ts';
export type { EventView, ExecutionView, ExecutionStatus } from './common/execution.ts';
