/** @module templates/templates-dir — registers the templates of the machines directory (`*.template.yaml|yml|json`) at boot, for tenant `default`. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { isRecord } from '../common/json.ts';
import type { Logger } from '../common/logger.ts';
import { TEMPLATE_FILE } from '../engine/definitions/machines-dir.ts';
import type { Templates } from './template-service.ts';

const TENANT = 'default';

/**
 * Registers every template file of `dir`; one identical to the latest version is not registered again.
 * Parents first, whatever the file order: a file whose parent is not registered yet is tried again
 * after the others. A file that stays invalid is logged and skipped (the server still starts).
 */
export async function loadTemplatesDir(dir: string, templates: Templates, log: Logger): Promise<void> {
  if (!existsSync(dir)) return;
  let pending: { file: string; doc: Record<string, unknown> }[] = [];
  for (const file of readdirSync(dir).filter((f) => TEMPLATE_FILE.test(f)).sort()) {
    try {
      const text = readFileSync(join(dir, file), 'utf8');
      const doc: unknown = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
      if (!isRecord(doc)) throw new Error('a template file holds one object');
      pending.push({ file, doc });
    } catch (err) {
      log.error('unreadable template in machines dir', { file, err: String(err) });
    }
  }
  const failures = new Map<string, unknown>();
  while (pending.length > 0) {
    const next: typeof pending = [];
    for (const p of pending) {
      try {
        await templates.create(TENANT, p.doc, { unlessLatest: true });
        failures.delete(p.file);
      } catch (err) {
        failures.set(p.file, err);
        next.push(p);
      }
    }
    // No progress in a round: what is left fails for a reason other than order.
    if (next.length === pending.length) break;
    pending = next;
  }
  for (const [file, err] of failures) log.error('invalid template in machines dir', { file, err: String(err), issues: (err as { issues?: unknown }).issues });
}
