/** @module cli/main — the `actorflow` command: `serve` (default), `agent`, and the client commands of cli/commands. */
import { dispatch } from './commands/index.ts';

const code = await dispatch(process.argv.slice(2));
// A server or agent keeps running; a client command flushes stdout (pipes to a test or `jq`), then exits with its code.
if (code !== null) process.stdout.write('', () => process.exit(code));
