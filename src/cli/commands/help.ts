/** @module cli/commands/help — `actorflow help [<command> [<subcommand>]]` and `--help`: text built from the command specs. */
import { GLOBAL_FLAGS, HELP_FLAG } from './common.ts';
import { type Command, type Entry, type Flags, type Group, isGroup, subName } from './spec.ts';

/** Commands under a heading of the overview. */
export interface Section {
  readonly title: string;
  readonly entries: readonly Entry[];
}

const EXIT_CODES = `exit codes: 0 ok, 1 API or network error, 2 usage error, 3 not found, 4 conflict,
  5 the execution failed, was cancelled or timed out (run, watch),
  6 not finished at --timeout, or waiting for a signal (run)`;

type Rows = readonly (readonly [string, string])[];

const widthOf = (rows: Rows) => Math.min(30, Math.max(...rows.map(([l]) => l.length)));

/** Two columns: left padded to `width`, longer left cells on a line of their own. */
function columns(rows: Rows, width = widthOf(rows), indent = '  '): string {
  return rows.map(([l, r]) => (l.length > width ? `${indent}${l}\n${indent}${' '.repeat(width + 2)}${r}` : `${indent}${l.padEnd(width)}  ${r}`)).join('\n');
}

function flagRows(flags: Flags): [string, string][] {
  return Object.entries(flags).map(([name, f]) => {
    const left = `${f.short ? `-${f.short}, ` : ''}--${name}${f.arg ? ` ${f.arg}` : ''}`;
    return [left, `${f.help}${f.multiple ? ' (repeatable)' : ''}`];
  });
}

const sentence = (s: string) => s.charAt(0).toUpperCase() + s.slice(1) + (/[.)]$/.test(s) ? '' : '.');

const entryLine = (e: Entry): [string, string] =>
  isGroup(e) ? [`${e.name} <command>`, `${e.summary}: ${e.commands.map(subName).join(', ')}`] : [`${e.name}${e.args ? ` ${e.args}` : ''}`, e.summary];

/** `actorflow help`: every command by section. */
export function overview(sections: readonly Section[]): string {
  const width = widthOf(sections.flatMap((s) => s.entries.map(entryLine)));
  const body = sections.map((s) => `${s.title}:\n${columns(s.entries.map(entryLine), width)}`).join('\n\n');
  return `usage: actorflow <command> [args] [options]        (no command: serve)

${body}

\`actorflow help <command>\` or \`actorflow <command> --help\` shows a command's options.
Client commands take --url URL (default $ACTORFLOW_URL, else http://127.0.0.1:8080), --key KEY
(default $ACTORFLOW_KEY, else <data dir>/admin.key: $ACTORFLOW_DATA_DIR or ./data) and --json;
an https:// server of a private CA also takes --ca FILE, and under mTLS --client-cert FILE --client-key FILE.
${EXIT_CODES}
`;
}

/** `actorflow help <command>`: usage, what it does, its options. */
export function commandHelp(cmd: Command): string {
  const own = cmd.flags ?? {};
  const parts = [`usage: actorflow ${cmd.name}${cmd.args ? ` ${cmd.args}` : ''}${Object.keys(own).length > 0 || cmd.local !== true ? ' [options]' : ''}`, sentence(cmd.summary) + (cmd.details ? `\n${cmd.details}` : '')];
  if (Object.keys(own).length > 0) parts.push(`options:\n${columns(flagRows(own))}`);
  parts.push(`${cmd.local === true ? 'also' : 'global options'}:\n${columns(flagRows(cmd.local === true ? HELP_FLAG : { ...GLOBAL_FLAGS, ...HELP_FLAG }))}`);
  if (cmd.local !== true) parts.push(EXIT_CODES);
  return `${parts.join('\n\n')}\n`;
}

/** `actorflow help <group>`: its commands. */
export function groupHelp(g: Group): string {
  const rows = g.commands.map((c): [string, string] => [`${subName(c)}${c.args ? ` ${c.args}` : ''}`, c.summary]);
  const aliases = g.aliases?.length ? ` (also: ${g.aliases.join(', ')})` : '';
  return `usage: actorflow ${g.name} <command> [args] [options]${aliases}

${sentence(g.summary)}

commands:
${columns(rows)}

Without a command: ${g.default}. \`actorflow help ${g.name} <command>\` shows a command's options.
`;
}
