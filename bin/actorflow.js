#!/usr/bin/env node
// Runs the TypeScript CLI through tsx's loader (a dependency), so no build step is needed.
import { register } from 'node:module';
import { pathToFileURL } from 'node:url';
register('tsx/esm', pathToFileURL('./'));
await import('../src/cli/main.ts');
