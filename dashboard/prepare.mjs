// `npm install` builds the dashboard (the `prepare` script). An install without devDependencies
// (`--omit=dev`) has no vite: the server then answers `/` with 503 until `npm run build:ui` runs,
// which beats failing the whole install.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

try {
  createRequire(import.meta.url).resolve('vite');
} catch {
  console.warn('actorflow: vite is not installed (devDependencies omitted); skipping the dashboard build');
  process.exit(0);
}
const run = spawnSync('npm', ['run', 'build:ui'], { stdio: 'inherit' });
process.exit(run.status ?? 1);
