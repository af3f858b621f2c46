/**
 * The layer rules of the source tree (docs/architecture.md explains them), and `checkLayers`, which
 * runs dependency-cruiser over a tree and returns every import that breaks one. Type-only imports
 * count: an interface imported from the wrong layer ties the layers as much as a value does.
 */
import { cruise, type IRegularForbiddenRuleType } from 'dependency-cruiser';

/** npm packages that are drivers of a transport, a database or a telemetry exporter. */
const DRIVERS = '(^|node_modules/)(@nats-io/|uWebSockets\\.js|better-sqlite3|@opentelemetry/)';

const rule = (name: string, comment: string, from: IRegularForbiddenRuleType['from'], to: IRegularForbiddenRuleType['to']): IRegularForbiddenRuleType => ({
  name,
  comment,
  severity: 'error',
  from,
  to,
});

export const LAYER_RULES: readonly IRegularForbiddenRuleType[] = [
  rule('common-is-the-ground', 'src/common imports no other folder of the project', { path: '^src/common/' }, { path: '^(src/(?!common/)|machines/)' }),
  rule('machines-only-common', 'flow machines are deterministic: common (and actorflow/machine, itself common only) only', { path: '^(machines/|src/machine/)' }, { path: '^src/(?!common/|machine/)' }),
  rule('store-only-common', 'the store knows no engine, bus or api', { path: '^src/store/' }, { path: '^(src/(?!store/|common/)|machines/)' }),
  rule('bus-only-common', 'the bus knows no engine, store or api', { path: '^src/bus/' }, { path: '^(src/(?!bus/|common/)|machines/)' }),
  rule(
    'below-the-api-not-api',
    'the engine, store, bus and the services the api serves (graphql included) never import the api',
    { path: '^(src/(common|store|bus|engine|agents|scheduler|tasks|telemetry|webhooks|http-agents|tracing|graphql|tenants|templates|documents|cluster|bulk)/|machines/)' },
    { path: '^src/api/' },
  ),
  rule(
    'engine-only-bus-and-store-interfaces',
    'the engine sees the Bus and Store interfaces, never an implementation',
    { path: '^src/engine/' },
    { path: '^src/(bus|store)/', pathNot: '^src/(bus|store)/types\\.ts$' },
  ),
  rule('engine-no-drivers', 'no NATS, uWebSockets.js, SQLite driver or OpenTelemetry in the engine', { path: '^src/engine/' }, { path: DRIVERS }),
  rule(
    'store-implementations-only-from-the-root',
    'only the composition root (src/cli) picks the SQLite stores; everyone else imports src/store/types.ts',
    { pathNot: '^src/(store/sqlite|cli)/' },
    { path: '^src/store/sqlite/' },
  ),
  rule(
    'bus-implementations-only-from-the-root',
    'only the composition root picks a bus (agents: the worker SDK speaks NATS itself; cluster-bus: the NATS bus of a cluster node, which routes results by partition); everyone else imports src/bus/types.ts',
    { pathNot: '^src/(bus|agents|cli)/|^src/cluster/cluster-bus\\.ts$' },
    { path: '^src/bus/', pathNot: '^src/bus/types\\.ts$' },
  ),
  rule(
    'engine-assembly-only-from-the-root',
    "the engine's assembly (create-engine, supervisor) is the composition root's; others use src/engine/types.ts",
    { path: '^src/(?!engine/|cli/)' },
    { path: '^src/engine/(create-engine|runtime/supervisor)\\.ts$' },
  ),
  rule(
    'api-services-injected',
    'the api builds no service: it imports the service modules for their types, the composition root hands it the instances',
    { path: '^src/api/' },
    {
      path: '^src/(webhooks/dispatcher|http-agents/http-agents|scheduler/scheduler|tasks/task-service|telemetry/telemetry-service|graphql/create-graphql|agents/builtin-agents|tracing/otlp-tracing|tenants/tenant-registry|templates/template-service|documents/document-service|bulk/bulk-service)\\.ts$',
      dependencyTypesNot: ['type-only'],
    },
  ),
  rule(
    'loaded-on-first-use',
    'graphql-js and the NATS bus are imported by the first request or the configuration that needs them (a dynamic import), never at boot',
    { path: '^src/', pathNot: '^src/(graphql|bus/nats|cluster)/' },
    { path: '^src/(graphql/create-graphql|bus/nats/nats-bus)\\.ts$|(^|node_modules/)graphql(/|$)', dependencyTypesNot: ['type-only', 'dynamic-import'] },
  ),
  rule('client-only-common', 'the client is shipped alone: src/common and itself, no server code', { path: '^src/client/' }, { path: '^(src/(?!client/|common/)|machines/)' }),
  rule('dashboard-only-client', 'the dashboard talks to the server through src/client', { path: '^dashboard/' }, { path: '^(src/(?!client/|common/)|machines/)' }),
  rule('nothing-imports-the-cli', 'src/cli is the top: only the package entry src/index.ts re-exports from it', { pathNot: '^src/(cli/|index\\.ts$)' }, { path: '^src/cli/' }),
  // Without it a rule could pass on an import the resolver missed (its target would be the raw specifier).
  rule('relative-imports-resolve', 'every relative import names a file that exists', {}, { couldNotResolve: true, path: '^\\.' }),
];

/** One broken rule: `from` imports `to`, paths relative to the tree's root. */
export interface LayerViolation {
  readonly from: string;
  readonly to: string;
  readonly rule: string;
}

/** Every import of the files under `roots` (folders of `baseDir`) that breaks a rule of `LAYER_RULES`. */
export async function checkLayers(baseDir: string, roots: readonly string[]): Promise<LayerViolation[]> {
  const result = await cruise(
    [...roots],
    {
      baseDir,
      validate: true,
      ruleSet: { forbidden: [...LAYER_RULES] },
      // Parse the TypeScript source itself: type-only imports stay in.
      tsPreCompilationDeps: true,
      doNotFollow: { path: 'node_modules' },
      enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'types', 'node', 'default'] },
    },
    // A fresh resolver for each tree (the test checks the project and a fixture in one process).
    { bustTheCache: true },
  );
  if (typeof result.output === 'string') throw new Error('dependency-cruiser answered text, not a cruise result');
  return result.output.summary.violations.map((v) => ({ from: v.from, to: v.to, rule: v.rule.name }));
}
