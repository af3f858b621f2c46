/** @module tests/support/push-receiver — a real HTTP push agent on 127.0.0.1: records every task POSTed to it and answers as each test tells it. */
import { type IncomingHttpHeaders, type Server, type ServerResponse, createServer } from 'node:http';
import { arrivals, closeReceiver } from './arrivals.ts';

/** The JSON body of a task POST (docs/agents.md, "HTTP push agents"). */
export interface PushedTask {
  readonly taskId: string;
  readonly taskToken: string;
  readonly executionId: string;
  readonly stepId: string;
  readonly attempt: number;
  readonly kind: string;
  readonly input: any;
  readonly deadline: string;
}

export interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** The raw body, as signed. */
  readonly raw: string;
  readonly task: PushedTask;
  /** Answers it now (for a held request). */
  answer(status: number, body?: unknown): void;
  /** The server gave up on it (closed the connection before an answer). */
  readonly abandoned: () => boolean;
}

/** What to do with a task: answer with a status and JSON body, or hold it open (answered later, or never). */
export type Answer = { readonly status: number; readonly body?: unknown } | 'hold';
export type Behaviour = (r: Received, nth: number) => Answer;

export async function startPushReceiver() {
  const received: Received[] = [];
  const behaviours = new Map<string, Behaviour>();
  const waits = arrivals();
  const held = new Set<ServerResponse>();
  let connections = 0;
  let open = 0;
  let maxOpen = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let gone = false;
      let answered = false;
      open++;
      maxOpen = Math.max(maxOpen, open);
      const done = (): void => {
        if (answered) return;
        answered = true;
        open--;
        held.delete(res);
      };
      res.on('close', () => {
        if (!res.writableFinished) gone = true;
        done();
      });
      const r: Received = {
        path: req.url ?? '',
        headers: req.headers,
        raw,
        task: JSON.parse(raw) as PushedTask,
        answer: (status, body) => {
          if (answered || gone) return;
          done();
          if (body === undefined) res.writeHead(status).end();
          else res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        },
        abandoned: () => gone,
      };
      received.push(r);
      const nth = received.filter((x) => x.path === r.path).length;
      const a = (behaviours.get(r.path) ?? (() => ({ status: 200, body: { output: r.task.input } })))(r, nth);
      if (a === 'hold') held.add(res);
      else r.answer(a.status, a.body);
      waits.arrived();
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const on = (path: string) => received.filter((r) => r.path === path);
  return {
    url: `http://127.0.0.1:${port}`,
    /** How the receiver answers tasks POSTed to `path` (default: 200 `{ output: input }`). */
    behave: (path: string, b: Behaviour) => void behaviours.set(path, b),
    on,
    /** TCP connections accepted so far (keep-alive: fewer than requests). */
    connections: () => connections,
    /** Requests open at once at most so far. */
    maxOpen: () => maxOpen,
    resetMaxOpen: () => void (maxOpen = open),
    /** Resolves once `path` got at least `n` tasks. */
    waitFor: (path: string, n: number, timeoutMs = 15_000): Promise<Received[]> =>
      waits.waitFor(() => on(path), n, `tasks on ${path}`, timeoutMs),
    close: () => closeReceiver(server, held),
  };
}

export type PushReceiver = Awaited<ReturnType<typeof startPushReceiver>>;
