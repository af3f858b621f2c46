/**
 * @module tests/support/nats — a real `nats-server` with JetStream for tests: a free loopback port,
 * its store in a temp dir, stop/kill/restart on the same port and store. A missing binary is an
 * error (the test fails), never a skip: CI installs `nats-server` with apt.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface NatsServerOptions {
  /** Reuse a JetStream store directory; it is then never removed. */
  readonly storeDir?: string;
  /** @default a free port */
  readonly port?: number;
  /** @default 10000 */
  readonly startTimeoutMs?: number;
  /** More command-line arguments (e.g. `-n`, `--cluster_name`, `-cluster`, `-routes` for a clustered server). */
  readonly args?: readonly string[];
}

export interface NatsServer {
  /** `nats://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** The JetStream store (`-sd`): kept across `restart()`. */
  readonly storeDir: string;
  /** True while the server process runs. */
  running(): boolean;
  /** The current server process (the bench reads its pid and kills it if the bench dies). */
  process(): ChildProcess | undefined;
  /** Everything the server logged (all runs). */
  logs(): string;
  /** SIGTERM and wait for the exit (JetStream shuts down cleanly). */
  stop(): Promise<void>;
  /** SIGKILL and wait for the exit. */
  kill(): Promise<void>;
  /** Starts it again on the same port and store (after `stop()`/`kill()`); resolves when ready. */
  restart(): Promise<void>;
  /** Kills it and removes the store directory if this helper created it. Idempotent. */
  close(): Promise<void>;
}

/** The server could not start because `port` (any port when omitted) was bound by someone else meanwhile. */
export const portTaken = (err: unknown, port?: number): boolean =>
  String(err instanceof Error ? err.message : err).includes(`${port === undefined ? '' : `127.0.0.1:${port}`}: bind: address already in use`);

/** A port nobody listens on right now (bind port 0 on loopback, read it, close). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((res, rej) => {
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => res());
  });
  const addr = srv.address();
  await new Promise<void>((res) => srv.close(() => res()));
  if (addr === null || typeof addr === 'string') throw new Error('no port from the OS');
  return addr.port;
}

/** The `nats-server` binary: `$NATS_SERVER_BIN`, else the first on PATH (plus /usr/sbin, where Debian puts it). Throws when absent. */
export function natsServerBinary(): string {
  const fromEnv = process.env.NATS_SERVER_BIN;
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/bin', '/usr/bin'].filter((d) => d !== '');
  const candidates = fromEnv ? [fromEnv] : dirs.map((d) => join(d, 'nats-server'));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // next
    }
  }
  throw new Error('nats-server not found (PATH, /usr/sbin or $NATS_SERVER_BIN): install it, e.g. `apt-get install nats-server`. These tests need a real server.');
}

/** Resolves once something accepts TCP connections on the port. */
async function tcpReady(port: number, deadline: number, alive: () => boolean): Promise<void> {
  for (;;) {
    const ok = await new Promise<boolean>((res) => {
      const s = createConnection({ host: '127.0.0.1', port });
      s.once('connect', () => (s.destroy(), res(true)));
      s.once('error', () => (s.destroy(), res(false)));
    });
    if (ok) return;
    if (!alive()) throw new Error('nats-server exited');
    if (Date.now() > deadline) throw new Error(`nats-server not accepting on ${port}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Starts `nats-server -a 127.0.0.1 -p <port> -js -sd <dir>` and resolves once it logged
 * "Server is ready" and accepts TCP connections. Never touches the shared server on 4222.
 * @example
 * const nats = await startNatsServer(); ... await nats.kill(); await nats.restart(); ... await nats.close();
 */
export async function startNatsServer(opts: NatsServerOptions = {}, attempt = 0): Promise<NatsServer> {
  const bin = natsServerBinary();
  const ownDir = opts.storeDir === undefined;
  const storeDir = opts.storeDir ?? (await mkdtemp(join(tmpdir(), 'actorflow-nats-')));
  const port = opts.port ?? (await freePort());
  if (port === 4222) throw new Error('refusing to run a test nats-server on the shared port 4222');
  const timeoutMs = opts.startTimeoutMs ?? 10_000;
  let child: ChildProcess | undefined;
  let log = '';

  const launch = async (): Promise<void> => {
    const c = spawn(bin, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir, ...(opts.args ?? [])], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    const runLog = { text: '' };
    const onData = (chunk: Buffer) => {
      runLog.text += chunk.toString();
      log += chunk.toString();
    };
    c.stdout?.on('data', onData);
    c.stderr?.on('data', onData);
    const alive = () => c.exitCode === null && c.signalCode === null;
    try {
      await new Promise<void>((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`nats-server did not get ready in ${timeoutMs} ms:\n${runLog.text}`)), timeoutMs);
        const check = () => {
          if (runLog.text.includes('Server is ready')) {
            clearTimeout(timer);
            res();
          }
        };
        c.stdout?.on('data', check);
        c.stderr?.on('data', check);
        c.once('error', (err) => (clearTimeout(timer), rej(err)));
        c.once('exit', (code, sig) => (clearTimeout(timer), rej(new Error(`nats-server exited (${code ?? sig}):\n${runLog.text}`))));
      });
      await tcpReady(port, Date.now() + timeoutMs, alive);
    } catch (err) {
      if (alive()) {
        const exited = once(c, 'exit');
        c.kill('SIGKILL');
        await exited;
      }
      throw err;
    }
  };

  const end = async (signal: NodeJS.Signals): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = once(c, 'exit');
    c.kill(signal);
    const timer = signal === 'SIGKILL' ? undefined : setTimeout(() => c.kill('SIGKILL'), 5000);
    await exited;
    if (timer) clearTimeout(timer);
  };

  try {
    await launch();
  } catch (err) {
    if (ownDir) await rm(storeDir, { recursive: true, force: true });
    // Another process may bind a free port between freePort() and the server's own bind: take another one.
    if (opts.port === undefined && attempt < 3 && portTaken(err, port)) return startNatsServer(opts, attempt + 1);
    throw err;
  }
  let closed = false;
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    running: () => child !== undefined && child.exitCode === null && child.signalCode === null,
    process: () => child,
    logs: () => log,
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
    restart: async () => {
      if (closed) throw new Error('nats-server helper closed');
      await end('SIGTERM');
      await launch();
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await end('SIGKILL');
      if (ownDir) await rm(storeDir, { recursive: true, force: true });
    },
  };
}
