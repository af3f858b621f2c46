/**
 * The direct dispatch path's choice of agent (bus/agent-registry.ts `pickDirect`): an agent of this process
 * with a free slot first, then the least loaded; never a full, suspended, offline or queue-only one.
 */
import { describe, expect, it } from 'vitest';
import { AgentRegistry } from '../../src/bus/agent-registry.ts';
import type { Heartbeat } from '../../src/bus/types.ts';

const beat = (id: string, over: Partial<Heartbeat> = {}): Heartbeat => ({
  id, name: id, kinds: ['echo'], capacity: 4, inFlight: 0, inFlightDirect: 0, version: '1', startedAt: 0, direct: true, ...over,
});

function registry(): AgentRegistry {
  return new AgentRegistry(() => 1_000, 10_000);
}

describe('pickDirect', () => {
  it('prefers an agent of this process while it has a free slot, even when a remote one is less loaded', () => {
    const r = registry();
    r.heartbeat(beat('remote'));
    r.heartbeat(beat('local'));
    let inFlight = 3;
    r.attachLive('local', () => ({ inFlight, inFlightDirect: 0 }));
    expect(r.pickDirect('echo')).toBe('local');
    inFlight = 4; // full: the remote one takes it
    expect(r.pickDirect('echo')).toBe('remote');
  });

  it('among agents elsewhere, picks the least loaded; none when every one is full, suspended or queue-only', () => {
    const r = registry();
    r.heartbeat(beat('a', { inFlight: 2 }));
    r.heartbeat(beat('b', { inFlight: 1 }));
    r.heartbeat(beat('q', { direct: false }));
    expect(r.pickDirect('echo')).toBe('b');
    r.suspend('b');
    expect(r.pickDirect('echo')).toBe('a');
    r.hold('a', 1);
    r.hold('a', 1);
    expect(r.pickDirect('echo')).toBeUndefined();
    expect(r.pickDirect('other-kind')).toBeUndefined();
  });
});
