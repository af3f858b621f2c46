/** @module tests/support/agent-process — runs `actorflow agent` (built-in agents over NATS) as a real child process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';

export interface AgentProcessOptions {
  readonly natsUrl: string;
  /** Built-in kinds served. @default every built-in kind */
  readonly kinds?: readonly string[];
  /** @default 64 */
  readonly concurrency?: number;
  /** The agent's name (its id is `ag_<name>_…`). */
  readonly name?: string;
  /** JetStream ack wait: how soon a task of a dead agent is redelivered. @default 1500 */
  readonly ackWaitMs?: number;
  readonly prefix?: string;
  /** @default 20000 */
  readonly startTimeoutMs?: number;
}

export interface AgentProcess {
  /** The agent id it announced (`ag_…`), as GET /agents lists it. */
  readonly id: string;
  readonly name: string;
  readonly child: ChildProcess;
  /** Everything it wrote to stderr. */
  logs(): string;
  /** SIGKILL: no drain, no ack, no leaving heartbeat. */
  kill(): Promise<void>;
  /** SIGTERM (graceful drain) and wait for the exit code; SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<number | null>;
}

const ROOT = resolve(import.meta.dirname, '../..');
let seq = 0;

/** Starts `actorflow agent --nats URL …` and resolves once it logs `agent <id> serving …` (its consumers exist). */
export async function startAgentProcess(o: AgentProcessOptions): Promise<AgentProcess> {
  const name = o.name ?? `test-agent-${process.pid}-${++seq}`;
  const args = ['--import', 'tsx', 'src/cli/main.ts', 'agent', '--nats', o.natsUrl, '--name', name, '--ack-wait-ms', String(o.ackWaitMs ?? 1500)];
  if (o.kinds) args.push('--kinds', o.kinds.join(','));
  if (o.concurrency !== undefined) args.push('--concurrency', String(o.concurrency));
  if (o.prefix !== undefined) args.push('--prefix', o.prefix);
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => void (log += chunk.toString()));
  const kill = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  };
  let id: string;
  try {
    id = await new Promise<string>((res, rej) => {
      const timeoutMs = o.startTimeoutMs ?? 20_000;
      const timer = setTimeout(() => rej(new Error(`agent ${name} did not start in ${timeoutMs} ms: ${log}`)), timeoutMs);
      child.stderr?.on('data', () => {
        const m = /agent (ag_\S+) serving/.exec(log);
        if (m?.[1]) {
          clearTimeout(timer);
          res(m[1]);
        }
      });
      child.once('exit', (code, sig) => (clearTimeout(timer), rej(new Error(`agent ${name} exited (${code ?? sig}): ${log}`))));
    });
  } catch (err) {
    await kill();
    throw err;
  }
  return {
    id,
    name,
    child,
    logs: () => log,
    kill,
    stop: async (timeoutMs = 10_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const [code] = (await exited) as [number | null];
      clearTimeout(timer);
      return code;
    },
  };
}
