/** @module api/resources/definitions/routes — the route table of workflow definitions: register, validate, read, retire, diagram. */
import { Type } from '@sinclair/typebox';
import { ErrorCode } from '../../../common/errors.ts';
import type { RouteSpec } from '../../routing/route-spec.ts';
import { PAGE, definitionName, diagramFormat, flowDocument, positiveInt, shape, shortString } from '../../routing/schemas.ts';

const { Optional } = Type;
const nameParams = shape({ name: definitionName });
const NAME_404 = { name: ErrorCode.definitionNotFound } as const;

export const DEFINITION_ROUTES = [
  {
    id: 'listDefinitions',
    method: 'get',
    path: '/workflow-definitions',
    summary: 'Latest version of each definition; `?name=` is a prefix filter.',
    tag: 'definitions',
    query: shape({ name: Optional(Type.String({ maxLength: 200 })), ...PAGE }),
    status: 200,
  },
  {
    id: 'createDefinition',
    method: 'post',
    path: '/workflow-definitions',
    summary: 'Register a flow document (JSON or YAML). Without `version`: latest+1 (201). Identical explicit version: 200.',
    tag: 'definitions',
    body: { schema: flowDocument, yaml: true },
    status: 201,
    alsoStatus: [200],
  },
  {
    id: 'validateDefinition',
    method: 'post',
    path: '/workflow-definitions/validate',
    summary: 'Validate a flow document without saving: 200 `{ valid: true }` or 422 with `errors`.',
    tag: 'definitions',
    body: { schema: flowDocument, yaml: true },
    status: 200,
  },
  {
    id: 'getDefinition',
    method: 'get',
    path: '/workflow-definitions/{name}',
    summary: 'Latest version of a definition; `?version=N` for another.',
    tag: 'definitions',
    params: nameParams,
    paramNotFound: NAME_404,
    query: shape({ version: Optional(positiveInt) }),
    status: 200,
  },
  {
    id: 'listDefinitionVersions',
    method: 'get',
    path: '/workflow-definitions/{name}/versions',
    summary: 'Every version of a definition.',
    tag: 'definitions',
    params: nameParams,
    paramNotFound: NAME_404,
    query: shape(PAGE),
    status: 200,
  },
  {
    id: 'retireDefinition',
    method: 'delete',
    path: '/workflow-definitions/{name}',
    summary: 'Retire: new starts get 409 `definition_retired`; running executions continue.',
    tag: 'definitions',
    params: nameParams,
    paramNotFound: NAME_404,
    status: 204,
    produces: 'none',
  },
  {
    id: 'stepSchema',
    method: 'get',
    path: '/workflow-definitions/{name}/steps/{stepId}/schema',
    summary:
      '`{ input, output }` JSON Schemas of one step (null where nothing is declared): a task\'s input as its kind\'s agents declare it, its output as the step\'s ' +
      '`outputSchema` (else the kind\'s); a `workflow` step\'s input as that workflow\'s `inputSchema`. `?version=N` for another version.',
    tag: 'definitions',
    params: shape({ name: definitionName, stepId: shortString }),
    paramNotFound: { ...NAME_404, stepId: ErrorCode.stepNotFound },
    query: shape({ version: Optional(positiveInt) }),
    status: 200,
  },
  {
    id: 'definitionDiagram',
    method: 'get',
    path: '/workflow-definitions/{name}/diagram',
    summary: 'Mermaid `stateDiagram-v2` of a definition; `?format=json` → `{ mermaid }`.',
    tag: 'definitions',
    params: nameParams,
    paramNotFound: NAME_404,
    query: shape({ version: Optional(positiveInt), format: Optional(diagramFormat) }),
    status: 200,
    produces: 'mermaid',
  },
] as const satisfies readonly RouteSpec[];
