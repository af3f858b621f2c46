/** Security: JWTs verified against a JWKS file (RS256), and the per-credential WebSocket cap. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../support/http.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { connectWs, type WsClient } from '../support/ws-client.ts';

const ADMIN = 'test-admin-key-0123456789abcdef';
const AUDIENCE = 'actorflow-jwks-tests';
const ISSUER = 'https://issuer.jwks.test';
const KID = 'test-key-1';
type KeyLike = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

let dir: string;
let server: TestServer;
let signingKey: KeyLike;
let otherKey: KeyLike;

const sign = (claims: Record<string, unknown>, key: KeyLike = signingKey, kid = KID) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).setIssuedAt().setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('5m').setSubject('jwks-user').sign(key);

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'actorflow-jwks-'));
  const pair = await generateKeyPair('RS256');
  signingKey = pair.privateKey;
  otherKey = (await generateKeyPair('RS256')).privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: KID, alg: 'RS256', use: 'sig' };
  const jwks = join(dir, 'jwks.json');
  await writeFile(jwks, JSON.stringify({ keys: [jwk] }));
  server = await startTestServer({ adminKey: ADMIN, jwt: { jwks, audience: AUDIENCE, issuer: ISSUER }, maxSocketsPerCredential: 2 });
});

afterAll(async () => {
  await server?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('JWKS', () => {
  it('accepts a token signed by a key of the JWKS', async () => {
    const token = await sign({ tenant: 'jwks-tenant', scope: 'read' });
    const res = await api(server.url).get('/executions', bearer(token));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  });

  it('refuses a token signed by another key with 401 unauthorized', async () => {
    for (const token of [await sign({ tenant: 'jwks-tenant', scope: 'read' }, otherKey), await sign({ tenant: 'jwks-tenant', scope: 'read' }, otherKey, 'unknown-kid')]) {
      const res = await api(server.url).get('/executions', bearer(token));
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('unauthorized');
    }
  });

  it('refuses a write route to a read-scoped token with 403', async () => {
    const token = await sign({ tenant: 'jwks-tenant', scope: 'read' });
    const res = await api(server.url).post('/workflow-definitions', { name: 'jwks-flow', steps: [{ id: 'a', type: 'task', agent: 'echo', input: {} }] }, bearer(token));
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('forbidden');
  });
});

describe('WebSocket cap per credential', () => {
  it('refuses the socket past the cap with a 429 problem, and accepts one again after a close', async () => {
    const res = await api(server.url).post('/api-keys', { name: 'ws-cap', scopes: ['read'] }, bearer(ADMIN));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const headers = { authorization: `Bearer ${res.body.key as string}` };
    const open: WsClient[] = [];
    try {
      open.push(await connectWs(server.url, '/api/v1/ws', { headers }));
      open.push(await connectWs(server.url, '/api/v1/ws', { headers }));

      const refused = (await connectWs(server.url, '/api/v1/ws', { headers }).then(
        (c) => {
          open.push(c);
          throw new Error('the third socket was accepted');
        },
        (err: unknown) => err,
      )) as { status?: number; body?: string };
      expect(refused.status).toBe(429);
      const problem = JSON.parse(refused.body ?? '{}') as { code?: string; detail?: string };
      expect(problem.code).toBe('rate_limited');
      expect(problem.detail).toMatch(/Too many open WebSockets/);

      // Another credential is not affected.
      const admin = await connectWs(server.url, '/api/v1/ws', { headers: { authorization: `Bearer ${ADMIN}` } });
      open.push(admin);

      await (open.shift() as WsClient).close();
      // The server counts the close when its `close` handler runs; wait until the hub saw it.
      const deadline = Date.now() + 5000;
      while (server.streamStats().sockets > 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      open.push(await connectWs(server.url, '/api/v1/ws', { headers }));
    } finally {
      await Promise.all(open.map((c) => c.close()));
    }
  });
});
