/**
 * @module bench/server-proc — the server child process of the bench: `startActorflow` on
 * 127.0.0.1, port 0, a fresh temp data dir, quiet logs; registers the `park`, `parkecho` and `bench3` flows.
 * Started by bench/common.ts `spawnServer` with an IPC channel:
 *   node --import tsx [--expose-gc] bench/server-proc.ts --sync full|normal [--data-dir <dir>] [--nats <url> --no-builtin-agents]
 * With `--nats` the bus is NATS JetStream (bench/nats-flow.ts); `--no-builtin-agents` leaves the
 * `echo` tasks to `actorflow agent` processes.
 * Sends `{ type: 'ready', url }`, then answers `{ id, cmd, args }` messages with `{ id, ok, result | error }`.
 * Commands: `mem` (process.memoryUsage after an optional gc), `status` (engine.status()),
 * `agents` (engine.agents()), `flow3`, `natsflow` and `parked` (in-process loops, see bench/flow3.ts,
 * bench/nats-flow.ts and bench/parked.ts), `close`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readServeConfig } from '../src/cli/config.ts';
import { type ServeConfig, startActorflow } from '../src/cli/serve.ts';
import { BENCH3_FLOW, PARKECHO_FLOW, PARK_FLOW, type SyncMode } from './common.ts';
import { runFlow3InProcess, type Flow3Args } from './flow3.ts';
import { runLargeOutputsInProcess, type LargeOutputsArgs } from './large-outputs.ts';
import { runNatsFlowInProcess, type NatsFlowArgs } from './nats-flow.ts';
import { runParkedInProcess, type ParkedArgs } from './parked.ts';

interface Command {
  readonly id: number;
  readonly cmd: string;
  readonly args?: unknown;
}

const i = process.argv.indexOf('--sync');
const sync: SyncMode = process.argv[i + 1] === 'normal' ? 'normal' : 'full';
const send = process.send?.bind(process);
if (!send) throw new Error('bench/server-proc.ts must be forked with an IPC channel (see bench/common.ts)');

// `--data-dir <dir>`: a given dir is kept after close (bench/restart.ts restarts a server on it).
const d = process.argv.indexOf('--data-dir');
const givenDir = d >= 0 ? process.argv[d + 1] : undefined;
const dataDir = givenDir ?? mkdtempSync(join(tmpdir(), `actorflow-bench-${sync}-`));
const removeDataDir = () => (givenDir ? undefined : rmSync(dataDir, { recursive: true, force: true }));
const n = process.argv.indexOf('--nats');
const natsUrl = n >= 0 ? process.argv[n + 1] : undefined;
const builtinAgents = !process.argv.includes('--no-builtin-agents');
// The process tuning of `actorflow serve` as the CLI reads it (heap policy, JIT budget, WAL preallocation, fast
// commits, NATS events), from the same environment variables, so the bench measures the server operators run.
const { heapGrowingPercent, interruptBudget, walPreallocate, pretenuring, fastCommitRows, natsEvents } = readServeConfig([], process.env);
const tuning = Object.fromEntries(Object.entries({ heapGrowingPercent, interruptBudget, walPreallocate, pretenuring, fastCommitRows, natsEvents }).filter(([, v]) => v !== undefined)) as Partial<ServeConfig>;
const app = await startActorflow({ host: '127.0.0.1', port: 0, dataDir, sync, quiet: true, noAuth: true, builtinAgents, ...tuning, ...(natsUrl ? { natsUrl } : {}) }).catch((err: unknown) => {
  removeDataDir();
  throw err;
});
await app.engine.registerDefinition('default', PARK_FLOW);
await app.engine.registerDefinition('default', BENCH3_FLOW);
await app.engine.registerDefinition('default', PARKECHO_FLOW);

const gc = (globalThis as { gc?: () => void }).gc;

async function handle(c: Command): Promise<unknown> {
  switch (c.cmd) {
    case 'mem':
      if (gc) gc();
      return process.memoryUsage();
    case 'status':
      return app.engine.status();
    case 'agents':
      return app.engine.agents();
    case 'flow3':
      return runFlow3InProcess(app.engine, c.args as Flow3Args);
    case 'outputs':
      return runLargeOutputsInProcess(app.engine, c.args as LargeOutputsArgs);
    case 'natsflow':
      return runNatsFlowInProcess(app.engine, c.args as NatsFlowArgs);
    case 'parked':
      return runParkedInProcess(app.engine, c.args as ParkedArgs);
    case 'close':
      await app.close();
      removeDataDir();
      return null;
    default:
      throw new Error(`unknown command ${c.cmd}`);
  }
}

process.on('message', (c: Command) => {
  handle(c).then(
    (result) => {
      send({ id: c.id, ok: true, result }, () => {
        if (c.cmd === 'close') process.exit(0);
      });
    },
    (err: unknown) => send({ id: c.id, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  );
});

// The bench process is gone (killed): close, remove the data dir, exit (no orphan server left behind).
process.on('disconnect', () => {
  const exit = () => {
    removeDataDir();
    process.exit(0);
  };
  // Bounded: a close can hang on a bus whose server died with the bench (NATS reconnecting).
  setTimeout(exit, 3000);
  void app.close().then(exit, exit);
});

send({ type: 'ready', url: app.url, pid: process.pid });
