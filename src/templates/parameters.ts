/**
 * @module templates/parameters — a template's `parameters`: a JSON Schema of an object whose properties
 * (with `default`s) are the parameters. Merged along `extends`, checked, and compiled into the validator
 * that fills in the defaults of an instantiation's `params`.
 */
import type { ValidateFunction } from 'ajv';
import type { Issue } from '../common/errors.ts';
import { isRecord, pointerToken } from '../common/json.ts';
import { compileUncached, schemaIssues } from '../engine/definitions/schema-cache.ts';
import { PARAM_NAME } from './placeholders.ts';

export type ParameterSchema = Record<string, unknown>;

const NAME_RE = new RegExp(`^${PARAM_NAME}$`, 'u');

/** The parameters of a template whose chain declares none. */
export const NO_PARAMETERS: ParameterSchema = { type: 'object', properties: {} };

const propertiesOf = (s: ParameterSchema | undefined): Record<string, unknown> => (s !== undefined && isRecord(s['properties']) ? s['properties'] : {});
const requiredOf = (s: ParameterSchema | undefined): string[] => (s !== undefined && Array.isArray(s['required']) ? s['required'].filter((r): r is string => typeof r === 'string') : []);

/**
 * The parent's parameters with the child's over them: `properties` merged (the child's schema of a
 * parameter wins), `required` the union, any other keyword the child's when it gives one.
 */
export function mergeParameters(parent: ParameterSchema | undefined, own: ParameterSchema | undefined): ParameterSchema {
  const merged: ParameterSchema = { ...parent, ...own, type: 'object', properties: { ...propertiesOf(parent), ...propertiesOf(own) } };
  const required = [...new Set([...requiredOf(parent), ...requiredOf(own)])];
  if (required.length > 0) merged['required'] = required;
  else delete merged['required'];
  return merged;
}

/** Issues of the `parameters` a template gives (its own, before merging), under `/parameters`. */
export function parameterShapeIssues(own: unknown): Issue[] {
  if (own === undefined) return [];
  if (!isRecord(own)) return [{ path: '/parameters', message: 'must be a JSON Schema of an object: { type: object, properties: { <name>: { type, default? } }, required? }' }];
  const issues: Issue[] = [];
  if (own['type'] !== undefined && own['type'] !== 'object') issues.push({ path: '/parameters/type', message: 'must be object: the parameters are the properties of one object' });
  const props = own['properties'];
  if (props !== undefined && !isRecord(props)) issues.push({ path: '/parameters/properties', message: 'must be an object of parameter schemas by name' });
  for (const [name, schema] of Object.entries(isRecord(props) ? props : {})) {
    const at = `/parameters/properties/${pointerToken(name)}`;
    if (!NAME_RE.test(name)) issues.push({ path: at, message: 'a parameter name is letters, digits and _ (not starting with a digit): placeholders name it as ${params.<name>}' });
    if (!isRecord(schema) && typeof schema !== 'boolean') issues.push({ path: at, message: 'must be a JSON Schema' });
  }
  const required = own['required'];
  if (required !== undefined && (!Array.isArray(required) || required.some((r) => typeof r !== 'string'))) issues.push({ path: '/parameters/required', message: 'must be an array of parameter names' });
  return issues;
}

/** What an instantiation does with `params`: fills in the defaults, then checks them. */
export interface ParameterValidator {
  /** The declared defaults alone (what a template's own validation instantiates with). */
  readonly defaults: Readonly<Record<string, unknown>>;
  /** `params` with the defaults filled in, or the issues under `/params`. */
  check(params: Readonly<Record<string, unknown>>): { ok: true; values: Record<string, unknown> } | { ok: false; issues: Issue[] };
}

/**
 * Compiles merged parameters (in an Ajv of their own: the validator lives as long as its cached template)
 * and checks each default against its parameter's schema. Issues point under `/parameters`.
 */
export function compileParameters(schema: ParameterSchema): { validator: ParameterValidator; issues: Issue[] } | { validator: null; issues: Issue[] } {
  let validate: ValidateFunction;
  try {
    validate = compileUncached(schema, { useDefaults: true });
  } catch (err) {
    return { validator: null, issues: [{ path: '/parameters', message: `is not a valid JSON Schema: ${err instanceof Error ? err.message : String(err)}` }] };
  }
  const defaults: Record<string, unknown> = {};
  validate(defaults);
  // Checking {} reports the required parameters without a default too: those are fine here.
  const issues = (validate.errors ?? [])
    .filter((e) => !(e.keyword === 'required' && e.instancePath === ''))
    .map((e): Issue => {
      const top = e.instancePath.split('/')[1];
      const message = `the defaults do not match the schema: ${e.instancePath || 'the parameters'} ${e.message ?? 'invalid'}`;
      return { path: top === undefined ? '/parameters' : `/parameters/properties/${top}/default`, message };
    });
  const validator: ParameterValidator = {
    defaults: structuredClone(defaults),
    check(params) {
      const values = structuredClone(params) as Record<string, unknown>;
      return validate(values) ? { ok: true, values } : { ok: false, issues: schemaIssues(validate, '/params') };
    },
  };
  return { validator, issues };
}
