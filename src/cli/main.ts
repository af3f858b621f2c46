/** @module cli/main — the `actorflow` command: `serve` (default), `agent`, and the client commands of cli/commands. */
import { parseArgs } from 'node:util';
import { CLIENT_COMMANDS, HELP, runClientCommand } from './commands/index.ts';

// The server and agent modules load lazily, so client commands start fast.

async function serve(argv: string[]): Promise<void> {
  const { readServeConfig } = await import('./config.ts');
  const { startActorflow } = await import('./serve.ts');
  const config = readServeConfig(argv, process.env);
  const starting = startActorflow(config);
  // Signals are handled from the start: the "listening on" log line is written while startActorflow
  // is still running, and a SIGTERM right after it must drain, not kill the process.
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    // Drain: stop accepting, commit the current batch, write snapshots, exit 0.
    starting
      .then((running) => running.close())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          process.stderr.write(`shutdown failed: ${String(err)}\n`);
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  const running = await starting;
  // The log line says it already unless --quiet silenced info lines; the address is always shown once.
  const level = config.logLevel ?? (config.quiet === true ? 'warn' : 'info');
  if (level !== 'info' && level !== 'debug') process.stderr.write(`listening on ${running.url}\n`);
}

/** `actorflow agent`: the built-in agents (or some of them) out of process, over NATS. */
async function agent(argv: string[]): Promise<void> {
  const { BUILTIN_AGENTS } = await import('../agents/builtin-agents.ts');
  const { createAgent } = await import('../agents/create-agent.ts');
  const { values } = parseArgs({ args: argv, options: { nats: { type: 'string' }, kinds: { type: 'string' }, concurrency: { type: 'string' }, name: { type: 'string' }, prefix: { type: 'string' }, 'ack-wait-ms': { type: 'string' } }, strict: true });
  const natsUrl = values.nats ?? process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
  const kinds = (values.kinds ?? Object.keys(BUILTIN_AGENTS).join(',')).split(',').filter((k) => k in BUILTIN_AGENTS);
  if (kinds.length === 0) throw new Error(`--kinds must name built-in agents: ${Object.keys(BUILTIN_AGENTS).join(', ')}`);
  const a = await createAgent({
    natsUrl,
    kinds,
    concurrency: Number(values.concurrency ?? 64),
    handler: (ctx) => {
      const kind = ctx.kind;
      const h = BUILTIN_AGENTS[kind];
      if (!h) throw new Error(`no built-in agent ${kind}`);
      return h(ctx);
    },
    handleSignals: true,
    ...(values['ack-wait-ms'] ? { ackWaitMs: Number(values['ack-wait-ms']) } : {}),
    ...(values.name ? { name: values.name } : {}),
    ...(values.prefix ?? process.env.ACTORFLOW_NATS_PREFIX ? { prefix: (values.prefix ?? process.env.ACTORFLOW_NATS_PREFIX) as string } : {}),
  });
  process.stderr.write(`agent ${a.id} serving ${kinds.join(', ')} on ${natsUrl}\n`);
}

const [command = 'serve', ...rest] = process.argv.slice(2);
const commands: Record<string, (argv: string[]) => Promise<void>> = { serve, agent };
const run = commands[command];
if (command === 'help' || command === '--help' || command === '-h') {
  process.stdout.write(HELP);
} else if (run) {
  run(rest).catch((err: unknown) => {
    process.stderr.write(`actorflow: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
} else if (command in CLIENT_COMMANDS) {
  if (rest.includes('--help') || rest.includes('-h')) process.stdout.write(HELP);
  else {
    const code = await runClientCommand(command, rest);
    // Flush stdout before exiting (pipes to a test or `jq`), then exit with the command's code.
    process.stdout.write('', () => process.exit(code));
  }
} else {
  process.stderr.write(`unknown command ${command}\n${HELP}`);
  process.exit(2);
}
