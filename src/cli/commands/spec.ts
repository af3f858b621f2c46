/** @module cli/commands/spec — how a command describes itself: arguments, flags with help, and what it runs. */
import type { Ctx } from './common.ts';

/** One `--flag`; `arg` names its value in help (`JSON`, `N`), `help` says what it does. */
export interface Flag {
  readonly type: 'string' | 'boolean';
  readonly multiple?: boolean;
  readonly short?: string;
  readonly arg?: string;
  readonly help: string;
}

export type Flags = Readonly<Record<string, Flag>>;

/** A runnable command: `actorflow <name> <args> [flags]`. */
export interface Command {
  /** As typed after `actorflow`: `start`, or `schedules create` inside a group. */
  readonly name: string;
  /** Positional arguments as shown in help: `<workflow>`. */
  readonly args?: string;
  readonly summary: string;
  /** More lines for `actorflow help <name>`. */
  readonly details?: string;
  readonly flags?: Flags;
  /** A process of its own (serve, agent): no --url/--key/--json. */
  readonly local?: boolean;
  /** The command parses its own arguments (`ctx.argv`); `flags` only documents them. */
  readonly rawArgs?: boolean;
  /** The exit code, or null to keep the process running (a server). */
  readonly run: (c: Ctx) => Promise<number | null>;
}

/** Commands of one resource: `actorflow <group> <command>`. */
export interface Group {
  readonly name: string;
  readonly summary: string;
  readonly aliases?: readonly string[];
  readonly commands: readonly Command[];
  /** Run when no command is given (`actorflow schedules` lists). */
  readonly default: string;
}

export type Entry = Command | Group;

export const isGroup = (e: Entry): e is Group => 'commands' in e;

/** The subcommand part of a grouped command's name (`create` of `schedules create`). */
export const subName = (c: Command): string => c.name.slice(c.name.lastIndexOf(' ') + 1);
