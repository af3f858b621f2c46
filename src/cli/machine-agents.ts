/**
 * @module cli/machine-agents — gathers the in-process agents of a server: the `agents` exports of the
 * machines dir's modules and `startActorflow({ agents })`. Runs before any store is opened, so a bad
 * export stops the start with a message naming the file and the kind.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type InProcessKind, InProcessAgentsError, readInProcessAgents } from '../agents/in-process-agents.ts';
import { ConfigError } from './config.ts';

/** Module files of a machines dir that may export `agents` (declaration files hold no code). */
const MODULE_FILE = /^(?!.*\.d\.m?ts$).+\.(ts|mts|js|mjs)$/;
const LIBRARY = 'startActorflow({ agents })';

export interface AgentSources {
  readonly machinesDir?: string | undefined;
  /** `startActorflow({ agents })`. */
  readonly agents?: unknown;
  /** Kinds already served in this process (the built-in agents): a second server of one would share its tasks. */
  readonly reserved: readonly string[];
}

/** Every in-process kind, checked; a malformed export, a module that fails to load or a kind declared twice is a ConfigError. */
export async function loadInProcessAgents(o: AgentSources): Promise<InProcessKind[]> {
  const kinds: InProcessKind[] = [];
  try {
    if (o.agents !== undefined) kinds.push(...readInProcessAgents(LIBRARY, o.agents));
    for (const file of moduleFiles(o.machinesDir)) {
      const mod = await importModule(o.machinesDir as string, file);
      if (mod.agents !== undefined) kinds.push(...readInProcessAgents(file, mod.agents));
    }
  } catch (err) {
    throw err instanceof InProcessAgentsError ? new ConfigError(`invalid in-process agents in ${err.message}`) : err;
  }
  const seen = new Map<string, string>(o.reserved.map((k) => [k, 'the built-in agents']));
  for (const k of kinds) {
    const first = seen.get(k.kind);
    if (first !== undefined) {
      const fix = first === 'the built-in agents' ? ' (rename it, or run with --no-builtin-agents)' : '';
      throw new ConfigError(`agent kind ${JSON.stringify(k.kind)} of ${k.source} is already served by ${first}${fix}`);
    }
    seen.set(k.kind, k.source);
  }
  return kinds;
}

function moduleFiles(dir: string | undefined): string[] {
  return dir !== undefined && existsSync(dir) ? readdirSync(dir).filter((f) => MODULE_FILE.test(f)).sort() : [];
}

/** The same URL as the engine's loader imports: ES modules are cached, so each file runs once. */
async function importModule(dir: string, file: string): Promise<{ agents?: unknown }> {
  try {
    return (await import(pathToFileURL(resolve(join(dir, file))).href)) as { agents?: unknown };
  } catch (err) {
    throw new ConfigError(`machines module ${file} failed to load: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
