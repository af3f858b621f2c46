/**
 * A client generated from the served /openapi.json (openapi-typescript + openapi-fetch), as a user
 * would make one: the flow document is typed (a wrong step type does not compile), and the
 * client's default `status` filter (repeated parameters) is accepted and filters, as is a comma list.
 */
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from '../support/http.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { waitForStatus } from '../support/wait.ts';

const ADMIN = 'test-admin-key-openapi-client-0123456789';

let server: TestServer;
let dir: string;

/** The typed user code: a flow document and the calls, checked by tsc, then run against the server. */
const CLIENT_SOURCE = `
import createClient from 'openapi-fetch';
import type { components, paths } from './schema.ts';

export type FlowDocument = components['schemas']['FlowDocument'];

/** Runs, waits or ends at once, by \`input.mode\`: one flow gives executions in three statuses. */
export const flow: FlowDocument = {
  name: 'oa-typed',
  description: 'typed by a generated client',
  steps: [
    {
      id: 'route',
      type: 'choice',
      when: [
        { if: { path: '$.input.mode', equals: 'run' }, next: 'busy' },
        { if: { any: [{ path: '$.input.mode', equals: 'wait' }, { path: '$.input.mode', equals: 'hold' }] }, next: 'hold' },
      ],
      default: 'done',
    },
    { id: 'busy', type: 'task', agent: 'sleep', input: { ms: 120000 }, retry: { maxAttempts: 1 }, onError: 'fail', next: 'done' },
    { id: 'hold', type: 'wait', signal: 'go', timeoutMs: 600000, next: 'done' },
    { id: 'nap', type: 'sleep', ms: 1, next: 'done' },
    { id: 'done', type: 'task', agent: 'echo', input: '$.input', onError: { fallback: 'nap' }, end: true },
  ],
};

export type Status = NonNullable<paths['/api/v1/executions']['get']['parameters']['query']>['status'];

export function client(baseUrl: string, key: string, urls: string[]) {
  const fetchLogged = (input: Request) => {
    urls.push(input.url);
    return fetch(input);
  };
  return createClient<paths>({ baseUrl, headers: { authorization: 'Bearer ' + key }, fetch: fetchLogged });
}

export async function register(c: ReturnType<typeof client>) {
  const { data, error, response } = await c.POST('/api/v1/workflow-definitions', { body: flow });
  if (error !== undefined) throw new Error('registration refused: ' + JSON.stringify(error));
  return { status: response.status, name: data.name, version: data.version, document: data.document };
}

export async function start(c: ReturnType<typeof client>, mode: string): Promise<string> {
  const { data, error } = await c.POST('/api/v1/executions', { body: { workflow: flow.name, input: { mode } } });
  if (error !== undefined) throw new Error('start refused: ' + JSON.stringify(error));
  return data.id;
}

/** The generated client's default serialisation: \`?status=running&status=waiting\`. */
export async function list(c: ReturnType<typeof client>, status: Status) {
  const { data, error, response } = await c.GET('/api/v1/executions', { params: { query: { status, workflow: flow.name, limit: 100 } } });
  return { status: response.status, ids: data?.items.map((x) => x.id) ?? [], error };
}

/** The same filter as one comma-separated value (\`explode: false\`). */
export async function listComma(c: ReturnType<typeof client>, status: Status) {
  const { data, response } = await c.GET('/api/v1/executions', {
    params: { query: { status, workflow: flow.name } },
    querySerializer: { array: { style: 'form', explode: false } },
  });
  return { status: response.status, ids: data?.items.map((x) => x.id) ?? [] };
}
`;

/** Declarations the generated types must refuse, one per line, each with why. */
const WRONG: readonly [string, string][] = [
  ['an unknown step type', `export const w0: FlowDocument = { name: 'x', steps: [{ id: 'a', type: 'taks', agent: 'echo' }] };`],
  ['a task without its agent', `export const w1: FlowDocument = { name: 'x', steps: [{ id: 'a', type: 'task' }] };`],
  ['a field of another step type', `export const w2: FlowDocument = { name: 'x', steps: [{ id: 'a', type: 'wait', signal: 's', agent: 'echo' }] };`],
  ['an onError that is no keyword', `export const w3: FlowDocument = { name: 'x', steps: [{ id: 'a', type: 'task', agent: 'echo', onError: 'retry' }] };`],
  ['a status filter that does not exist', `export const w4: Status = ['runing'];`],
];

const WRONG_SOURCE = `import type { FlowDocument, Status } from './client.ts';\n${WRONG.map(([, code]) => code).join('\n')}\n`;

const CLIENT_TYPES = fileURLToPath(new URL('../../src/client/types.ts', import.meta.url));
const SHARED_TYPES = fileURLToPath(new URL('../../src/common/execution.ts', import.meta.url));

/**
 * The client's request and answer types (src/client/types.ts, src/common/execution.ts) of the
 * executions, definitions, schedules, webhooks, tasks and admin routes against the types generated
 * from the document: each line compiles only while both agree, so drift on either side fails.
 * `Same`: assignable both ways, same fields; `Covers`: the client's type takes every documented
 * value (it is wider: `document: unknown`, `valid: boolean`, webhook `events` as any strings, an API
 * key view open to more fields). Not compared: a one-off `definition` (the client's is any object),
 * the client's `labels` and single `status` (it writes them as `label.<k>=` and a list), an event's
 * `type` (the client's is the union of event types, the document's a string), a task's body
 * `idempotencyKey` (the client sends the header).
 */
const CONTRACT_SOURCE = `import type { components, operations } from './schema.ts';
export type { ListExecutionsOptions, ListOptions, SignalRequest, StartExecutionRequest, UpdateExecutionRequest } from '${CLIENT_TYPES}';
import type {
  ApiKeyView, AuditEntry, ChildView, CostsView, CreateApiKeyRequest, CreatedWebhook, CreateScheduleRequest, CreateTaskRequest, CreateWebhookRequest, DeliveryView,
  ListExecutionsOptions, ListOptions, ListTasksOptions, ScheduleView, SignalRequest, StartExecutionRequest, TaskView, UpdateExecutionRequest, UpdateScheduleRequest,
  ValidationResult, WebhookView,
} from '${CLIENT_TYPES}';
import type { AttemptView, DefinitionView, EventView, ExecutionView, LogView, Page, StepView } from '${SHARED_TYPES}';

export type Json<T> = T extends { content: { 'application/json': infer B } } ? B : never;
export type Body<O extends keyof operations> = Json<NonNullable<operations[O]['requestBody']>>;
export type Query<O extends keyof operations> = NonNullable<operations[O]['parameters']['query']>;
export type Answer<O extends keyof operations, S extends keyof operations[O]['responses']> = Json<operations[O]['responses'][S]>;
export type Schema<N extends keyof components['schemas']> = components['schemas'][N];
type Fits<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** true when each is assignable to the other and they have the same fields (an extra optional one would fit both ways). */
export type Same<A, B> = Fits<A, B> extends true ? Fits<keyof A, keyof B> : false;
/** true when the client's type takes every value the document allows (the client's is wider). */
export type Covers<Client, Documented> = [Documented] extends [Client] ? true : false;
/** The client's request types take read-only arrays; generated ones are mutable. */
type Writable<T> = { -readonly [K in keyof T]: T[K] extends readonly (infer E)[] ? E[] : T[K] };

export const startBody: Same<Omit<StartExecutionRequest, 'definition'>, Omit<Body<'startExecution'>, 'definition'>> = true;
export const startDefinition: [Body<'startExecution'>['definition']] extends [StartExecutionRequest['definition']] ? true : false = true;
export const updateBody: Same<UpdateExecutionRequest, Body<'updateExecution'>> = true;
export const signalBody: Same<SignalRequest, Body<'signalExecution'>> = true;
export const cancelBody: Same<{ reason?: string }, Body<'cancelExecution'>> = true;
export const retryBody: Same<{ note?: string }, Body<'retryExecution'>> = true;
export const listQuery: Same<Omit<ListExecutionsOptions, 'status' | 'labels'>, Omit<Query<'listExecutions'>, 'status' | 'label.<key>'>> = true;
export const listStatus: Same<Extract<NonNullable<ListExecutionsOptions['status']>, string>, NonNullable<Query<'listExecutions'>['status']>[number]> = true;
export const pageQuery: Same<ListOptions, Query<'listSteps'>> = true;
export const execution: Same<ExecutionView, Schema<'Execution'>> = true;
export const startAnswer: Same<ExecutionView, Answer<'startExecution', 201>> = true;
export const listAnswer: Same<Page<ExecutionView>, Answer<'listExecutions', 200>> = true;
export const steps: Same<Page<StepView>, Answer<'listSteps', 200>> = true;
export const attempts: Same<Page<AttemptView>, Answer<'listAttempts', 200>> = true;
export const events: Same<Page<Omit<EventView, 'type'>>, Page<Omit<Answer<'listEvents', 200>['items'][number], 'type'>>> = true;
export const logs: Same<Page<LogView>, Answer<'listLogs', 200>> = true;
export const children: Same<Page<ChildView>, Answer<'listChildren', 200>> = true;
export const costs: Same<CostsView, Answer<'executionCosts', 200>> = true;
export const definition: Same<Omit<DefinitionView, 'document'>, Omit<Answer<'getDefinition', 200>, 'document'>> = true;
export const definitionRead: Covers<DefinitionView, Answer<'getDefinition', 200>> = true;
export const definitions: Covers<Page<DefinitionView>, Answer<'listDefinitions', 200>> = true;
export const validation: Covers<ValidationResult, Answer<'validateDefinition', 200>> = true;
export const defQuery: Same<ListOptions & { name?: string }, Query<'listDefinitions'>> = true;
export const createSchedule: Same<CreateScheduleRequest, Body<'createSchedule'>> = true;
export const updateSchedule: Same<UpdateScheduleRequest, Body<'updateSchedule'>> = true;
export const schedule: Same<ScheduleView, Answer<'getSchedule', 200>> = true;
export const schedules: Same<Page<ScheduleView>, Answer<'listSchedules', 200>> = true;
export const scheduleQuery: Same<ListOptions, Query<'listSchedules'>> = true;
export const createWebhook: Covers<Writable<CreateWebhookRequest>, Body<'createWebhook'>> = true;
export const webhook: Same<WebhookView, Answer<'getWebhook', 200>> = true;
export const createdWebhook: Same<CreatedWebhook, Answer<'createWebhook', 201>> = true;
export const deliveries: Same<Page<DeliveryView>, Answer<'listWebhookDeliveries', 200>> = true;
export const createTask: Same<CreateTaskRequest, Omit<Body<'createTask'>, 'idempotencyKey'>> = true;
export const taskQuery: Same<Omit<ListTasksOptions, 'status'>, Omit<Query<'listTasks'>, 'status'>> = true;
export const task: Same<TaskView, Answer<'getTask', 200>> = true;
export const createApiKey: Same<Writable<CreateApiKeyRequest>, Body<'createApiKey'>> = true;
export const apiKey: Covers<ApiKeyView, Answer<'listApiKeys', 200>['items'][number]> = true;
export const audit: Same<Page<AuditEntry>, Answer<'listAudit', 200>> = true;
`;

/** Drift the contract check must catch, one per line. */
const CONTRACT_WRONG: readonly [string, string][] = [
  ['a request field the API does not take', `export const d0: Same<StartExecutionRequest & { priority?: number }, Body<'startExecution'>> = true;`],
  ['a request field of another type', `export const d1: Same<Omit<SignalRequest, 'reject'> & { reject?: string }, Body<'signalExecution'>> = true;`],
  ['a client missing a query parameter', `export const d2: Same<Omit<ListOptions, 'cursor'>, Query<'listSteps'>> = true;`],
];

const CONTRACT_WRONG_SOURCE = `import type { Body, ListOptions, Query, Same, SignalRequest, StartExecutionRequest } from './contract.ts';\n${CONTRACT_WRONG.map(([, code]) => code).join('\n')}\n`;

/** What the test uses of client.ts, which it imports at run time from the temp dir. */
interface UserCode {
  readonly flow: Readonly<Record<string, unknown>>;
  client(baseUrl: string, key: string, urls: string[]): unknown;
  register(c: unknown): Promise<{ status: number; name: string; version: number; document: unknown }>;
  start(c: unknown, mode: string): Promise<string>;
  list(c: unknown, status: readonly string[]): Promise<{ status: number; ids: string[]; error: unknown }>;
  listComma(c: unknown, status: readonly string[]): Promise<{ status: number; ids: string[] }>;
}

/** tsc over `files` in `dir` (strict, NodeNext, as a consumer's project would be): the diagnostics. */
function typeCheck(files: readonly string[]): readonly ts.Diagnostic[] {
  const program = ts.createProgram(
    files.map((f) => join(dir, f)),
    {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      allowImportingTsExtensions: true,
      lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
      types: [],
      skipLibCheck: true,
    },
  );
  return ts.getPreEmitDiagnostics(program);
}

const describeDiagnostic = (d: ts.Diagnostic): string => {
  const where = d.file === undefined || d.start === undefined ? '' : `${d.file.fileName}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}: `;
  return `${where}TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
};

beforeAll(async () => {
  server = await startTestServer({ adminKey: ADMIN });
  const res = await request(server.url, 'GET', '/api/v1/openapi.json');
  expect(res.status).toBe(200);
  dir = await mkdtemp(join(tmpdir(), 'actorflow-openapi-client-'));
  // The consumer project: ESM, with this repository's node_modules (openapi-fetch, typescript).
  await symlink(fileURLToPath(new URL('../../node_modules', import.meta.url)), join(dir, 'node_modules'), 'dir');
  await writeFile(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  await writeFile(join(dir, 'schema.ts'), astToString(await openapiTS(res.body)));
  await writeFile(join(dir, 'client.ts'), CLIENT_SOURCE);
  await writeFile(join(dir, 'wrong.ts'), WRONG_SOURCE);
  await writeFile(join(dir, 'contract.ts'), CONTRACT_SOURCE);
  await writeFile(join(dir, 'contract-wrong.ts'), CONTRACT_WRONG_SOURCE);
}, 60_000);

afterAll(async () => {
  await server?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('a client generated from /openapi.json', () => {
  it('type-checks typed flow documents and calls, and refuses wrong documents', () => {
    const good = typeCheck(['client.ts']);
    expect(good.map(describeDiagnostic)).toEqual([]);
    const bad = typeCheck(['wrong.ts']);
    const lines = new Set(bad.map((d) => (d.file !== undefined && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : -1)));
    // Line 0 is the import; declaration i is on line i + 1.
    WRONG.forEach(([why], i) => expect(lines.has(i + 1), `${why}: ${bad.map(describeDiagnostic).join('\n')}`).toBe(true));
    expect(bad.every((d) => d.file?.fileName.endsWith('wrong.ts')), bad.map(describeDiagnostic).join('\n')).toBe(true);
    expect(bad.map(describeDiagnostic).join('\n')).toContain('"taks"');
  }, 60_000);

  it("agrees with the client's request and answer types of the converted resources, and catches drift", () => {
    expect(typeCheck(['contract.ts']).map(describeDiagnostic)).toEqual([]);
    const bad = typeCheck(['contract-wrong.ts']);
    const lines = new Set(bad.map((d) => (d.file !== undefined && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : -1)));
    CONTRACT_WRONG.forEach(([why], i) => expect(lines.has(i + 1), `${why}: ${bad.map(describeDiagnostic).join('\n')}`).toBe(true));
    expect(bad.every((d) => d.file?.fileName.endsWith('contract-wrong.ts')), bad.map(describeDiagnostic).join('\n')).toBe(true);
  }, 60_000);

  it('registers the typed flow document and filters executions by repeated and comma-separated statuses', async () => {
    const user = (await import(pathToFileURL(join(dir, 'client.ts')).href)) as UserCode;
    const urls: string[] = [];
    const c = user.client(server.url, ADMIN, urls);
    const registered = await user.register(c);
    expect(registered).toMatchObject({ status: 201, name: 'oa-typed', version: 1 });
    expect(registered.document).toEqual({ ...user.flow, version: 1 });

    const running = await user.start(c, 'run');
    const waiting = await user.start(c, 'wait');
    const done = await user.start(c, 'end');
    await waitForStatus(server.engine, running, 'running');
    await waitForStatus(server.engine, waiting, 'waiting');
    await waitForStatus(server.engine, done, 'completed');

    const both = await user.list(c, ['running', 'waiting']);
    expect(both.error).toBeUndefined();
    expect(both.status).toBe(200);
    expect(urls.at(-1)).toMatch(/[?&]status=running&status=waiting(&|$)/);
    expect([...both.ids].sort()).toEqual([running, waiting].sort());
    expect((await user.list(c, ['completed'])).ids).toEqual([done]);
    expect((await user.list(c, ['waiting'])).ids).toEqual([waiting]);

    const comma = await user.listComma(c, ['running', 'waiting']);
    expect(urls.at(-1)).toMatch(/[?&]status=running%2Cwaiting(&|$)|[?&]status=running,waiting(&|$)/);
    expect(comma.status).toBe(200);
    expect([...comma.ids].sort()).toEqual([running, waiting].sort());

    // Both forms at once add up; an unknown status is still refused, naming the parameter.
    const mixed = await request(server.url, 'GET', `/api/v1/executions?workflow=oa-typed&status=running,completed&status=waiting`, undefined, { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(mixed.status).toBe(200);
    expect(mixed.body.items.map((x: { id: string }) => x.id).sort()).toEqual([running, waiting, done].sort());
    const unknown = await user.list(c, ['running', 'runing']);
    expect(unknown.status).toBe(422);
    expect(JSON.stringify(unknown.error)).toContain('/query/status/1');
  }, 60_000);
});
