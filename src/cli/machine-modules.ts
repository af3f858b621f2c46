/** @module cli/machine-modules — lets an installed (compiled) server import the `.ts` modules of a machines dir. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from './config.ts';

/** Running from the sources means a TypeScript loader (tsx, vitest) is already active. */
const RUNNING_FROM_SOURCE = import.meta.url.endsWith('.ts');

/**
 * Before the machines dir is loaded: when it holds `.ts` modules and this server runs compiled JS,
 * registers tsx (an optional peer dependency, loaded only here), or fails saying what to do
 * instead of an unknown-extension error.
 */
export async function prepareMachineModules(dir: string): Promise<'none' | 'loader' | 'tsx'> {
  if (!existsSync(dir)) return 'none';
  const ts = readdirSync(dir).filter((f) => /\.m?ts$/.test(f) && !/\.d\.m?ts$/.test(f));
  if (ts.length === 0) return 'none';
  if (RUNNING_FROM_SOURCE) return 'loader';
  const fix = 'or compile them to .js';
  // tsx compiles a `.ts` file outside an ES-module scope to CommonJS, whose `definitions` export the
  // compiled server's import() cannot see: the definitions would be skipped without a word.
  if (!inModuleScope(dir)) {
    throw new ConfigError(`${dir} holds TypeScript modules (${ts.join(', ')}) outside an ES-module scope: add "type": "module" to the nearest package.json, ${fix}`);
  }
  let register: (() => unknown) | undefined;
  try {
    ({ register } = (await import('tsx/esm/api')) as { register: () => unknown });
  } catch {
    throw new ConfigError(`${dir} holds TypeScript modules (${ts.join(', ')}): install tsx next to actorflow (npm install tsx), ${fix}`);
  }
  register();
  return 'tsx';
}

/** Whether the nearest package.json above `dir` says `"type": "module"`. */
function inModuleScope(dir: string): boolean {
  for (let d = resolve(dir); ; d = dirname(d)) {
    const pkg = join(d, 'package.json');
    if (existsSync(pkg)) {
      try {
        return (JSON.parse(readFileSync(pkg, 'utf8')) as { type?: unknown }).type === 'module';
      } catch {
        return false;
      }
    }
    if (dirname(d) === d) return false;
  }
}
