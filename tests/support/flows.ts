/** @module tests/support/flows — registering flows and running them to their end over HTTP (the server waits: `?wait=`). */
import { expect } from 'vitest';
import type { Api } from './http.ts';

/** Registers a flow document; it must be new (201). */
export async function define(http: Api, doc: Record<string, unknown>): Promise<void> {
  const res = await http.post('/workflow-definitions', doc);
  expect(res.status, res.text).toBe(201);
}

/** Starts an execution and waits (server side) until it settles: finished, or waiting for a signal. */
export async function run(http: Api, workflow: string, input: unknown = {}): Promise<any> {
  const res = await http.post('/executions', { workflow, input }, { query: { wait: 15_000 } });
  expect(res.status, res.text).toBeLessThan(300);
  return res.body;
}
