/**
 * Layer boundaries (issue 14): the source tree breaks none of the rules of tests/support/layers.ts,
 * and each rule does fail on a tree that breaks it (a fixture in a temp dir, beside allowed imports
 * that must pass).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkLayers, LAYER_RULES, type LayerViolation } from '../support/layers.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const line = (v: LayerViolation): string => `${v.from} -> ${v.to} (${v.rule})`;

/** Fixture files: each imports what is listed (`import type` for a `type:` entry). */
const FIXTURE: Record<string, readonly string[]> = {
  'src/common/ids.ts': ['../engine/types.ts'],
  'src/common/execution.ts': [],
  'machines/flow.ts': ['../src/common/ids.ts', '../src/engine/types.ts'],
  'src/store/types.ts': ['../common/execution.ts'],
  'src/store/sqlite/db.ts': ['better-sqlite3', '../types.ts', '../../engine/types.ts'],
  'src/bus/types.ts': [],
  'src/bus/nats/nats-bus.ts': ['@nats-io/jetstream', '../types.ts', '../../api/server.ts'],
  'src/engine/types.ts': ['type:../bus/types.ts', 'type:../store/types.ts'],
  'src/engine/runtime/supervisor.ts': [
    '../types.ts',
    'type:../../api/server.ts',
    '../../store/sqlite/db.ts',
    '../../bus/nats/nats-bus.ts',
    'uWebSockets.js',
    '@nats-io/transport-node',
    '../../cli/serve.ts',
  ],
  'src/engine/create-engine.ts': ['./runtime/supervisor.ts'],
  'src/api/server.ts': ['type:../store/types.ts', 'type:../engine/types.ts', 'type:../store/sqlite/db.ts', 'uWebSockets.js', 'type:../tasks/task-service.ts', '../webhooks/dispatcher.ts'],
  'src/tasks/task-service.ts': ['../engine/types.ts', './no-such-file.ts'],
  'src/webhooks/dispatcher.ts': ['../engine/runtime/supervisor.ts', 'type:../store/types.ts', '../common/ids.ts'],
  'src/scheduler/scheduler.ts': ['../engine/types.ts', '../api/server.ts'],
  'src/client/client.ts': ['type:../common/execution.ts', 'type:../engine/types.ts'],
  'dashboard/src/main.ts': ['../../src/client/client.ts', '../../src/api/server.ts'],
  'src/cli/serve.ts': ['../store/sqlite/db.ts', '../bus/nats/nats-bus.ts', '../engine/create-engine.ts', '../api/server.ts', '../graphql/create-graphql.ts', 'graphql'],
  'src/graphql/create-graphql.ts': ['graphql'],
  'src/api/services.ts': ['type:../graphql/create-graphql.ts'],
  'src/index.ts': ['./cli/serve.ts'],
};

/** What the rules must find in the fixture, and nothing else (every other import is allowed). */
const EXPECTED = [
  'src/common/ids.ts -> src/engine/types.ts (common-is-the-ground)',
  'machines/flow.ts -> src/engine/types.ts (machines-only-common)',
  'src/store/sqlite/db.ts -> src/engine/types.ts (store-only-common)',
  'src/bus/nats/nats-bus.ts -> src/api/server.ts (bus-only-common)',
  'src/bus/nats/nats-bus.ts -> src/api/server.ts (below-the-api-not-api)',
  'src/engine/runtime/supervisor.ts -> src/api/server.ts (below-the-api-not-api)',
  'src/engine/runtime/supervisor.ts -> src/store/sqlite/db.ts (engine-only-bus-and-store-interfaces)',
  'src/engine/runtime/supervisor.ts -> src/bus/nats/nats-bus.ts (engine-only-bus-and-store-interfaces)',
  'src/engine/runtime/supervisor.ts -> uWebSockets.js (engine-no-drivers)',
  'src/engine/runtime/supervisor.ts -> @nats-io/transport-node (engine-no-drivers)',
  'src/engine/runtime/supervisor.ts -> src/store/sqlite/db.ts (store-implementations-only-from-the-root)',
  'src/api/server.ts -> src/store/sqlite/db.ts (store-implementations-only-from-the-root)',
  'src/engine/runtime/supervisor.ts -> src/bus/nats/nats-bus.ts (bus-implementations-only-from-the-root)',
  'src/webhooks/dispatcher.ts -> src/engine/runtime/supervisor.ts (engine-assembly-only-from-the-root)',
  'src/scheduler/scheduler.ts -> src/api/server.ts (below-the-api-not-api)',
  'src/api/server.ts -> src/webhooks/dispatcher.ts (api-services-injected)',
  'src/client/client.ts -> src/engine/types.ts (client-only-common)',
  'dashboard/src/main.ts -> src/api/server.ts (dashboard-only-client)',
  'src/engine/runtime/supervisor.ts -> src/cli/serve.ts (nothing-imports-the-cli)',
  'src/tasks/task-service.ts -> ./no-such-file.ts (relative-imports-resolve)',
  'src/engine/runtime/supervisor.ts -> src/bus/nats/nats-bus.ts (loaded-on-first-use)',
  'src/cli/serve.ts -> src/bus/nats/nats-bus.ts (loaded-on-first-use)',
  'src/cli/serve.ts -> src/graphql/create-graphql.ts (loaded-on-first-use)',
  'src/cli/serve.ts -> graphql (loaded-on-first-use)',
];

let fixture = '';
afterAll(async () => {
  if (fixture) await rm(fixture, { recursive: true, force: true });
});

describe('layers', () => {
  it('finds no forbidden import in src/, machines/ and dashboard/', async () => {
    // CI's second Node version runs a copy of the tree without dashboard/.
    const roots = ['src', 'machines', 'dashboard/src'].filter((d) => existsSync(join(ROOT, d)));
    const violations = await checkLayers(ROOT, roots);
    expect(violations.map(line)).toEqual([]);
  });

  it('fails on a tree that breaks each rule, and lets the allowed imports pass', async () => {
    fixture = await mkdtemp(join(tmpdir(), 'actorflow-layers-'));
    for (const [file, imports] of Object.entries(FIXTURE)) {
      const body = imports.map((m, i) => (m.startsWith('type:') ? `import type * as t${i} from '${m.slice(5)}';` : `import * as m${i} from '${m}';`));
      await mkdir(dirname(join(fixture, file)), { recursive: true });
      await writeFile(join(fixture, file), `${body.join('\n')}\nexport const here = ${JSON.stringify(file)};\n`);
    }
    const found = (await checkLayers(fixture, ['src', 'machines', 'dashboard'])).map(line);
    expect([...found].sort()).toEqual([...EXPECTED].sort());
    // Every rule is shown to bite.
    expect(new Set(EXPECTED.map((e) => /\(([^)]+)\)$/.exec(e)?.[1]))).toEqual(new Set(LAYER_RULES.map((r) => r.name)));
  });
});
