/** @module cli/commands — the client-side `actorflow` commands (everything but `serve` and `agent`), with exit codes. */
import { agentsCommand, keysCommand } from './admin.ts';
import { benchCommand } from './bench.ts';
import { ExitCode, UsageError, failure } from './common.ts';
import { definitionsCommand } from './definitions.ts';
import { executionCommands } from './executions.ts';
import { watchCommand } from './watch.ts';

export const HELP = `usage: actorflow <command> [args] [--url URL] [--key KEY] [--json]

server:
  serve [--host H] [--port P] [--data-dir D] [--sync full|normal] [--machines DIR] [--no-auth] …
  agent [--nats URL] [--kinds echo,log,…] [--concurrency N]

definitions:
  definitions push <file.yaml|json>      register a flow document
  definitions list [--name PREFIX]       latest version of each
  definitions get <name> [--version N] [--versions]
  definitions validate <file>            validate without saving
  definitions diagram <name> [--version N]
  definitions retire <name>

executions:
  start <workflow> [--input JSON] [--version N] [--label k=v]… [--idempotency-key K]
  list [--status a,b] [--workflow W] [--label k=v]… [--parent ID]
  get <id> · cancel <id> [--reason R] · pause <id> · resume <id>
  retry <id> [--step STEP] [--note N]
  signal <id> <name> [--payload JSON | --reject --reason R]
  steps <id> · attempts <id> <step> · events <id> [--since SEQ] · logs <id> [--level L] [--step S] · children <id>
  watch <id> [--since SEQ] [--children]  live events until the end (exit 0 completed, 5 otherwise)

admin:
  agents [<id>]
  keys create --name N [--scopes read,write,admin] [--tenant T] · keys list · keys revoke <id>

bench --workflow W [--rate R (0 = max)] [--duration S] [--connections C] [--input JSON] [--sample N] [--drain S]

Lists take --limit and --cursor. --url defaults to $ACTORFLOW_URL or http://127.0.0.1:8080;
--key to $ACTORFLOW_KEY or ./data/admin.key.
exit codes: 0 ok, 1 API or network error, 2 usage error, 3 not found, 4 conflict, 5 execution did not complete (watch)
`;

/** Every client-side command by name. */
export const CLIENT_COMMANDS: Readonly<Record<string, (argv: string[]) => Promise<number>>> = {
  ...executionCommands,
  definitions: definitionsCommand,
  defs: definitionsCommand,
  watch: watchCommand,
  agents: agentsCommand,
  keys: keysCommand,
  bench: benchCommand,
};

/** Runs a client command and resolves with its exit code (errors mapped, never thrown). */
export async function runClientCommand(name: string, argv: string[]): Promise<number> {
  const run = CLIENT_COMMANDS[name];
  try {
    if (run === undefined) throw new UsageError(`unknown command ${name}`);
    return await run(argv);
  } catch (err) {
    return failure(err);
  }
}

export { ExitCode };
