import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('openWorkerDb close', () => {
  it('keeps the process alive until the database thread has exited (a bare script ends with code 0, not 13)', () => {
    // Outside vitest nothing else holds the event loop: exactly the case of a CLI or a bench closing its store last.
    const dir = mkdtempSync(join(tmpdir(), 'af-close-'));
    try {
      const db = pathToFileURL(resolve('src/store/sqlite/db.ts')).href;
      const script = join(dir, 'close.mts');
      writeFileSync(
        script,
        `import { openWorkerDb } from ${JSON.stringify(db)};\n` +
          `const db = await openWorkerDb(${JSON.stringify(join(dir, 'x.db'))});\n` +
          `await db.exec('CREATE TABLE t (x)');\nawait db.close();\nconsole.log('closed');\n`,
      );
      const r = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 20_000 });
      expect(r.stdout.trim(), r.stderr).toBe('closed');
      expect(r.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
