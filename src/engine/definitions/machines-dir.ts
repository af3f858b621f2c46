/** @module engine/definitions/machines-dir — registers the flow documents and code-first definitions of a directory at boot. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse as parseYaml } from 'yaml';
import type { AnyStateMachine } from 'xstate';
import type { Logger } from '../../common/logger.ts';
import type { DefinitionRegistry } from './definitions.ts';
import { deepEqual } from '../flow/expressions.ts';

const TENANT = 'default';

const MODULE_EXTENSIONS: ReadonlySet<string> = new Set(['.ts', '.mts', '.js', '.mjs']);

/** Workflow templates of the directory (`*.template.yaml|yml|json`): loaded by the template service, not as definitions. */
export const TEMPLATE_FILE = /\.template\.(?:ya?ml|json)$/u;

/** An XState machine as `createMachine`/`setup().createMachine` return it (the user's copy of xstate may not be ours). */
function isStateMachine(v: unknown): v is AnyStateMachine {
  return typeof v === 'object' && v !== null && typeof (v as { getInitialSnapshot?: unknown }).getInitialSnapshot === 'function' && typeof (v as { root?: unknown }).root === 'object' && typeof (v as { config?: unknown }).config === 'object';
}

/**
 * Loads `*.yaml|*.yml|*.json` documents (not `*.template.*`: templates/templates-dir.ts), and modules (`.ts`, `.mts`, `.js`, `.mjs`) exporting `definitions`
 * (code-first documents) and `machines` (XState machines by workflow name). A document equal to the latest
 * version is not registered again; a machine whose source hash is the latest version's neither.
 */
export async function loadMachinesDir(dir: string, registry: DefinitionRegistry, log: Logger): Promise<void> {
  if (!existsSync(dir)) return;
  const docs: { doc: unknown; source: 'document' | 'code'; file: string }[] = [];
  const machines: { name: string; machine: unknown; file: string }[] = [];
  for (const file of readdirSync(dir).sort()) {
    const path = join(dir, file);
    const ext = extname(file);
    if (TEMPLATE_FILE.test(file)) continue;
    if (ext === '.yaml' || ext === '.yml') docs.push({ doc: parseYaml(readFileSync(path, 'utf8')), source: 'document', file });
    else if (ext === '.json') docs.push({ doc: JSON.parse(readFileSync(path, 'utf8')), source: 'document', file });
    else if (MODULE_EXTENSIONS.has(ext) && !/\.d\.m?ts$/.test(file)) {
      const mod = (await import(pathToFileURL(resolve(path)).href)) as { definitions?: unknown[]; machines?: unknown };
      for (const doc of mod.definitions ?? []) docs.push({ doc, source: 'code', file });
      if (mod.machines !== undefined && (typeof mod.machines !== 'object' || mod.machines === null)) log.error('the machines export is not an object of machines by workflow name', { file });
      else for (const [name, machine] of Object.entries(mod.machines ?? {})) machines.push({ name, machine, file });
    }
  }
  // Machines first: a document's `workflow` step may start one.
  for (const { name, machine, file } of machines) {
    try {
      if (!isStateMachine(machine)) throw new Error(`machines.${name} is not an XState machine (createMachine or setup().createMachine)`);
      await registry.registerMachine(TENANT, name, machine);
    } catch (err) {
      log.error('machine in machines dir cannot run as a workflow', { file, name, err: String(err), issues: (err as { issues?: unknown }).issues });
    }
  }
  // Children first: a document may name another one in a `workflow` step.
  const pending = docs.slice();
  for (let round = 0; round < 3 && pending.length > 0; round++) {
    for (let i = 0; i < pending.length; ) {
      const { doc, source, file } = pending[i] as (typeof pending)[number];
      const name = (doc as { name?: unknown })?.name;
      if (typeof name === 'string' && registry.has(TENANT, name)) {
        const latest = registry.get(TENANT, name).document as Record<string, unknown>;
        const { version: _a, ...a } = latest;
        const { version: _b, ...b } = doc as Record<string, unknown>;
        if (deepEqual(a, b)) {
          pending.splice(i, 1);
          continue;
        }
      }
      if (registry.validate(TENANT, doc).length > 0 && round < 2) {
        i++;
        continue;
      }
      try {
        // Unless the latest is this document already: nodes booting together with the same directory add one version.
        await registry.register(TENANT, doc, source, undefined, true);
      } catch (err) {
        log.error('invalid definition in machines dir', { file, err: String(err) });
      }
      pending.splice(i, 1);
    }
  }
}
