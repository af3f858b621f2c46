/** Deep YAML bodies get 422 and never reach the parser: two in a row used to abort the process (V8 OOM after a stack overflow). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from '../support/http.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  await server?.close();
});

const yaml = (path: string, text: string) => request(server.url, 'POST', path, undefined, { rawBody: text, headers: { 'content-type': 'application/yaml' } });

describe('deep YAML bodies', () => {
  it('are answered 422 one after another while the server keeps serving', async () => {
    const bodies = [
      '{"a":'.repeat(21_000) + '1' + '}'.repeat(21_000),
      '['.repeat(27_000),
      Array.from({ length: 1_000 }, (_, i) => ' '.repeat(i * 2) + '-').join('\n'),
      Array.from({ length: 1_000 }, (_, i) => ' '.repeat(i) + 'a:').join('\n') + ' 1',
    ];
    for (const path of ['/api/v1/workflow-definitions/validate', '/api/v1/workflow-definitions']) {
      for (const body of bodies) {
        const res = await yaml(path, body);
        expect(res.status, res.text.slice(0, 200)).toBe(422);
        expect(res.body.code).toBe('validation_failed');
      }
    }
    expect((await request(server.url, 'GET', '/health')).status).toBe(200);
    expect((await yaml('/api/v1/workflow-definitions/validate', 'name: ok\nsteps:\n  - id: a\n    type: task\n    agent: echo\n')).status).toBe(200);
  });
});
