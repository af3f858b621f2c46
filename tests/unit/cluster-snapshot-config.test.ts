/** The read-model snapshot settings of cluster mode (src/cli/config.ts): read from the environment, checked, absent when unset. */
import { describe, expect, it } from 'vitest';
import { ConfigError, readServeConfig } from '../../src/cli/config.ts';

const CLUSTER = { ACTORFLOW_CLUSTER: '1', ACTORFLOW_NODE_ID: 'n1', NATS_URL: 'nats://127.0.0.1:1' };

describe('cluster snapshot settings', () => {
  it('reads ACTORFLOW_SNAPSHOT_INTERVAL_MS, ACTORFLOW_SNAPSHOT_MIN_COMMITS and ACTORFLOW_COMPACT_MARGIN', () => {
    const c = readServeConfig([], { ...CLUSTER, ACTORFLOW_SNAPSHOT_INTERVAL_MS: '0', ACTORFLOW_SNAPSHOT_MIN_COMMITS: '50', ACTORFLOW_COMPACT_MARGIN: '7' });
    expect(c.cluster?.snapshots).toEqual({ intervalMs: 0, minCommits: 50, compactMargin: 7 });
  });

  it('leaves them to their defaults when unset', () => {
    expect(readServeConfig([], CLUSTER).cluster?.snapshots).toBeUndefined();
  });

  it('refuses a value out of range', () => {
    expect(() => readServeConfig([], { ...CLUSTER, ACTORFLOW_SNAPSHOT_MIN_COMMITS: '0' })).toThrow(ConfigError);
    expect(() => readServeConfig([], { ...CLUSTER, ACTORFLOW_COMPACT_MARGIN: '-1' })).toThrow(ConfigError);
  });
});
