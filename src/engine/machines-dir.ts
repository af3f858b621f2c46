/** @module engine/machines-dir — registers the flow documents and code-first definitions of a directory at boot. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse as parseYaml } from 'yaml';
import type { Logger } from '../common/logger.ts';
import type { DefinitionRegistry } from './definitions.ts';
import { deepEqual } from './expressions.ts';

const TENANT = 'default';

/** Loads `*.yaml|*.yml|*.json` documents and `*.ts|*.js` modules exporting `definitions` (code-first). A document equal to the latest version is not registered again. */
export async function loadMachinesDir(dir: string, registry: DefinitionRegistry, log: Logger): Promise<void> {
  if (!existsSync(dir)) return;
  const docs: { doc: unknown; source: 'document' | 'code'; file: string }[] = [];
  for (const file of readdirSync(dir).sort()) {
    const path = join(dir, file);
    const ext = extname(file);
    if (ext === '.yaml' || ext === '.yml') docs.push({ doc: parseYaml(readFileSync(path, 'utf8')), source: 'document', file });
    else if (ext === '.json') docs.push({ doc: JSON.parse(readFileSync(path, 'utf8')), source: 'document', file });
    else if ((ext === '.ts' || ext === '.js') && !file.endsWith('.d.ts')) {
      const mod = (await import(pathToFileURL(resolve(path)).href)) as { definitions?: unknown[] };
      for (const doc of mod.definitions ?? []) docs.push({ doc, source: 'code', file });
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
        await registry.register(TENANT, doc, source);
      } catch (err) {
        log.error('invalid definition in machines dir', { file, err: String(err) });
      }
      pending.splice(i, 1);
    }
  }
}
