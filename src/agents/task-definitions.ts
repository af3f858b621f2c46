/**
 * @module agents/task-definitions — the kinds agents offer as the API shows them (docs/api/operations.md,
 * "Task definitions"): every kind an agent not offline serves (the built-in and in-process ones
 * included), how many of its agents are online and busy, and what they declare about it.
 */
import type { AgentView, KindDefinition } from '../bus/types.ts';

export interface TaskDefinitionView {
  readonly kind: string;
  /** Agents of the kind by status (offline ones are not counted). */
  readonly agents: { readonly online: number; readonly busy: number };
  readonly inputSchema: Record<string, unknown> | null;
  readonly outputSchema: Record<string, unknown> | null;
  readonly description: string | null;
}

/** Every kind served now, in kind order; `definitionOf` is what the agents of a kind declare (the bus's choice among them). */
export function taskDefinitions(agents: readonly AgentView[], definitionOf: (kind: string) => KindDefinition | undefined): TaskDefinitionView[] {
  const counts = new Map<string, { online: number; busy: number }>();
  for (const a of agents) {
    if (a.status === 'offline') continue;
    for (const kind of a.kinds) {
      let c = counts.get(kind);
      if (c === undefined) counts.set(kind, (c = { online: 0, busy: 0 }));
      c[a.status]++;
    }
  }
  return [...counts.keys()].sort().map((kind) => {
    const def = definitionOf(kind);
    return {
      kind,
      agents: counts.get(kind) as { online: number; busy: number },
      inputSchema: def?.inputSchema ?? null,
      outputSchema: def?.outputSchema ?? null,
      description: def?.description ?? null,
    };
  });
}
