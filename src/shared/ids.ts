/** @module ids — branded ids; made only by the new…/parse… functions here. */
import { monotonicFactory } from 'ulidx';

export type ExecutionId = string & { readonly __brand: 'ExecutionId' };
export type AgentId = string & { readonly __brand: 'AgentId' };

const ulid = monotonicFactory();
const EXECUTION_ID = /^ex_[0-9A-HJKMNP-TV-Z]{26}$/;

export function newExecutionId(now: number = Date.now()): ExecutionId {
  return `ex_${ulid(now)}` as ExecutionId;
}

/** Returns the id when it has the `ex_` + ULID shape, else undefined. */
export function parseExecutionId(raw: string): ExecutionId | undefined {
  return EXECUTION_ID.test(raw) ? (raw as ExecutionId) : undefined;
}

export function newAgentId(name: string): AgentId {
  return `ag_${name}` as AgentId;
}
