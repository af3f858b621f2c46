#!/usr/bin/env node
// An installed package runs the compiled CLI in dist/ (built by `npm pack`'s prepack; no tsx at run time).
// A git checkout has src/ (never in the tarball) and runs the sources through tsx, a devDependency,
// so edits apply without a build and a stale dist/ is never run by mistake.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);

async function tsxRegister() {
  try {
    return (await import('tsx/esm/api')).register;
  } catch {
    return undefined; // a checkout installed without devDependencies: use dist/ if it was built
  }
}

const register = existsSync(source) ? await tsxRegister() : undefined;
if (register !== undefined) {
  register();
  await import(source.href);
} else if (existsSync(new URL('../dist/cli/main.js', import.meta.url))) {
  await import('../dist/cli/main.js');
} else {
  process.stderr.write('actorflow: dist/ is not built; run `npm run build` (or `npm install` with devDependencies to run the sources)\n');
  process.exit(1);
}
