/**
 * @module bus/kind-definitions — what agents declare about their kinds (input and output JSON Schemas, a
 * description), read defensively from heartbeats: agents in other languages may send nothing, or
 * something malformed (docs/agent-protocol.md, "Heartbeats"), and an older agent declares nothing.
 */
import { isPlainRecord } from '../common/json.ts';
import type { KindDefinition, KindDefinitions } from './types.ts';

/** One kind's declaration, well-formed fields only; undefined when none is left. */
function readOne(raw: unknown): KindDefinition | undefined {
  if (!isPlainRecord(raw)) return undefined;
  const def: { -readonly [K in keyof KindDefinition]: KindDefinition[K] } = {};
  if (isPlainRecord(raw.inputSchema)) def.inputSchema = raw.inputSchema;
  if (isPlainRecord(raw.outputSchema)) def.outputSchema = raw.outputSchema;
  if (typeof raw.description === 'string') def.description = raw.description;
  return Object.keys(def).length === 0 ? undefined : def;
}

/** The declarations of `kinds` found in a heartbeat's `definitions` (others ignored); undefined when there is none. */
export function readKindDefinitions(raw: unknown, kinds: readonly string[]): KindDefinitions | undefined {
  if (!isPlainRecord(raw)) return undefined;
  let out: Record<string, KindDefinition> | undefined;
  for (const kind of kinds) {
    const def = Object.hasOwn(raw, kind) ? readOne(raw[kind]) : undefined;
    if (def !== undefined) (out ??= {})[kind] = def;
  }
  return out;
}

/** The `kinds` option of `createAgent`: a list, or `{ <kind>: { inputSchema?, outputSchema?, description? } }`. */
export type KindsOption = readonly string[] | Readonly<Record<string, KindDefinition>>;

/**
 * The kinds of a `kinds` option and their declarations.
 * @throws TypeError naming the kind when a declaration is not `{ inputSchema?, outputSchema?, description? }`
 */
export function splitKinds(option: KindsOption): { kinds: string[]; definitions: KindDefinitions | undefined } {
  if (Array.isArray(option)) return { kinds: [...(option as readonly string[])], definitions: undefined };
  const entries = Object.entries(option as Readonly<Record<string, unknown>>);
  for (const [kind, def] of entries) {
    const bad = (what: string) => new TypeError(`kind ${JSON.stringify(kind)}: ${what}`);
    if (!isPlainRecord(def)) throw bad('must be an object { inputSchema?, outputSchema?, description? }');
    const unknown = Object.keys(def).filter((k) => k !== 'inputSchema' && k !== 'outputSchema' && k !== 'description');
    if (unknown.length > 0) throw bad(`unknown field ${unknown.map((k) => JSON.stringify(k)).join(', ')} (inputSchema, outputSchema, description)`);
    for (const key of ['inputSchema', 'outputSchema'] as const) if (def[key] !== undefined && !isPlainRecord(def[key])) throw bad(`\`${key}\` must be a JSON Schema object`);
    if (def.description !== undefined && typeof def.description !== 'string') throw bad('`description` must be a string');
  }
  const kinds = entries.map(([kind]) => kind);
  return { kinds, definitions: readKindDefinitions(option, kinds) };
}
