/** @module api/resources/templates/routes — the route table of workflow templates: create, list, read, delete, diagram, instantiate. */
import { Type } from '@sinclair/typebox';
import { ErrorCode } from '../../../common/errors.ts';
import { NAME_PATTERN } from '../../../engine/flow/flow-schema.ts';
import type { RouteSpec } from '../../routing/route-spec.ts';
import { PAGE, anyObject, diagramFormat, inOrder, positiveInt, shape } from '../../routing/schemas.ts';

const { Optional } = Type;
const templateName = inOrder(Type.String({ minLength: 1, maxLength: 200, description: 'Template name.' }));
const nameParams = shape({ name: templateName });
const NAME_404 = { name: ErrorCode.templateNotFound } as const;
const versionQuery = { version: Optional(inOrder(Type.Integer({ minimum: 1, description: 'A template version (default: the latest).' }))) };

/**
 * A template as posted: a flow document with `parameters` and `extends`. Only the template's own fields
 * are typed here; the service checks the rest as the flow it resolves to (422 `template_invalid`).
 */
const templateDocument = Type.Unsafe<Record<string, unknown>>({
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    version: { type: 'integer', minimum: 1 },
    description: { type: 'string' },
    extends: { type: 'string', minLength: 1, maxLength: 200, description: '`<template>` (its latest version) or `<template>@<version>`.' },
    parameters: { type: 'object', additionalProperties: true, description: 'JSON Schema of an object: its properties (with `default`s) are the parameters.' },
  },
  additionalProperties: true,
  description: 'A flow document with `parameters` and `${params.<name>}` placeholders, optionally `extends` another template.',
});

export const TEMPLATE_ROUTES = [
  {
    id: 'listTemplates',
    method: 'get',
    path: '/workflow-templates',
    summary: 'Latest version of each template; `?name=` is a prefix filter.',
    tag: 'templates',
    query: shape({ name: Optional(Type.String({ maxLength: 200 })), ...PAGE }),
    status: 200,
  },
  {
    id: 'createTemplate',
    method: 'post',
    path: '/workflow-templates',
    summary: 'Create a template version (JSON or YAML). Without `version`: latest+1 (201). Identical explicit version: 200. Its resolved document with the defaults must be a valid flow (422 `template_invalid`).',
    tag: 'templates',
    body: { schema: templateDocument, yaml: true },
    status: 201,
    alsoStatus: [200],
  },
  {
    id: 'getTemplate',
    method: 'get',
    path: '/workflow-templates/{name}',
    summary: 'Latest version of a template with its merged parameters and resolved document (placeholders kept); `?version=N` for another.',
    tag: 'templates',
    params: nameParams,
    paramNotFound: NAME_404,
    query: shape(versionQuery),
    status: 200,
  },
  {
    id: 'listTemplateVersions',
    method: 'get',
    path: '/workflow-templates/{name}/versions',
    summary: 'Every live version of a template, oldest first (deleted versions are left out).',
    tag: 'templates',
    params: nameParams,
    paramNotFound: NAME_404,
    query: shape(PAGE),
    status: 200,
  },
  {
    id: 'deleteTemplate',
    method: 'delete',
    path: '/workflow-templates/{name}',
    summary: 'Delete every version (`?version=N`: that one). Definitions made from it and executions started from it are unaffected.',
    tag: 'templates',
    params: nameParams,
    paramNotFound: NAME_404,
    query: shape(versionQuery),
    status: 204,
    produces: 'none',
  },
  {
    id: 'templateDiagram',
    method: 'get',
    path: '/workflow-templates/{name}/diagram',
    summary: 'Mermaid `stateDiagram-v2` of a template (its resolved document with the defaults); `?format=json` → `{ mermaid }`.',
    tag: 'templates',
    params: nameParams,
    paramNotFound: NAME_404,
    query: shape({ ...versionQuery, format: Optional(diagramFormat) }),
    status: 200,
    produces: 'mermaid',
  },
  {
    id: 'instantiateTemplate',
    method: 'post',
    path: '/workflow-templates/{name}/instantiate',
    summary: 'Register the template with `params` (defaults filled in) as a new version of definition `name` (default: the template\'s name; `source: template`). Params are validated: 422 with paths under `/params`.',
    tag: 'templates',
    params: nameParams,
    paramNotFound: NAME_404,
    query: shape(versionQuery),
    body: {
      schema: shape({
        name: Optional(inOrder(Type.String({ pattern: NAME_PATTERN, description: 'Name of the definition to register (a new version of it); default: the template\'s name.' }))),
        params: Optional(anyObject),
      }),
    },
    status: 201,
  },
] as const satisfies readonly RouteSpec[];
