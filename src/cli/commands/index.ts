/** @module cli/commands — every `actorflow` command, and the dispatch: help, "did you mean", errors as exit codes. */
import { AGENTS } from './agents.ts';
import { auditCommand } from './audit.ts';
import { benchCommand } from './bench.ts';
import { BULK } from './bulk.ts';
import { type Ctx, ExitCode, context, failure } from './common.ts';
import { DEFINITIONS } from './definitions.ts';
import { DOCUMENTS } from './documents.ts';
import { EXECUTION_COMMANDS } from './executions.ts';
import { type Section, commandHelp, groupHelp, overview } from './help.ts';
import { KEYS } from './keys.ts';
import { runCommand } from './run.ts';
import { SCHEDULES } from './schedules.ts';
import { agentCommand, serveCommand } from './server.ts';
import { type Command, type Entry, type Group, isGroup, subName } from './spec.ts';
import { didYouMean } from './suggest.ts';
import { TASK_DEFINITIONS } from './task-definitions.ts';
import { TASKS } from './tasks.ts';
import { TELEMETRY } from './telemetry.ts';
import { TEMPLATES } from './templates.ts';
import { TENANTS } from './tenants.ts';
import { watchCommand } from './watch.ts';
import { WEBHOOKS } from './webhooks.ts';

/** The commands by heading, in the order `actorflow help` shows them. */
export const SECTIONS: readonly Section[] = [
  { title: 'server', entries: [serveCommand, agentCommand] },
  { title: 'executions', entries: [runCommand, ...EXECUTION_COMMANDS, watchCommand, BULK] },
  { title: 'resources', entries: [DEFINITIONS, TEMPLATES, SCHEDULES, WEBHOOKS, TASKS, AGENTS, TASK_DEFINITIONS, DOCUMENTS] },
  { title: 'operations', entries: [TELEMETRY, auditCommand, KEYS, TENANTS, benchCommand] },
];

const ENTRIES: ReadonlyMap<string, Entry> = new Map(SECTIONS.flatMap((s) => s.entries.flatMap((e) => [e.name, ...((isGroup(e) && e.aliases) || [])].map((n) => [n, e] as const))));

const say = (text: string) => void process.stdout.write(text);
const complain = (text: string) => void process.stderr.write(`actorflow: ${text}\n`);

/** `--help`/`-h` before any `--`. */
function wantsHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

function unknownCommand(name: string): number {
  complain(`unknown command "${name}"${didYouMean(name, [...ENTRIES.keys(), 'help'])}; see actorflow help`);
  return ExitCode.usage;
}

function unknownSubcommand(g: Group, name: string): number {
  complain(`unknown ${g.name} command "${name}"${didYouMean(name, g.commands.map(subName))}; see actorflow help ${g.name}`);
  return ExitCode.usage;
}

/** `actorflow help [<command> [<subcommand>]]`. */
function help(words: readonly string[]): number {
  const [name, sub] = words;
  if (name === undefined) return say(overview(SECTIONS)), ExitCode.ok;
  const entry = ENTRIES.get(name);
  if (entry === undefined) return unknownCommand(name);
  if (!isGroup(entry)) return say(commandHelp(entry)), ExitCode.ok;
  if (sub === undefined) return say(groupHelp(entry)), ExitCode.ok;
  const cmd = entry.commands.find((c) => subName(c) === sub);
  return cmd === undefined ? unknownSubcommand(entry, sub) : (say(commandHelp(cmd)), ExitCode.ok);
}

/** Runs one command; errors become a message and an exit code (null: a server keeps running). */
async function execute(cmd: Command, argv: readonly string[]): Promise<number | null> {
  if (wantsHelp(argv)) return say(commandHelp(cmd)), ExitCode.ok;
  let ctx: Ctx | undefined;
  try {
    ctx = context(cmd, argv);
    return await cmd.run(ctx);
  } catch (err) {
    const c = ctx;
    return failure(err, cmd, c === undefined ? undefined : () => c.key);
  }
}

/** `actorflow <argv…>`: the exit code, or null while a server or agent runs. No command (or only flags) is `serve`. */
export async function dispatch(argv: readonly string[]): Promise<number | null> {
  const [first, ...rest] = argv;
  if (first === 'help' || first === '--help' || first === '-h') return help(first === 'help' ? rest : []);
  if (first === undefined || first.startsWith('-')) return execute(serveCommand, argv);
  const entry = ENTRIES.get(first);
  if (entry === undefined) return unknownCommand(first);
  if (!isGroup(entry)) return execute(entry, rest);
  const [sub, ...subArgs] = rest;
  if (sub === undefined || sub.startsWith('-')) {
    if (wantsHelp(rest)) return say(groupHelp(entry)), ExitCode.ok;
    const fallback = entry.commands.find((c) => subName(c) === entry.default);
    if (fallback === undefined) throw new Error(`group ${entry.name}: no default command ${entry.default}`);
    return execute(fallback, rest);
  }
  const cmd = entry.commands.find((c) => subName(c) === sub);
  return cmd === undefined ? unknownSubcommand(entry, sub) : execute(cmd, subArgs);
}

export { ExitCode };
