/**
 * TLS on the listener: HTTPS and WSS from PEM files, client certificates required under mTLS,
 * no plain HTTP on a TLS port, the typed client and the CLI with a CA file, clear startup errors.
 * The CA and certificates are made for the run (tests/support/tls-certs.ts).
 */
import { spawn } from 'node:child_process';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TlsConfigError } from '../../src/api/http/tls-files.ts';
import { ConfigError, readServeConfig } from '../../src/cli/config.ts';
import { createClient } from '../../src/client/index.ts';
import { tlsFetch } from '../../src/client/tls-fetch.ts';
import type { EventView } from '../../src/common/execution.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { type Pem, type TestCerts, makeTestCerts } from '../support/tls-certs.ts';
import { connectWs } from '../support/ws-client.ts';

let certs: TestCerts;

beforeAll(async () => {
  certs = await makeTestCerts();
}, 20_000);

afterAll(async () => {
  await certs?.remove();
});

interface Answer {
  readonly status: number;
  readonly body: string;
}

/** One GET over HTTPS (`tls`: ca, cert, key) or plain HTTP; rejects with the socket or TLS error when no HTTP answer comes. */
function getOnce(url: string, tls: { ca?: string; cert?: string; key?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const onAnswer = (res: import('node:http').IncomingMessage): void => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    };
    const req = url.startsWith('https:') ? httpsGet(url, { ...tls, agent: false }, onAnswer) : httpGet(url, { agent: false }, onAnswer);
    req.on('error', reject);
  });
}

const plainOf = (server: TestServer): string => server.url.replace(/^https:/, 'http:');
const mtlsOf = (p: Pem) => ({ ca: certs.ca.cert, cert: p.cert, key: p.key });

/** Starts a flow that completes at once, and waits for it with the typed client. */
async function runEcho(client: ReturnType<typeof createClient>, name: string): Promise<string> {
  await client.definitions.create({ name, steps: [{ id: 'a', type: 'task', agent: 'echo', input: { hello: 'tls' } }] });
  const result = await client.executions.run({ workflow: name, input: {} }, { timeout: '10s' });
  expect(result.state).toBe('completed');
  return result.execution.id;
}

/** The first event the WSS shortcut stream of `id` sends. */
async function firstWssEvent(server: TestServer, id: string, tls: { ca: string; cert?: string; key?: string }): Promise<EventView> {
  const ws = await connectWs(server.url, `/api/v1/ws/executions/${id}`, { wsOptions: tls });
  try {
    expect(ws.ws.url).toMatch(/^wss:\/\//);
    const frame = await ws.waitFor((f) => f.op === 'event', { what: 'an event over WSS' });
    return frame.event as EventView;
  } finally {
    await ws.close();
  }
}

describe('HTTPS with a certificate and key', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ tls: { certFile: certs.server.certFile, keyFile: certs.server.keyFile } });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('serves HTTPS to a client trusting the CA, and a client trusting only the system CAs refuses the certificate', async () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const ok = await getOnce(`${server.url}/api/v1/health`, { ca: certs.ca.cert });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toMatchObject({ status: 'ok' });
    await expect(getOnce(`${server.url}/api/v1/health`)).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  });

  it('does not answer plain HTTP on its port', async () => {
    await expect(getOnce(`${plainOf(server)}/api/v1/health`)).rejects.toThrow();
  });

  it('serves the typed client (tlsFetch with the CA), SSE, WSS and the dashboard', async () => {
    const client = createClient({ url: server.url, fetch: tlsFetch({ ca: certs.ca.cert }) });
    expect((await client.health()).status).toBe('ok');
    const id = await runEcho(client, 'tls-echo');
    const streamed: string[] = [];
    for await (const e of client.executions.watch(id)) streamed.push(e.type);
    expect(streamed.at(-1)).toBe('workflow.completed');
    expect((await firstWssEvent(server, id, { ca: certs.ca.cert })).executionId).toBe(id);
    const dashboard = await getOnce(`${server.url}/`, { ca: certs.ca.cert });
    expect(dashboard.status).toBe(200);
    // Without the CA the client cannot reach it: the certificate is really checked.
    await expect(createClient({ url: server.url }).health()).rejects.toMatchObject({ status: 0 });
  });
});

describe('mTLS: a CA file requires client certificates', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ tls: { certFile: certs.server.certFile, keyFile: certs.server.keyFile, caFile: certs.ca.certFile } });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('refuses the handshake of a client without a certificate, or with one of another CA', async () => {
    await expect(getOnce(`${server.url}/api/v1/health`, { ca: certs.ca.cert })).rejects.toMatchObject({ code: expect.stringMatching(/CERTIFICATE_REQUIRED|ECONNRESET/) });
    await expect(getOnce(`${server.url}/api/v1/health`, mtlsOf(certs.stranger))).rejects.toMatchObject({ code: expect.stringMatching(/UNKNOWN_CA|ECONNRESET/) });
    // The typed client is refused too, before any HTTP.
    await expect(createClient({ url: server.url, fetch: tlsFetch({ ca: certs.ca.cert }) }).health()).rejects.toMatchObject({ status: 0 });
  });

  it('does not answer plain HTTP on its port', async () => {
    await expect(getOnce(`${plainOf(server)}/api/v1/health`)).rejects.toThrow();
  });

  it('serves a client with a certificate of the CA: HTTPS, the typed client with SSE, WSS', async () => {
    expect((await getOnce(`${server.url}/api/v1/health`, mtlsOf(certs.client))).status).toBe(200);
    const client = createClient({ url: server.url, fetch: tlsFetch(mtlsOf(certs.client)) });
    const id = await runEcho(client, 'mtls-echo');
    const streamed: string[] = [];
    for await (const e of client.executions.watch(id)) streamed.push(e.type);
    expect(streamed.at(-1)).toBe('workflow.completed');
    expect((await firstWssEvent(server, id, mtlsOf(certs.client))).executionId).toBe(id);
  });

  it('serves the CLI given --ca, --client-cert and --client-key', async () => {
    const args = ['definitions', 'list', '--json', '--url', server.url, '--ca', certs.ca.certFile, '--client-cert', certs.client.certFile, '--client-key', certs.client.keyFile];
    const ok = await cli(args);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).items.map((d: { name: string }) => d.name)).toContain('mtls-echo');
  });
});

/** Runs the `actorflow` CLI with `args` (and `env`), to its exit. */
function cli(args: readonly string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: new URL('../..', import.meta.url), env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('a bad TLS configuration', () => {
  it('is a clear error before the server listens: unreadable file, key of another certificate', async () => {
    const missing = `${certs.dir}/missing.pem`;
    await expect(startTestServer({ tls: { certFile: missing, keyFile: certs.server.keyFile } })).rejects.toThrow(new TlsConfigError(`cannot read the TLS certificate file ${missing}: ENOENT: no such file or directory, open '${missing}'`));
    await expect(startTestServer({ tls: { certFile: certs.server.certFile, keyFile: certs.client.keyFile } })).rejects.toThrow(`the TLS key ${certs.client.keyFile} is not the key of the certificate ${certs.server.certFile}`);
    await expect(startTestServer({ tls: { certFile: certs.server.certFile, keyFile: certs.server.keyFile, caFile: certs.server.keyFile } })).rejects.toThrow(/TLS CA file .* does not hold a usable CA/);
  });

  it('only a certificate, only a key, or a CA without them is refused when the configuration is read', () => {
    const half = (env: NodeJS.ProcessEnv) => () => readServeConfig([], env);
    expect(half({ ACTORFLOW_TLS_CERT: certs.server.certFile })).toThrow(new ConfigError('ACTORFLOW_TLS_CERT and ACTORFLOW_TLS_KEY (--tls-cert, --tls-key) go together: only the certificate is set'));
    expect(() => readServeConfig(['--tls-key', certs.server.keyFile], {})).toThrow('go together: only the key is set');
    expect(half({ ACTORFLOW_TLS_CA: certs.ca.certFile })).toThrow(/ACTORFLOW_TLS_CA \(--tls-ca\) needs ACTORFLOW_TLS_CERT and ACTORFLOW_TLS_KEY/);
    expect(readServeConfig(['--tls-cert', 'c.pem', '--tls-key', 'k.pem'], { ACTORFLOW_TLS_CA: 'ca.pem' }).tls).toEqual({ certFile: 'c.pem', keyFile: 'k.pem', caFile: 'ca.pem' });
  });

  it('makes `actorflow serve` exit with one line naming the problem, not a stack trace', async () => {
    const serve = ['serve', '--port', '0', '--data-dir', `${certs.dir}/data`, '--machines', `${certs.dir}/none`, '--no-auth', '--quiet'];
    const unreadable = await cli([...serve, '--tls-cert', certs.server.certFile], { ACTORFLOW_TLS_KEY: `${certs.dir}/nope.key` });
    expect(unreadable.code).toBe(1);
    expect(unreadable.stderr).toMatch(/^actorflow: cannot read the TLS key file .*nope\.key: ENOENT[^\n]*\n$/);
  }, 30_000);
});
