// `npm install` builds the dashboard (the `prepare` script). An install without devDependencies
// (`--omit=dev`) has no vite: the server then answers `/` with 503 until `npm run build:ui` runs,
// which beats failing the whole install. `npm pack`/`npm publish` run it too (after prepack's
// build:lib): there a missing vite is an error, since the tarball must carry dist/dashboard.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const packing = process.env.npm_command === 'pack' || process.env.npm_command === 'publish';
try {
  createRequire(import.meta.url).resolve('vite');
} catch {
  console.warn('actorflow: vite is not installed (devDependencies omitted); skipping the dashboard build');
  process.exit(packing ? 1 : 0);
}
const run = spawnSync('npm', ['run', 'build:ui'], { stdio: 'inherit' });
process.exit(run.status ?? 1);
