/** What agents declare about their kinds: read defensively from heartbeats, and which declaration of a kind the registry names. */
import { describe, expect, it } from 'vitest';
import { AgentRegistry } from '../../src/bus/agent-registry.ts';
import { readKindDefinitions, splitKinds } from '../../src/bus/kind-definitions.ts';
import type { Heartbeat } from '../../src/bus/types.ts';

const A = { inputSchema: { type: 'object', required: ['a'] } };
const B = { inputSchema: { type: 'object', required: ['b'] }, description: 'b' };

function hb(id: string, o: Partial<Heartbeat> = {}): Heartbeat {
  return { id, name: id, kinds: ['k'], capacity: 2, inFlight: 0, version: '1', startedAt: 0, ...o };
}

describe('readKindDefinitions', () => {
  it('keeps the well-formed fields of the kinds served, and nothing else', () => {
    const raw = {
      k: { inputSchema: { type: 'object' }, outputSchema: 'nope', description: 7, extra: true },
      other: { description: 'not served' },
      empty: { inputSchema: [] },
    };
    expect(readKindDefinitions(raw, ['k', 'empty'])).toEqual({ k: { inputSchema: { type: 'object' } } });
    for (const junk of [undefined, null, 'x', [A], { k: null }, { k: [] }]) expect(readKindDefinitions(junk, ['k'])).toBeUndefined();
  });
});

describe('splitKinds', () => {
  it('takes a list as it is, and a map as kinds with their declarations', () => {
    expect(splitKinds(['a', 'b'])).toEqual({ kinds: ['a', 'b'], definitions: undefined });
    expect(splitKinds({ a: A, b: {} })).toEqual({ kinds: ['a', 'b'], definitions: { a: A } });
  });

  it('throws naming the kind for a malformed declaration', () => {
    expect(() => splitKinds({ a: { inputSchema: 'x' } } as never)).toThrow(/kind "a": `inputSchema` must be a JSON Schema object/);
    expect(() => splitKinds({ a: { schema: {} } } as never)).toThrow(/kind "a": unknown field "schema"/);
    expect(() => splitKinds({ a: 5 } as never)).toThrow(/kind "a": must be an object/);
    expect(() => splitKinds({ a: { description: 1 } } as never)).toThrow(/`description` must be a string/);
  });
});

describe('AgentRegistry.definition', () => {
  it('names the declaration of the most recently started agent not offline that declares one', () => {
    const r = new AgentRegistry(() => 0, 1000);
    r.heartbeat(hb('old', { startedAt: 1, definitions: { k: A } }));
    r.heartbeat(hb('new', { startedAt: 2, definitions: { k: B } }));
    r.heartbeat(hb('plain', { startedAt: 3 }));
    expect(r.definition('k')).toEqual(B);
    r.heartbeat(hb('new', { startedAt: 2, leaving: true, definitions: { k: B } }));
    expect(r.definition('k')).toEqual(A);
    expect(r.definition('unknown')).toBeUndefined();
  });

  it('keeps what offline agents declared while no agent serves the kind, and drops it when one that declares nothing does', () => {
    const r = new AgentRegistry(() => 0, 1000);
    r.heartbeat(hb('a', { definitions: { k: A } }));
    r.heartbeat(hb('a', { leaving: true, definitions: { k: A } }));
    expect(r.definition('k')).toEqual(A);
    r.heartbeat(hb('plain'));
    expect(r.definition('k')).toBeUndefined();
  });

  it('keeps the same object while heartbeats repeat an equal declaration, a new one when it changes', () => {
    const r = new AgentRegistry(() => 0, 1000);
    r.heartbeat(hb('a', { definitions: { k: structuredClone(A) } }));
    const first = r.definition('k');
    r.heartbeat(hb('a', { inFlight: 2, definitions: { k: structuredClone(A) } }));
    expect(r.definition('k')).toBe(first);
    r.heartbeat(hb('a', { definitions: { k: B } }));
    expect(r.definition('k')).toEqual(B);
    r.heartbeat(hb('a'));
    expect(r.definition('k')).toBeUndefined();
  });
});
