/**
 * Versioned documents (issue 16): every route and error code of /documents over real HTTP, optimistic
 * locking under concurrent updates, tenant isolation, and documents saved by a flow's in-process agent
 * (`ctx.saveDocument`) journaled with the step result as `document.saved` events.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActorflowApiError, createClient } from '../../src/client/index.ts';
import { runCli } from '../support/cli.ts';
import { type Api, createKey, withKey } from '../support/http.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { pollUntil } from '../support/wait.ts';

const ADMIN = 'test-admin-key-documents-0123456789abcdef';
/** An in-process agent that saves what its input asks for: `{ save: [...] }` (a new document, or with `id` a version). */
const AGENTS = `
export const agents = {
  writer: async (ctx: { input: { save?: unknown[]; fail?: boolean }; saveDocument(d: unknown): void }) => {
    for (const d of ctx.input.save ?? []) ctx.saveDocument(d);
    if (ctx.input.fail) throw Object.assign(new Error('asked to fail'), { retryable: false });
    return { saved: (ctx.input.save ?? []).length };
  },
};
`;
const FLOW = {
  name: 'report',
  steps: [
    { id: 'write', type: 'task', agent: 'writer', input: '$.input' },
    { id: 'done', type: 'task', agent: 'echo', input: { ok: true } },
  ],
};

let server: TestServer;
let http: Api;
let acme: Api;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'actorflow-documents-'));
  const machines = join(dir, 'machines');
  await mkdir(machines);
  await writeFile(join(machines, 'writer.ts'), AGENTS);
  server = await startTestServer({ adminKey: ADMIN, machinesDir: machines });
  http = withKey(server.url, ADMIN);
  acme = withKey(server.url, await createKey(http, ['read', 'write'], 'acme'));
  expect((await http.post('/workflow-definitions', FLOW)).status).toBe(201);
});

afterAll(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const NEW = { scopeType: 'project', scopeId: 'p-1', type: 'spec', title: 'Spec', content: { sections: ['intro'] } };

async function create(body: Record<string, unknown> = NEW, as: Api = http): Promise<any> {
  const res = await as.post('/documents', body);
  expect(res.status, res.text).toBe(201);
  return res.body;
}

const put = (id: string, body: unknown, ifMatch?: string | number, as: Api = http) =>
  as.put(`/documents/${id}`, body, ifMatch === undefined ? {} : { headers: { 'if-match': String(ifMatch) } });

function expectProblem(res: { status: number; body: any; contentType: string }, status: number, code: string): void {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.contentType).toContain('application/problem+json');
  expect(res.body.code).toBe(code);
}

describe('POST /documents and GET /documents/{id}', () => {
  it('creates version 1 (draft by default) and reads it back with its content and etag', async () => {
    const res = await http.post('/documents', NEW);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ ...NEW, status: 'draft', version: 1, executionId: null, stepId: null });
    expect(res.body.id).toMatch(/^doc_[0-9A-Z]{26}$/);
    expect(res.body.createdAt).toBe(res.body.updatedAt);
    expect(res.headers.get('etag')).toBe('"1"');
    const got = await http.get(`/documents/${res.body.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(res.body);
    expect(got.headers.get('etag')).toBe('"1"');
  });

  it('keeps text content and an explicit status; proto-like keys come back unchanged', async () => {
    const text = await create({ ...NEW, content: 'plain text', status: 'final' });
    expect((await http.get(`/documents/${text.id}`)).body).toMatchObject({ content: 'plain text', status: 'final' });
    const raw = '{"scopeType":"p","scopeId":"1","type":"t","title":"x","content":{"__proto__":{"a":1},"constructor":2}}';
    const odd = await http.post('/documents', undefined, { rawBody: raw });
    expect(odd.status).toBe(201);
    expect((await http.get(`/documents/${odd.body.id}`)).text).toContain('"content":{"__proto__":{"a":1},"constructor":2}');
  });

  it('refuses invalid bodies with 422 and every failing path', async () => {
    const res = await http.post('/documents', { scopeType: '', type: 'spec', title: 7, content: 1, status: 'done', extra: true });
    expectProblem(res, 422, 'validation_failed');
    const paths = (res.body.errors as { path: string }[]).map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['/scopeType', '/scopeId', '/title', '/status', '/extra']));
    expectProblem(await http.post('/documents', { ...NEW, content: undefined }), 422, 'validation_failed');
  });

  it('answers 404 document_not_found for an unknown or malformed id', async () => {
    expectProblem(await http.get('/documents/doc_01ARZ3NDEKTSV4RRFFQ69G5FAV'), 404, 'document_not_found');
    expectProblem(await http.get('/documents/nope'), 404, 'document_not_found');
    expectProblem(await http.get('/documents/doc_01ARZ3NDEKTSV4RRFFQ69G5FAV/versions'), 404, 'document_not_found');
    expectProblem(await put('doc_01ARZ3NDEKTSV4RRFFQ69G5FAV', { title: 'x' }, 1), 404, 'document_not_found');
  });
});

describe('GET /documents', () => {
  it('filters by scope, type and status, newest first, without content, in pages', async () => {
    const scope = { scopeType: 'team', scopeId: `t-${Date.now()}` };
    const a = await create({ ...scope, type: 'note', title: 'a', content: 1 });
    const b = await create({ ...scope, type: 'note', title: 'b', content: 2, status: 'final' });
    const c = await create({ ...scope, type: 'plan', title: 'c', content: 3 });
    const all = await http.get('/documents', { query: scope });
    expect(all.status).toBe(200);
    expect(all.body.items.map((d: any) => d.id)).toEqual([c.id, b.id, a.id]);
    for (const d of all.body.items) expect(d).not.toHaveProperty('content');
    expect(all.body.nextCursor).toBeNull();
    expect((await http.get('/documents', { query: { ...scope, type: 'note' } })).body.items.map((d: any) => d.id)).toEqual([b.id, a.id]);
    expect((await http.get('/documents', { query: { ...scope, status: 'final' } })).body.items.map((d: any) => d.id)).toEqual([b.id]);
    const first = await http.get('/documents', { query: { ...scope, limit: 2 } });
    expect(first.body.items.map((d: any) => d.id)).toEqual([c.id, b.id]);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await http.get('/documents', { query: { ...scope, limit: 2, cursor: first.body.nextCursor } });
    expect(second.body).toEqual({ items: [expect.objectContaining({ id: a.id })], nextCursor: null });
  });

  it('refuses bad filters and page sizes with 422', async () => {
    expectProblem(await http.get('/documents', { query: { limit: 0 } }), 422, 'validation_failed');
    expectProblem(await http.get('/documents', { query: { status: 'gone' } }), 422, 'validation_failed');
    expectProblem(await http.get('/documents', { query: { executionId: 'x' } }), 422, 'validation_failed');
  });
});

describe('PUT /documents/{id}', () => {
  it('writes the next version under if-match; absent fields keep their value', async () => {
    const doc = await create();
    const res = await put(doc.id, { title: 'Spec v2' }, 1);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ id: doc.id, version: 2, title: 'Spec v2', content: NEW.content, status: 'draft', createdAt: doc.createdAt });
    expect(res.headers.get('etag')).toBe('"2"');
    // The etag form is accepted too.
    const third = await put(doc.id, { content: 'rewritten', status: 'final' }, '"2"');
    expect(third.body).toMatchObject({ version: 3, title: 'Spec v2', content: 'rewritten', status: 'final' });
    expect((await http.get(`/documents/${doc.id}`)).body).toMatchObject({ version: 3, content: 'rewritten' });
  });

  it('answers 428 if_match_required without if-match and 412 version_mismatch for a stale one', async () => {
    const doc = await create();
    expectProblem(await put(doc.id, { title: 'x' }), 428, 'if_match_required');
    expect((await put(doc.id, { title: 'x' }, 1)).status).toBe(200);
    const stale = await put(doc.id, { title: 'y' }, 1);
    expectProblem(stale, 412, 'version_mismatch');
    expect(stale.body.detail).toContain('latest version is 2');
    expectProblem(await put(doc.id, { title: 'y' }, 7), 412, 'version_mismatch');
    expectProblem(await put(doc.id, { title: 'y' }, 'W/"2"'), 412, 'version_mismatch');
    expect((await http.get(`/documents/${doc.id}`)).body.version).toBe(2);
  });

  it('refuses an empty or invalid change with 422', async () => {
    const doc = await create();
    expectProblem(await put(doc.id, {}, 1), 422, 'validation_failed');
    const bad = await put(doc.id, { status: 'lost', scopeId: 'moved' }, 1);
    expectProblem(bad, 422, 'validation_failed');
    expect((bad.body.errors as { path: string }[]).map((e) => e.path)).toEqual(expect.arrayContaining(['/status', '/scopeId']));
  });

  it('lets exactly one of two concurrent updates from the same version win, the other 412', async () => {
    const doc = await create();
    for (let version = 1; version <= 10; version++) {
      const [a, b] = await Promise.all([put(doc.id, { title: `a${version}` }, version), put(doc.id, { content: `b${version}` }, version)]);
      expect([a.status, b.status].sort()).toEqual([200, 412]);
      const loser = a.status === 412 ? a : b;
      expect(loser.body.code).toBe('version_mismatch');
      const winner = a.status === 200 ? a : b;
      expect(winner.body.version).toBe(version + 1);
    }
    const versions = await http.get(`/documents/${doc.id}/versions`);
    expect(versions.body.items.map((v: any) => v.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });
});

describe('GET /documents/{id}/versions', () => {
  it('lists versions oldest first without content, in pages, and reads each with its content', async () => {
    const doc = await create();
    await put(doc.id, { title: 'second', content: { v: 2 } }, 1);
    await put(doc.id, { status: 'archived' }, 2);
    const list = await http.get(`/documents/${doc.id}/versions`);
    expect(list.status).toBe(200);
    expect(list.body.items).toEqual([
      { version: 1, title: 'Spec', status: 'draft', createdAt: expect.any(String), executionId: null, stepId: null },
      { version: 2, title: 'second', status: 'draft', createdAt: expect.any(String), executionId: null, stepId: null },
      { version: 3, title: 'second', status: 'archived', createdAt: expect.any(String), executionId: null, stepId: null },
    ]);
    const page = await http.get(`/documents/${doc.id}/versions`, { query: { limit: 2 } });
    expect(page.body.nextCursor).toBe('2');
    expect((await http.get(`/documents/${doc.id}/versions`, { query: { cursor: '2' } })).body.items.map((v: any) => v.version)).toEqual([3]);
    const v1 = await http.get(`/documents/${doc.id}/versions/1`);
    expect(v1.body).toMatchObject({ version: 1, title: 'Spec', content: NEW.content });
    expect((await http.get(`/documents/${doc.id}/versions/3`)).body).toMatchObject({ status: 'archived', content: { v: 2 } });
    expectProblem(await http.get(`/documents/${doc.id}/versions/4`), 404, 'document_not_found');
    expectProblem(await http.get(`/documents/${doc.id}/versions/0`), 404, 'document_not_found');
    expectProblem(await http.get(`/documents/${doc.id}/versions/x`), 404, 'document_not_found');
  });
});

describe('tenants', () => {
  it("hides another tenant's documents behind 404s on every route", async () => {
    const mine = await create();
    const theirs = await create({ ...NEW, title: 'acme spec' }, acme);
    expectProblem(await acme.get(`/documents/${mine.id}`), 404, 'document_not_found');
    expectProblem(await put(mine.id, { title: 'x' }, 1, acme), 404, 'document_not_found');
    expectProblem(await put(mine.id, { title: 'x' }, undefined, acme), 404, 'document_not_found');
    expectProblem(await acme.get(`/documents/${mine.id}/versions`), 404, 'document_not_found');
    expectProblem(await acme.get(`/documents/${mine.id}/versions/1`), 404, 'document_not_found');
    expectProblem(await http.get(`/documents/${theirs.id}`), 404, 'document_not_found');
    const listed = (await acme.get('/documents', { query: { scopeType: 'project', scopeId: 'p-1', limit: 1000 } })).body.items.map((d: any) => d.id);
    expect(listed).toEqual([theirs.id]);
  });

  it('needs write scope to create or update', async () => {
    const reader = withKey(server.url, await createKey(http, ['read']));
    expectProblem(await reader.post('/documents', NEW), 403, 'forbidden');
    const doc = await create();
    expectProblem(await put(doc.id, { title: 'x' }, 1, reader), 403, 'forbidden');
    expect((await reader.get(`/documents/${doc.id}`)).status).toBe(200);
  });
});

describe('documents saved by a flow', () => {
  const run = async (input: unknown, extra: Record<string, unknown> = {}) => {
    const res = await http.post('/executions', { workflow: 'report', input, ...extra }, { query: { wait: 10_000 } });
    expect(res.status, res.text).toBe(201);
    return res.body;
  };
  const eventsOf = async (id: string) => (await http.get(`/executions/${id}/events`, { query: { limit: 1000 } })).body.items as any[];

  it('journals ctx.saveDocument with the step result: a document.saved event before the step completes', async () => {
    const ex = await run({ save: [{ type: 'report', title: 'Q1', content: { total: 3 } }] }, { scope: { type: 'project', id: 'p-9' } });
    expect(ex.status).toBe('completed');
    expect(ex.scope).toEqual({ type: 'project', id: 'p-9' });
    const events = await eventsOf(ex.id);
    const saved = events.filter((e) => e.type === 'document.saved');
    expect(saved).toHaveLength(1);
    const completed = events.find((e) => e.type === 'workflow.step.completed' && e.stepId === 'write');
    expect(saved[0].seq).toBeLessThan(completed.seq);
    expect(saved[0]).toMatchObject({ stepId: 'write', data: { version: 1, scopeType: 'project', scopeId: 'p-9', type: 'report', title: 'Q1', status: 'draft' } });
    const id = saved[0].data.documentId as string;
    expect((await http.get(`/documents/${id}`)).body).toMatchObject({ id, version: 1, content: { total: 3 }, executionId: ex.id, stepId: 'write' });
    const listed = await http.get('/documents', { query: { executionId: ex.id } });
    expect(listed.body.items.map((d: any) => d.id)).toEqual([id]);
  });

  it('writes a new version when the save names a document, and scopes new ones to the execution without a scope', async () => {
    const doc = await create();
    const ex = await run({ save: [{ id: doc.id, type: 'ignored', title: 'from the flow', content: 'v2' }, { type: 'log', title: 'run log', content: [] }] });
    expect(ex.status).toBe('completed');
    expect(ex).not.toHaveProperty('scope');
    const saved = (await eventsOf(ex.id)).filter((e) => e.type === 'document.saved');
    expect(saved.map((e) => e.data.version)).toEqual([2, 1]);
    expect((await http.get(`/documents/${doc.id}`)).body).toMatchObject({ version: 2, type: 'spec', scopeType: 'project', title: 'from the flow', content: 'v2', executionId: ex.id });
    expect(saved[1].data).toMatchObject({ scopeType: 'execution', scopeId: ex.id, type: 'log' });
    const versions = (await http.get(`/documents/${doc.id}/versions`)).body.items;
    expect(versions[1]).toMatchObject({ version: 2, executionId: ex.id, stepId: 'write' });
    expect((await http.get('/documents', { query: { executionId: ex.id } })).body.items).toHaveLength(2);
  });

  it('saves nothing when the attempt fails, and fails the step when a save names an unknown document', async () => {
    const failed = await run({ fail: true, save: [{ type: 'report', title: 'lost', content: 1 }] });
    expect(failed.status).toBe('failed');
    expect((await eventsOf(failed.id)).some((e) => e.type === 'document.saved')).toBe(false);
    expect((await http.get('/documents', { query: { executionId: failed.id } })).body.items).toEqual([]);
    const unknown = await run({ save: [{ type: 'report', title: 'new', content: 1 }, { id: 'doc_01ARZ3NDEKTSV4RRFFQ69G5FAV', type: 'x', title: 'y', content: 2 }] });
    expect(unknown.status).toBe('failed');
    expect(unknown.error).toMatchObject({ code: 'document_not_found', stepId: 'write' });
    expect((await http.get('/documents', { query: { executionId: unknown.id } })).body.items).toEqual([]);
    const invalid = await run({ save: [{ type: 'report', content: 1 }] });
    expect(invalid.status).toBe('failed');
    expect(invalid.error).toMatchObject({ code: 'document_invalid' });
  });

  it("saves a child execution's documents in the parent's scope, and a direct execution's when it ends", async () => {
    const parent = { name: 'report-parent', steps: [{ id: 'child', type: 'workflow', workflow: 'report', input: '$.input' }] };
    expect((await http.post('/workflow-definitions', parent)).status).toBe(201);
    const ex = await run({ save: [{ type: 'child-report', title: 'from the child', content: 1 }] }, { workflow: 'report-parent', scope: { type: 'project', id: 'p-parent' } });
    expect(ex.status).toBe('completed');
    const [child] = (await http.get(`/executions/${ex.id}/children`)).body.items;
    const docs = (await http.get('/documents', { query: { executionId: child.id } })).body.items;
    expect(docs).toEqual([expect.objectContaining({ scopeType: 'project', scopeId: 'p-parent', type: 'child-report', stepId: 'write' })]);

    const direct = await run({ save: [{ type: 'direct-report', title: 'direct', content: 'd' }] }, { durability: 'none' });
    expect(direct.status).toBe('completed');
    const saved = (await eventsOf(direct.id)).filter((e) => e.type === 'document.saved');
    expect(saved).toHaveLength(1);
    // Written with the direct execution's summary, in a later batch: read it once it is there.
    const id = saved[0].data.documentId as string;
    const got = await pollUntil(async () => {
      const res = await http.get(`/documents/${id}`);
      return res.status === 200 ? res : undefined;
    }, 'the direct execution\'s document written', 5000);
    expect(got.body).toMatchObject({ id, type: 'direct-report', content: 'd', executionId: direct.id, scopeType: 'execution', scopeId: direct.id });
  });

  it('refuses a bad start scope with 422', async () => {
    const res = await http.post('/executions', { workflow: 'report', scope: { type: 'project' } });
    expectProblem(res, 422, 'validation_failed');
    expect((res.body.errors as { path: string }[]).map((e) => e.path)).toContain('/scope/id');
  });
});

describe('typed client and CLI', () => {
  it('creates, reads, updates under ifMatch (412 stale), lists and reads versions through the client', async () => {
    const af = createClient({ url: server.url, key: ADMIN });
    const doc = await af.documents.create({ scopeType: 'client', scopeId: 'c-1', type: 'memo', title: 'memo', content: 'one' });
    expect(doc.version).toBe(1);
    expect((await af.documents.update(doc.id, 1, { content: 'two' })).version).toBe(2);
    const stale = await af.documents.update(doc.id, 1, { content: 'three' }).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(ActorflowApiError);
    expect((stale as ActorflowApiError).status).toBe(412);
    expect((stale as ActorflowApiError).code).toBe('version_mismatch');
    expect((await af.documents.get(doc.id)).content).toBe('two');
    expect((await af.documents.list({ scopeType: 'client', scopeId: 'c-1' })).items.map((d) => d.id)).toEqual([doc.id]);
    expect((await af.documents.versions(doc.id)).items.map((v) => v.version)).toEqual([1, 2]);
    expect((await af.documents.version(doc.id, 1)).content).toBe('one');
  });

  it('runs documents create|put|get|versions|list, a stale --if-match exiting 4', async () => {
    const env = { ...process.env, ACTORFLOW_URL: server.url, ACTORFLOW_KEY: ADMIN, NO_COLOR: '1' };
    const cli = (...args: string[]) => runCli(args, env, dir);
    const created = await cli('documents', 'create', '--scope-type', 'cli', '--scope-id', 'x-1', '--type', 'note', '--title', 'from the cli', '--content', '{"a":1}', '--json');
    expect(created.code, created.stderr).toBe(0);
    const id = JSON.parse(created.stdout).id as string;
    const put = await cli('documents', 'put', id, '--if-match', '1', '--status', 'final', '--json');
    expect(put.code, put.stderr).toBe(0);
    expect(JSON.parse(put.stdout)).toMatchObject({ version: 2, status: 'final', content: { a: 1 } });
    const stale = await cli('documents', 'put', id, '--if-match', '1', '--title', 'late');
    expect(stale.code).toBe(4);
    expect(stale.stderr).toContain('412 version_mismatch');
    expect((await cli('documents', 'put', id, '--title', 'x')).code).toBe(2);
    const got = await cli('documents', 'get', id, '--version', '1');
    expect(got.code).toBe(0);
    expect(got.stdout).toContain('status:');
    expect(got.stdout).toContain('"a": 1');
    const versions = await cli('documents', 'versions', id);
    expect(versions.stdout).toMatch(/VERSION[\s\S]*\b2\b/);
    const listed = await cli('documents', 'list', '--scope-type', 'cli', '--scope-id', 'x-1', '--json');
    expect(JSON.parse(listed.stdout).items.map((d: any) => d.id)).toEqual([id]);
  });
});
