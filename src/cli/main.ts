/** @module cli/main — the `actorflow` command: `serve` (default). */
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

const [command = 'serve', ...rest] = process.argv.slice(2);
const commands: Record<string, (argv: string[]) => Promise<void>> = { serve };
const run = commands[command];
if (!run) {
  process.stderr.write(`unknown command ${command}; try: actorflow serve [--host H] [--port P] [--data-dir D] [--sync full|normal] [--machines DIR]\n`);
  process.exit(2);
} else {
  run(rest).catch((err: unknown) => {
    process.stderr.write(`actorflow: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
