/** The webhook sender connects to the address the SSRF guard checked, never resolving again (DNS rebinding): the pinned lookup, and postPinned over real local sockets. */
import type { LookupAddress } from 'node:dns';
import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import { type Server as NetServer, createServer as createNetServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createAgentPool } from '../../src/webhooks/agent-pool.ts';
import { pinnedLookup } from '../../src/webhooks/pinned-lookup.ts';
import { postPinned } from '../../src/webhooks/send-delivery.ts';

type Answer = { err: NodeJS.ErrnoException | null; address: string | LookupAddress[]; family?: number | undefined };

const ask = (addresses: string[], options: Parameters<ReturnType<typeof pinnedLookup>>[1]): Answer => {
  let answer: Answer | undefined;
  // `.invalid` never resolves: an answer proves DNS was not asked.
  pinnedLookup(addresses)('rebind.invalid', options, (err, address, family) => (answer = { err, address, family }));
  if (answer === undefined) throw new Error('the lookup did not answer synchronously');
  return answer;
};

describe('pinnedLookup', () => {
  it('answers only the checked addresses, per family, single or all', () => {
    expect(ask(['127.0.0.1', '::1'], {})).toEqual({ err: null, address: '127.0.0.1', family: 4 });
    expect(ask(['127.0.0.1', '::1'], { all: true })).toEqual({ err: null, address: [{ address: '127.0.0.1', family: 4 }, { address: '::1', family: 6 }], family: undefined });
    expect(ask(['127.0.0.1', '::1'], { family: 6 })).toEqual({ err: null, address: '::1', family: 6 });
    expect(ask(['127.0.0.1', '::1'], { family: 'IPv4', all: true })).toEqual({ err: null, address: [{ address: '127.0.0.1', family: 4 }], family: undefined });
    const none = ask(['127.0.0.1'], { family: 6 });
    expect(none.err).toMatchObject({ code: 'ENOTFOUND', hostname: 'rebind.invalid' });
    expect(ask([], {}).err).toMatchObject({ code: 'ENOTFOUND' });
  });
});

describe('postPinned', () => {
  const servers: (Server | NetServer)[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) {
      if ('closeAllConnections' in s) s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  });

  const listen = async <S extends Server | NetServer>(s: S, port = 0, host = '127.0.0.1'): Promise<number> => {
    servers.push(s);
    await new Promise<void>((resolve) => s.listen(port, host, resolve));
    return (s.address() as { port: number }).port;
  };
  const never = new AbortController().signal;

  it('connects to the pinned address of an unresolvable name, keeping its Host header; follows no redirect', async () => {
    const seen: { headers: IncomingHttpHeaders; body: string }[] = [];
    const port = await listen(
      createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          seen.push({ headers: req.headers, body: Buffer.concat(chunks).toString() });
          if (req.url === '/moved') res.writeHead(302, { location: `http://127.0.0.1:${port}/hook` }).end();
          else res.writeHead(204).end();
        });
      }),
    );
    const post = (path: string) =>
      postPinned({ url: new URL(`http://hook.rebind.invalid:${port}${path}`), addresses: ['127.0.0.1'], headers: { 'x-test': '1' }, body: '{"a":1}', signal: never });
    expect(await post('/hook')).toBe(204);
    expect(seen).toEqual([{ headers: expect.objectContaining({ host: `hook.rebind.invalid:${port}`, 'x-test': '1', 'content-length': '7' }), body: '{"a":1}' }]);
    expect(await post('/moved')).toBe(302);
    expect(seen).toHaveLength(2);
    // No checked address: nothing is resolved instead.
    await expect(postPinned({ url: new URL(`http://hook.rebind.invalid:${port}/hook`), addresses: [], headers: {}, body: '', signal: never })).rejects.toMatchObject({ code: 'ENOTFOUND' });
    expect(seen).toHaveLength(2);
  });

  it('reads a bounded part of the answer: an endless body still yields the status', async () => {
    let closed: () => void = () => undefined;
    const connectionClosed = new Promise<void>((resolve) => (closed = resolve));
    const port = await listen(
      createServer((req, res) => {
        req.resume();
        res.writeHead(200, { 'content-type': 'text/plain' });
        const chunk = Buffer.alloc(16 * 1024, 'x');
        const more = (): void => {
          if (res.destroyed) return;
          if (res.write(chunk)) setImmediate(more);
          else res.once('drain', more);
        };
        res.on('close', closed);
        more();
      }),
    );
    const status = await postPinned({ url: new URL(`http://endless.invalid:${port}/`), addresses: ['127.0.0.1'], headers: {}, body: '{}', signal: never, maxResponseBytes: 100_000 });
    expect(status).toBe(200);
    await connectionClosed;
  });

  it('sends the hostname, not the address, as the TLS server name (SNI)', async () => {
    let hello: Buffer | undefined;
    const port = await listen(
      createNetServer((socket) => {
        // The ClientHello is in clear: keep its first bytes and hang up.
        socket.once('data', (b: Buffer) => {
          hello = b;
          socket.destroy();
        });
      }),
    );
    await expect(postPinned({ url: new URL(`https://sni-check.rebind.invalid:${port}/`), addresses: ['127.0.0.1'], headers: {}, body: '{}', signal: never })).rejects.toBeTruthy();
    expect(hello?.includes(Buffer.from('sni-check.rebind.invalid'))).toBe(true);
  });

  it('gives up when its signal aborts (the 10 s deadline in production)', async () => {
    const port = await listen(createServer(() => undefined));
    const started = Date.now();
    await expect(postPinned({ url: new URL(`http://slow.invalid:${port}/`), addresses: ['127.0.0.1'], headers: {}, body: '{}', signal: AbortSignal.timeout(100) })).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('reuses a pooled connection only for the same checked address set (a re-check to another address connects anew)', async () => {
    // Two receivers on one port: 127.0.0.1 and 127.0.0.2 (both loopback), each counting its connections and requests.
    const counts = { a: { conns: 0, reqs: 0 }, b: { conns: 0, reqs: 0 } };
    const receiver = (c: { conns: number; reqs: number }) =>
      createServer((req, res) => {
        c.reqs++;
        req.resume();
        req.on('end', () => res.writeHead(204).end());
      }).on('connection', () => void c.conns++);
    const port = await listen(receiver(counts.a));
    await listen(receiver(counts.b), port, '127.0.0.2');
    const pool = createAgentPool({ maxSockets: 2 });
    try {
      const post = (addresses: string[]) =>
        postPinned({ url: new URL(`http://rebind.invalid:${port}/`), addresses, headers: {}, body: '{}', signal: new AbortController().signal, agent: pool.get('wh_1', false) });
      for (let i = 0; i < 5; i++) expect(await post(['127.0.0.1'])).toBe(204);
      expect(counts.a).toEqual({ conns: 1, reqs: 5 });
      // The name now resolves (say, after a DNS change) to another checked address: the idle socket to the first is not used.
      expect(await post(['127.0.0.2'])).toBe(204);
      expect(counts.b).toEqual({ conns: 1, reqs: 1 });
      expect(counts.a).toEqual({ conns: 1, reqs: 5 });
      // Concurrent posts: at most `maxSockets` connections for one checked set.
      const many = await Promise.all(Array.from({ length: 20 }, () => post(['127.0.0.1'])));
      expect(many.every((s) => s === 204)).toBe(true);
      expect(counts.a.reqs).toBe(25);
      expect(counts.a.conns).toBeLessThanOrEqual(2);
    } finally {
      pool.close();
    }
    // A closed pool lends no agent: one connection per attempt.
    expect(pool.get('wh_1', false)).toBeUndefined();
  });

  it('tries once more on a fresh connection when a pooled one was closed by the receiver', async () => {
    // The receiver hangs up on the second request of every connection (as on an idle keep-alive race).
    const served = new WeakMap<object, number>();
    let conns = 0;
    const port = await listen(
      createServer((req, res) => {
        const n = (served.get(req.socket) ?? 0) + 1;
        served.set(req.socket, n);
        if (n > 1) return void req.socket.destroy();
        req.resume();
        req.on('end', () => res.writeHead(204).end());
      }).on('connection', () => void conns++),
    );
    const pool = createAgentPool({ maxSockets: 1 });
    try {
      const post = () => postPinned({ url: new URL(`http://stale.invalid:${port}/`), addresses: ['127.0.0.1'], headers: {}, body: '{}', signal: never, agent: pool.get('wh_1', false) });
      expect(await post()).toBe(204);
      expect(await post()).toBe(204);
      expect(conns).toBe(2);
    } finally {
      pool.close();
    }
  });
});
