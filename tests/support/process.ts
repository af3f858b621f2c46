/** @module tests/support/process — runs `actorflow serve` as a real child process (crash and restart tests). */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';

export interface ServerProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything it wrote to stderr. */
  logs(): string;
  /** SIGKILL: no drain, no final commit. */
  kill(): Promise<void>;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
}

const ROOT = resolve(import.meta.dirname, '../..');

export interface ServerProcessArgs {
  readonly dataDir: string;
  readonly machinesDir: string;
  readonly sync?: 'full' | 'normal';
  /** `--nats URL`: the NATS bus instead of the in-process one. */
  readonly nats?: string;
  /** `false` adds `--no-builtin-agents` (tasks then need agent processes). @default true */
  readonly builtinAgents?: boolean;
  /** Any further `serve` flags. */
  readonly extraArgs?: readonly string[];
  /** `--no-auth`. @default true */
  readonly noAuth?: boolean;
  /** Extra environment variables (e.g. `ACTORFLOW_ADMIN_KEY`). */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Fill the WAL with zeros at boot, as `actorflow serve` does by default. Off unless asked: it writes 64 MiB per
   * start, and most tests start servers often; the crash tests keep it on. @default false
   */
  readonly walPreallocate?: boolean;
  /** How long it may take to log `listening on`. @default 20000 */
  readonly startTimeoutMs?: number;
}

/** Starts the server on a free port and resolves once it logs `listening on …`. */
export async function startServerProcess(args: ServerProcessArgs): Promise<ServerProcess> {
  const argv = ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', '0', '--data-dir', args.dataDir, '--machines', args.machinesDir, '--sync', args.sync ?? 'full', '--quiet'];
  if (args.nats !== undefined) argv.push('--nats', args.nats);
  if (args.builtinAgents === false) argv.push('--no-builtin-agents');
  if (args.noAuth !== false) argv.push('--no-auth');
  if (args.extraArgs) argv.push(...args.extraArgs);
  const env: NodeJS.ProcessEnv = { ...process.env, ...args.env };
  // A developer's own auth settings must not leak into test servers.
  for (const k of ['ACTORFLOW_NO_AUTH', 'ACTORFLOW_RATE_LIMIT', 'ACTORFLOW_JWT_SECRET', 'ACTORFLOW_JWT_JWKS', 'ACTORFLOW_CORS_ORIGINS']) {
    if (args.env?.[k] === undefined) delete env[k];
  }
  if (args.env?.['ACTORFLOW_ADMIN_KEY'] === undefined) delete env['ACTORFLOW_ADMIN_KEY'];
  if (args.env?.['ACTORFLOW_WAL_PREALLOCATE'] === undefined) env['ACTORFLOW_WAL_PREALLOCATE'] = args.walPreallocate === true ? '1' : '0';
  const child = spawn(process.execPath, argv, { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const url = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`server did not start: ${log}`)), args.startTimeoutMs ?? 20_000);
    child.stderr?.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      const m = /listening on (http:\/\/[^\s]+)/.exec(log);
      if (m?.[1]) {
        clearTimeout(timer);
        res(m[1]);
      }
    });
    child.once('exit', (code) => (clearTimeout(timer), rej(new Error(`server exited ${code}: ${log}`))));
  }).catch(async (err: unknown) => {
    // Never leave a half-started server behind.
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }
    throw err;
  });
  return {
    url,
    child,
    logs: () => log,
    kill: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      if (child.exitCode !== null) return child.exitCode;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      return code;
    },
  };
}
