/** @module cli/main — the `actorflow` command: `serve` (default). */
import { parseArgs } from 'node:util';
import { BUILTIN_AGENTS } from '../agents/builtin-agents.ts';
import { createAgent } from '../agents/create-agent.ts';
import { readServeConfig } from './config.ts';
import { startActorflow } from './serve.ts';

async function serve(argv: string[]): Promise<void> {
  const config = readServeConfig(argv, process.env);
  const running = await startActorflow(config);
  process.stderr.write(`listening on ${running.url}\n`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    // Drain: stop accepting, commit the current batch, write snapshots, exit 0.
    running.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`shutdown failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/** `actorflow agent`: the built-in agents (or some of them) out of process, over NATS. */
async function agent(argv: string[]): Promise<void> {
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
if (!run) {
  process.stderr.write(`unknown command ${command}; try: actorflow serve [--host H] [--port P] [--data-dir D] [--sync full|normal] [--machines DIR] [--no-auth] [--rate-limit RPS:BURST] [--cors-origins A,B]\n`);
  process.exit(2);
} else {
  run(rest).catch((err: unknown) => {
    process.stderr.write(`actorflow: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
