/**
 * @module tests/integration/templates — every /workflow-templates route and every error code over real HTTP:
 * versions, three levels of `extends`, each kind of placeholder, cycles, unknown parents, parameters,
 * instantiation, starts with `{ template, params }`, tenants, the machines directory and a restart.
 */
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Api, type ApiResponse, createKey, withKey } from '../support/http.ts';
import { type TestServer, startTestServer } from '../support/server.ts';
import { waitForEnd, waitForStatus } from '../support/wait.ts';

const ADMIN = 'test-admin-key-templates-0123456789abcdef';
let server: TestServer;
let machinesDir: string;
let admin: Api;
let acme: Api;
let seq = 0;
const run = Date.now().toString(36);
/** A name no other test uses. */
const unique = (label: string) => `${label}-${run}-${++seq}`;

function expectProblem(res: ApiResponse, status: number, code: string, path?: string): { path: string; message: string }[] {
  expect(res.status, res.text).toBe(status);
  expect(res.contentType).toContain('application/problem+json');
  expect(res.body).toMatchObject({ status, code, type: `https://actorflow.dev/errors/${code}` });
  const errors = res.body.errors as { path: string; message: string }[];
  if (path !== undefined) expect(errors.map((e) => e.path), res.text).toContain(path);
  return errors;
}

const echo = (id: string, input: unknown = {}) => ({ id, type: 'task', agent: 'echo', input });

/** base ← mid ← leaf: three levels, each adding parameters and steps, replacing others. */
async function threeLevels(): Promise<{ base: string; mid: string; leaf: string }> {
  const base = unique('base');
  const mid = unique('mid');
  const leaf = unique('leaf');
  const created = [
    await admin.post('/workflow-templates', {
      name: base,
      description: 'the base',
      parameters: {
        type: 'object',
        properties: { a: { type: 'integer', default: 1 }, b: { type: 'string', default: 'x' }, opt: { type: 'string' } },
      },
      timeoutMs: 60_000,
      steps: [echo('s1', { n: '${params.a}' }), echo('s2', { from: 'base' })],
      output: { from: 'base' },
    }),
    await admin.post('/workflow-templates', {
      name: mid,
      extends: base,
      parameters: {
        properties: { a: { type: 'integer', minimum: 1, default: 2 }, c: { type: 'object', default: { k: 'v' } }, ms: { type: 'integer', default: 5000 } },
      },
      steps: [{ ...echo('s2', '${params.c}'), timeoutMs: '${params.ms}' }, echo('s3', { label: 'item-${params.b}-${params.a}', gone: '${params.opt}', text: 'opt=[${params.opt}]' })],
    }),
    await admin.post('/workflow-templates', {
      name: leaf,
      extends: `${mid}@1`,
      parameters: { properties: { d: { type: 'string', minLength: 1 } }, required: ['d'] },
      steps: [echo('s1', { n: '${params.a}', d: '${params.d}' }), echo('s4', { d: '${params.d}' })],
      output: { s1: '$.steps.s1.output', s2: '$.steps.s2.output', s3: '$.steps.s3.output', s4: '$.steps.s4.output' },
    }),
  ];
  for (const res of created) expect(res.status, res.text).toBe(201);
  return { base, mid, leaf };
}

beforeAll(async () => {
  // The example templates, the child first by file name: it must wait for its parent.
  machinesDir = await mkdtemp(join(tmpdir(), 'actorflow-templates-'));
  await copyFile('machines/review.template.yaml', join(machinesDir, 'review.template.yaml'));
  await copyFile('machines/urgent-review.template.yaml', join(machinesDir, '0-urgent-review.template.yaml'));
  server = await startTestServer({ adminKey: ADMIN, machinesDir });
  admin = withKey(server.url, ADMIN);
  acme = withKey(server.url, await createKey(admin, ['write'], 'acme'));
});

afterAll(async () => {
  await server?.close();
  await rm(machinesDir, { recursive: true, force: true });
});

describe('the machines directory', () => {
  it('loads *.template.yaml files as templates (parents first), not as definitions', async () => {
    const urgent = await admin.get('/workflow-templates/urgent-review');
    expect(urgent.status, urgent.text).toBe(200);
    expect(urgent.body).toMatchObject({ name: 'urgent-review', version: 1, extends: 'review@1' });
    expect(urgent.body.parameters.required).toEqual(['reviewer']);
    expect(urgent.body.parameters.properties.reviewer.default).toBe('on-call');
    expect(urgent.body.document.steps.map((s: { id: string }) => s.id)).toEqual(['prepare', 'decide', 'record', 'notify']);
    expect(urgent.body.document.steps[1]).toMatchObject({ onError: 'skip', timeoutMs: '${params.waitMs}' });
    const listed = await admin.get('/workflow-templates', { query: { name: 'review' } });
    expect(listed.body.items.map((t: { name: string }) => t.name)).toEqual(['review']);
    expect((await admin.get('/workflow-definitions/review')).status).toBe(404);
  });

  it('runs the example child template: defaults filled in, the replaced step skips on its timeout', async () => {
    const res = await admin.post('/executions', { template: 'urgent-review', params: { waitMs: 1000 }, input: { item: 'd-1' } });
    expect(res.status, res.text).toBe(201);
    expect(res.body.template).toEqual({ name: 'urgent-review', version: 1 });
    const done = await waitForEnd(server.engine, res.body.id);
    expect(done.status).toBe('completed');
    const steps = (await admin.get(`/executions/${res.body.id}/steps`)).body.items as { stepId: string; status: string; output: unknown }[];
    expect(steps.find((s) => s.stepId === 'decide')?.status).toBe('skipped');
    expect(steps.find((s) => s.stepId === 'notify')?.output).toMatchObject({ channel: '#urgent', item: 'd-1' });
  });
});

describe('POST /workflow-templates: versions', () => {
  const doc = (name: string, extra: Record<string, unknown> = {}) => ({ name, steps: [echo('a')], ...extra });

  it('creates version 1, then latest+1 (201); an identical explicit version is 200, a different one 409', async () => {
    const name = unique('ver');
    const first = await admin.post('/workflow-templates', doc(name));
    expect(first.status, first.text).toBe(201);
    expect(first.body).toMatchObject({ name, version: 1, extends: null, description: null, parameters: { type: 'object', properties: {} } });
    expect(first.body.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(first.body.document).toEqual({ name, steps: [echo('a')] });
    const second = await admin.post('/workflow-templates', doc(name, { description: 'two' }));
    expect(second.status).toBe(201);
    expect(second.body).toMatchObject({ version: 2, description: 'two' });
    const same = await admin.post('/workflow-templates', doc(name, { description: 'two', version: 2 }));
    expect(same.status, same.text).toBe(200);
    expect(same.body.version).toBe(2);
    expectProblem(await admin.post('/workflow-templates', doc(name, { version: 2 })), 409, 'version_exists');
    expect((await admin.post('/workflow-templates', doc(name, { version: 5 }))).body.version).toBe(5);
    expectProblem(await admin.post('/workflow-templates', doc(name, { version: 4 })), 409, 'version_conflict');
    expect((await admin.get(`/workflow-templates/${name}`)).body.version).toBe(5);
    expect((await admin.get(`/workflow-templates/${name}`, { query: { version: 2 } })).body.description).toBe('two');
    expectProblem(await admin.get(`/workflow-templates/${name}`, { query: { version: 3 } }), 404, 'template_not_found');
  });

  it('takes YAML', async () => {
    const name = unique('yaml');
    const yaml = `name: ${name}\nparameters:\n  properties:\n    who: { type: string, default: ada }\nsteps:\n  - { id: a, type: task, agent: echo, input: { who: "\${params.who}" } }\n`;
    const res = await admin.post('/workflow-templates', undefined, { rawBody: yaml, headers: { 'content-type': 'application/yaml' } });
    expect(res.status, res.text).toBe(201);
    expect(res.body.document.steps[0].input).toEqual({ who: '${params.who}' });
  });

  it('refuses a body without a name or with fields of the wrong type (422 validation_failed)', async () => {
    expectProblem(await admin.post('/workflow-templates', { steps: [] }), 422, 'validation_failed', '/name');
    expectProblem(await admin.post('/workflow-templates', { name: unique('t'), extends: 3, parameters: [] }), 422, 'validation_failed', '/extends');
  });
});

describe('inheritance', () => {
  it('resolves three levels: parameters merged (child wins), fields replaced, steps replaced in place or appended', async () => {
    const { base, mid, leaf } = await threeLevels();
    const res = await admin.get(`/workflow-templates/${leaf}`);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ name: leaf, version: 1, extends: `${mid}@1`, description: 'the base' });
    expect(res.body.parameters).toEqual({
      type: 'object',
      properties: {
        a: { type: 'integer', minimum: 1, default: 2 },
        b: { type: 'string', default: 'x' },
        opt: { type: 'string' },
        c: { type: 'object', default: { k: 'v' } },
        ms: { type: 'integer', default: 5000 },
        d: { type: 'string', minLength: 1 },
      },
      required: ['d'],
    });
    const doc = res.body.document;
    expect(doc.name).toBe(leaf);
    expect(doc.timeoutMs).toBe(60_000);
    expect(doc.steps.map((s: { id: string }) => s.id)).toEqual(['s1', 's2', 's3', 's4']);
    expect(doc.steps[0].input).toEqual({ n: '${params.a}', d: '${params.d}' });
    expect(doc.steps[1]).toMatchObject({ input: '${params.c}', timeoutMs: '${params.ms}' });
    expect(doc.output).toMatchObject({ s4: '$.steps.s4.output' });
    // Its parent still reads as itself.
    const middle = (await admin.get(`/workflow-templates/${mid}`)).body;
    expect(middle.extends).toBe(`${base}@1`);
    expect(middle.document.output).toEqual({ from: 'base' });
  });

  it('pins `extends` without a version to the latest version of the parent at creation', async () => {
    const parent = unique('pin');
    await admin.post('/workflow-templates', { name: parent, steps: [echo('a', { v: 1 })] });
    const child = unique('pinned');
    expect((await admin.post('/workflow-templates', { name: child, extends: parent })).body.extends).toBe(`${parent}@1`);
    await admin.post('/workflow-templates', { name: parent, steps: [echo('a', { v: 2 })] });
    const read = (await admin.get(`/workflow-templates/${child}`)).body;
    expect(read.extends).toBe(`${parent}@1`);
    expect(read.document.steps[0].input).toEqual({ v: 1 });
  });

  it('refuses a cycle (a template extending itself, directly or through others): 422 template_invalid at /extends', async () => {
    const a = unique('cyc-a');
    const b = unique('cyc-b');
    expect((await admin.post('/workflow-templates', { name: a, steps: [echo('x')] })).status).toBe(201);
    expect((await admin.post('/workflow-templates', { name: b, extends: a })).status).toBe(201);
    const loop = expectProblem(await admin.post('/workflow-templates', { name: a, extends: b }), 422, 'template_invalid', '/extends');
    expect(loop[0]?.message).toContain(`a cycle: ${a} → ${b} → ${a}`);
    expectProblem(await admin.post('/workflow-templates', { name: a, extends: a }), 422, 'template_invalid', '/extends');
    expect((await admin.get(`/workflow-templates/${a}`)).body.version).toBe(1);
  });

  it('refuses an unknown parent or parent version, and a malformed extends: 422 template_invalid at /extends', async () => {
    const parent = unique('known');
    await admin.post('/workflow-templates', { name: parent, steps: [echo('x')] });
    const unknown = expectProblem(await admin.post('/workflow-templates', { name: unique('orphan'), extends: unique('nobody') }), 422, 'template_invalid', '/extends');
    expect(unknown[0]?.message).toContain('unknown parent');
    expectProblem(await admin.post('/workflow-templates', { name: unique('orphan'), extends: `${parent}@9` }), 422, 'template_invalid', '/extends');
    expectProblem(await admin.post('/workflow-templates', { name: unique('orphan'), extends: `${parent}@x y` }), 422, 'template_invalid', '/extends');
  });

  it('allows chains of 8 templates, not 9', async () => {
    let parent = unique('chain');
    expect((await admin.post('/workflow-templates', { name: parent, steps: [echo('s0')] })).status).toBe(201);
    for (let level = 2; level <= 8; level++) {
      const name = unique('chain');
      const res = await admin.post('/workflow-templates', { name, extends: parent, steps: [echo(`s${level}`)] });
      expect(res.status, res.text).toBe(201);
      parent = name;
    }
    expect((await admin.get(`/workflow-templates/${parent}`)).body.document.steps).toHaveLength(8);
    const errors = expectProblem(await admin.post('/workflow-templates', { name: unique('chain'), extends: parent }), 422, 'template_invalid', '/extends');
    expect(errors[0]?.message).toContain('at most 8');
  });

  it('points the flow validator\'s issues at the request: own steps at their index, inherited parts at /extends', async () => {
    const parent = unique('val-parent');
    await admin.post('/workflow-templates', { name: parent, steps: [echo('p1'), echo('p2')] });
    const own = expectProblem(await admin.post('/workflow-templates', { name: unique('val'), extends: parent, steps: [echo('new'), { id: 'p2', type: 'task', agent: 'echo', next: 'nowhere' }] }), 422, 'template_invalid');
    expect(own.map((e) => e.path)).toContain('/steps/1/next');
    const inherited = expectProblem(await admin.post('/workflow-templates', { name: unique('val'), extends: parent, steps: [{ id: 'p1', type: 'task', agent: 'echo', next: 'p1' }] }), 422, 'template_invalid');
    expect(inherited.map((e) => e.path).every((p) => p.startsWith('/steps/0') || p === '/extends')).toBe(true);
    expectProblem(await admin.post('/workflow-templates', { name: unique('val') }), 422, 'template_invalid', '/steps');
  });
});

describe('parameters and placeholders', () => {
  it('refuses placeholders of undeclared parameters, malformed ones, and placeholders as step ids', async () => {
    const errors = expectProblem(
      await admin.post('/workflow-templates', {
        name: unique('ph'),
        parameters: { properties: { known: { type: 'string', default: 'k' } } },
        steps: [echo('a', { x: '${params.unknown}', y: 'has ${params.bad-name}' }), echo('${params.known}')],
      }),
      422,
      'template_invalid',
    );
    expect(errors.map((e) => e.path).sort()).toEqual(['/steps/0/input/x', '/steps/0/input/y', '/steps/1/id']);
  });

  it('refuses bad parameter schemas and defaults that do not match them', async () => {
    expectProblem(await admin.post('/workflow-templates', { name: unique('p'), parameters: { type: 'string' }, steps: [echo('a')] }), 422, 'template_invalid', '/parameters/type');
    expectProblem(await admin.post('/workflow-templates', { name: unique('p'), parameters: { properties: { n: { type: 'integer', default: 'one' } } }, steps: [echo('a')] }), 422, 'template_invalid', '/parameters/properties/n/default');
    expectProblem(await admin.post('/workflow-templates', { name: unique('p'), parameters: { properties: { 'no-dash': { type: 'string' } } }, steps: [echo('a')] }), 422, 'template_invalid', '/parameters/properties/no-dash');
    expectProblem(await admin.post('/workflow-templates', { name: unique('p'), parameters: { properties: { n: { type: 'nonsense' } } }, steps: [echo('a')] }), 422, 'template_invalid', '/parameters');
  });

  it('checks the flow with the defaults in: a default that makes it invalid is refused, a parameter without one waits', async () => {
    const bad = expectProblem(
      await admin.post('/workflow-templates', { name: unique('def'), parameters: { properties: { t: { type: 'integer', default: 0 } } }, timeoutMs: '${params.t}', steps: [echo('a')] }),
      422,
      'template_invalid',
    );
    expect(bad.map((e) => e.path)).toContain('/timeoutMs');
    const deferred = await admin.post('/workflow-templates', { name: unique('def'), parameters: { properties: { t: { type: 'integer' } }, required: ['t'] }, timeoutMs: '${params.t}', steps: [echo('a')] });
    expect(deferred.status, deferred.text).toBe(201);
    // With a value that makes the flow invalid, the instantiation says so under /params.
    const made = await admin.post(`/workflow-templates/${deferred.body.name}/instantiate`, { name: unique('def-made'), params: { t: -1 } });
    expect(expectProblem(made, 422, 'validation_failed', '/params')[0]?.message).toContain('/timeoutMs');
  });
});

describe('POST /workflow-templates/{name}/instantiate', () => {
  it('registers a definition with every placeholder substituted (whole values keep their type), marked source: template', async () => {
    const { leaf } = await threeLevels();
    const name = unique('made');
    const res = await admin.post(`/workflow-templates/${leaf}/instantiate`, { name, params: { d: 'dee' } });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ name, version: 1, source: 'template', template: { name: leaf, version: 1, params: { a: 2, b: 'x', c: { k: 'v' }, ms: 5000, d: 'dee' } } });
    const steps = res.body.document.steps;
    expect(steps[0].input).toEqual({ n: 2, d: 'dee' }); // whole value: a number
    expect(steps[1]).toMatchObject({ input: { k: 'v' }, timeoutMs: 5000 }); // whole value: an object, a number
    expect(steps[2].input).toEqual({ label: 'item-x-2', text: 'opt=[]' }); // inside strings; an absent whole value drops its field
    expect(res.body.document.name).toBe(name);
    // The definition is a definition like any other: read, versioned, started.
    expect((await admin.get(`/workflow-definitions/${name}`)).body).toMatchObject({ source: 'template', template: { name: leaf, version: 1 } });
    const again = await admin.post(`/workflow-templates/${leaf}/instantiate`, { name, params: { d: 'two', opt: 'o' } });
    expect(again.body.version).toBe(2);
    expect(again.body.document.steps[2].input).toEqual({ label: 'item-x-2', gone: 'o', text: 'opt=[o]' });
    const started = await admin.post('/executions', { workflow: name, version: 1 });
    expect((await waitForEnd(server.engine, started.body.id)).output).toMatchObject({ s1: { n: 2, d: 'dee' }, s2: { k: 'v' } });
  });

  it('takes the template name by default and ?version= for an older template version', async () => {
    const name = unique('inst');
    await admin.post('/workflow-templates', { name, steps: [echo('a', { v: 1 })] });
    await admin.post('/workflow-templates', { name, steps: [echo('a', { v: 2 })] });
    const res = await admin.post(`/workflow-templates/${name}/instantiate`, {}, { query: { version: 1 } });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ name, template: { name, version: 1, params: {} } });
    expect(res.body.document.steps[0].input).toEqual({ v: 1 });
  });

  it('validates params against the merged parameters: paths under /params', async () => {
    const { leaf } = await threeLevels();
    const missing = expectProblem(await admin.post(`/workflow-templates/${leaf}/instantiate`, { name: unique('x') }), 422, 'validation_failed', '/params/d');
    expect(missing).toHaveLength(1);
    const wrong = expectProblem(await admin.post(`/workflow-templates/${leaf}/instantiate`, { name: unique('x'), params: { d: 'ok', a: 0, c: 'not an object' } }), 422, 'validation_failed');
    expect(wrong.map((e) => e.path).sort()).toEqual(['/params/a', '/params/c']);
    expectProblem(await admin.post(`/workflow-templates/${leaf}/instantiate`, { name: 'not a name!' }), 422, 'validation_failed', '/name');
    expectProblem(await admin.post(`/workflow-templates/${unique('none')}/instantiate`, { name: unique('x') }), 404, 'template_not_found');
    expectProblem(await admin.post(`/workflow-templates/${leaf}/instantiate`, { name: unique('x'), params: { d: 'ok' } }, { query: { version: 7 } }), 404, 'template_not_found');
  });
});

describe('POST /executions with a template', () => {
  it('runs the template like a one-off definition, with execution.template, defaults filled in', async () => {
    const { leaf } = await threeLevels();
    const res = await admin.post('/executions', { template: leaf, params: { d: 'dee', a: 7 }, input: { any: 1 } }, { query: { wait: 10_000 } });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ workflow: leaf, status: 'completed', template: { name: leaf, version: 1 } });
    expect(res.body.output).toEqual({ s1: { n: 7, d: 'dee' }, s2: { k: 'v' }, s3: { label: 'item-x-7', text: 'opt=[]' }, s4: { d: 'dee' } });
    // Read back from the store, and in lists.
    expect((await admin.get(`/executions/${res.body.id}`)).body.template).toEqual({ name: leaf, version: 1 });
    const listed = (await admin.get('/executions', { query: { workflow: leaf } })).body.items as { id: string; template?: unknown }[];
    expect(listed.find((x) => x.id === res.body.id)?.template).toEqual({ name: leaf, version: 1 });
    // An execution of a registered workflow shows no template.
    expect((await admin.post('/executions', { definition: { name: unique('plain'), steps: [echo('a')] } })).body).not.toHaveProperty('template');
  });

  it('answers 422 for an unknown template or version, bad params, and template mixed with workflow or definition', async () => {
    const { leaf } = await threeLevels();
    expectProblem(await admin.post('/executions', { template: unique('none') }), 422, 'template_not_found', '/template');
    expectProblem(await admin.post('/executions', { template: leaf, templateVersion: 4, params: { d: 'x' } }), 422, 'template_not_found', '/templateVersion');
    expectProblem(await admin.post('/executions', { template: leaf }), 422, 'validation_failed', '/params/d');
    expectProblem(await admin.post('/executions', { template: leaf, workflow: 'x', params: { d: 'x' } }), 422, 'validation_failed', '/template');
    expectProblem(await admin.post('/executions', { workflow: 'x', params: {} }), 422, 'validation_failed', '/params');
    expectProblem(await admin.post('/executions', { workflow: 'x', templateVersion: 1 }), 422, 'validation_failed', '/templateVersion');
  });
});

describe('GET /workflow-templates/{name}/diagram', () => {
  it('draws the resolved document as Mermaid text, or JSON', async () => {
    const { leaf } = await threeLevels();
    const text = await admin.get(`/workflow-templates/${leaf}/diagram`);
    expect(text.status, text.text).toBe(200);
    expect(text.contentType).toContain('text/vnd.mermaid');
    expect(text.text.startsWith('stateDiagram-v2\n')).toBe(true);
    for (const id of ['s1', 's2', 's3', 's4']) expect(text.text).toContain(`as ${id}`);
    const json = await admin.get(`/workflow-templates/${leaf}/diagram`, { query: { format: 'json', version: 1 } });
    expect(json.body).toEqual({ mermaid: text.text });
    expectProblem(await admin.get(`/workflow-templates/${unique('none')}/diagram`), 404, 'template_not_found');
  });
});

describe('DELETE /workflow-templates/{name}', () => {
  it('deletes one version or all; numbers are never reused; definitions, executions and children are unaffected', async () => {
    const name = unique('del');
    await admin.post('/workflow-templates', { name, steps: [echo('a', { v: 1 })] });
    await admin.post('/workflow-templates', { name, steps: [echo('a', { v: 2 })] });
    const child = unique('del-child');
    expect((await admin.post('/workflow-templates', { name: child, extends: name, steps: [echo('b')] })).status).toBe(201);
    const made = await admin.post(`/workflow-templates/${name}/instantiate`, { name: unique('del-made') });
    const started = await admin.post('/executions', { template: name }, { query: { wait: 10_000 } });

    await admin.post('/workflow-templates', { name, steps: [echo('a', { v: 3 })] });
    const versions = async (query: Record<string, string | number> = {}) => (await admin.get(`/workflow-templates/${name}/versions`, { query })).body;
    const page1 = await versions({ limit: 2 });
    expect(page1.items.map((t: { version: number }) => t.version)).toEqual([1, 2]);
    expect((await versions({ limit: 2, cursor: page1.nextCursor })).items.map((t: { version: number }) => t.version)).toEqual([3]);
    expect((await admin.del(`/workflow-templates/${name}`, { query: { version: 3 } })).status).toBe(204);
    const one = await admin.del(`/workflow-templates/${name}`, { query: { version: 2 } });
    expect(one.status, one.text).toBe(204);
    // The versions list leaves deleted ones out.
    expect(await versions()).toEqual({ items: [expect.objectContaining({ name, version: 1, extends: null })], nextCursor: null });
    expect(one.text).toBe('');
    expect((await admin.get(`/workflow-templates/${name}`)).body.version).toBe(1);
    expectProblem(await admin.get(`/workflow-templates/${name}`, { query: { version: 2 } }), 404, 'template_not_found');
    expectProblem(await admin.del(`/workflow-templates/${name}`, { query: { version: 2 } }), 404, 'template_not_found');

    expect((await admin.del(`/workflow-templates/${name}`)).status).toBe(204);
    expectProblem(await admin.get(`/workflow-templates/${name}`), 404, 'template_not_found');
    expectProblem(await admin.get(`/workflow-templates/${name}/versions`), 404, 'template_not_found');
    expectProblem(await admin.del(`/workflow-templates/${name}`), 404, 'template_not_found');
    const listed = async (prefix: string) => (await admin.get('/workflow-templates', { query: { name: prefix } })).body.items.map((t: { name: string }) => t.name);
    expect(await listed(name)).toEqual([]);
    expect(await listed(child)).toEqual([child]);
    expectProblem(await admin.post('/workflow-templates', { name: unique('late'), extends: name }), 422, 'template_invalid', '/extends');
    expectProblem(await admin.post('/workflow-templates', { name, version: 2, steps: [echo('a', { v: 2 })] }), 409, 'version_exists');

    expect((await admin.get(`/workflow-templates/${child}`)).body.document.steps.map((s: { id: string }) => s.id)).toEqual(['a', 'b']);
    expect((await admin.get(`/workflow-definitions/${made.body.name}`)).status).toBe(200);
    expect((await admin.get(`/executions/${started.body.id}`)).body).toMatchObject({ status: 'completed', template: { name, version: 2 } });
    expect((await admin.post('/workflow-templates', { name, steps: [echo('a')] })).body.version).toBe(4);
  });
});

describe('GET /workflow-templates', () => {
  it('lists the latest version of each, by name, paged, with ?name= as a prefix', async () => {
    const prefix = unique('list');
    for (const n of ['b', 'a', 'c']) await admin.post('/workflow-templates', { name: `${prefix}-${n}`, steps: [echo('x')] });
    await admin.post('/workflow-templates', { name: `${prefix}-a`, description: 'latest', steps: [echo('x')] });
    const first = await admin.get('/workflow-templates', { query: { name: prefix, limit: 2 } });
    expect(first.status).toBe(200);
    expect(first.body.items.map((t: { name: string; version: number }) => `${t.name}@${t.version}`)).toEqual([`${prefix}-a@2`, `${prefix}-b@1`]);
    expect(first.body.items[0]).toEqual({ name: `${prefix}-a`, version: 2, description: 'latest', extends: null, parameters: { type: 'object', properties: {} }, createdAt: expect.any(String) });
    const second = await admin.get('/workflow-templates', { query: { name: prefix, limit: 2, cursor: first.body.nextCursor } });
    expect(second.body).toEqual({ items: [expect.objectContaining({ name: `${prefix}-c` })], nextCursor: null });
    expectProblem(await admin.get('/workflow-templates', { query: { limit: 0 } }), 422, 'validation_failed', '/query/limit');
  });
});

describe('tenants', () => {
  it("answers 404 for another tenant's template on every route, and keeps names apart", async () => {
    const { leaf } = await threeLevels();
    expectProblem(await acme.get(`/workflow-templates/${leaf}`), 404, 'template_not_found');
    expectProblem(await acme.get(`/workflow-templates/${leaf}/diagram`), 404, 'template_not_found');
    expectProblem(await acme.post(`/workflow-templates/${leaf}/instantiate`, { name: 'x', params: { d: 'x' } }), 404, 'template_not_found');
    expectProblem(await acme.del(`/workflow-templates/${leaf}`), 404, 'template_not_found');
    expectProblem(await acme.post('/executions', { template: leaf, params: { d: 'x' } }), 422, 'template_not_found', '/template');
    expectProblem(await acme.post('/workflow-templates', { name: unique('acme'), extends: leaf }), 422, 'template_invalid', '/extends');
    expect((await acme.get('/workflow-templates', { query: { name: leaf } })).body.items).toEqual([]);
    // acme's own template of the same name is its version 1, and default's is unchanged.
    expect((await acme.post('/workflow-templates', { name: leaf, steps: [echo('mine')] })).body.version).toBe(1);
    expect((await admin.get(`/workflow-templates/${leaf}`)).body.document.steps).toHaveLength(4);
  });
});

describe('a restart', () => {
  it('keeps templates, deletions and version numbers, and an execution started from a template resumes', async () => {
    const first = await startTestServer({ keepDataDir: true });
    const dataDir = first.dataDir;
    const client = withKey(first.url, 'unused');
    await client.post('/workflow-templates', { name: 'kept', steps: [echo('a')] });
    await client.post('/workflow-templates', { name: 'kept', extends: 'kept@1', steps: [echo('b')] }).then((r) => expect(r.status).toBe(422));
    await client.post('/workflow-templates', { name: 'kept-child', extends: 'kept', steps: [echo('b')] });
    await client.post('/workflow-templates', { name: 'kept', steps: [echo('a2')] });
    expect((await client.del('/workflow-templates/kept', { query: { version: 2 } })).status).toBe(204);
    await client.post('/workflow-templates', { name: 'gate', parameters: { properties: { n: { type: 'integer', default: 3 } } }, steps: [{ id: 'w', type: 'wait', signal: 'go' }, echo('after', { n: '${params.n}' })] });
    const waiting = await client.post('/executions', { template: 'gate', params: { n: 4 } });
    await waitForStatus(first.engine, waiting.body.id, 'waiting');
    await first.close();
    const second = await startTestServer({ dataDir });
    try {
      const again = withKey(second.url, 'unused');
      expect((await again.get('/workflow-templates/kept')).body.version).toBe(1);
      expect((await again.get('/workflow-templates/kept-child')).body).toMatchObject({ extends: 'kept@1', document: { steps: [echo('a'), echo('b')] } });
      expect((await again.post('/workflow-templates', { name: 'kept', steps: [echo('a3')] })).body.version).toBe(3);
      expect((await again.get(`/executions/${waiting.body.id}`)).body).toMatchObject({ status: 'waiting', template: { name: 'gate', version: 1 } });
      expect((await again.post(`/executions/${waiting.body.id}/signals/go`, { payload: {} })).status).toBe(202);
      const done = await waitForEnd(second.engine, waiting.body.id);
      expect(done).toMatchObject({ status: 'completed', template: { name: 'gate', version: 1 } });
      expect((await again.get(`/executions/${waiting.body.id}/steps`)).body.items.find((x: { stepId: string }) => x.stepId === 'after').output).toEqual({ n: 4 });
    } finally {
      await second.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
