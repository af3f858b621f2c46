/** @module api/static/reference-routes — the route table of the API reference (OpenAPI, Swagger UI). */
import { shape, stringEnum } from '../routing/schemas.ts';
import type { RouteSpec } from '../routing/route-spec.ts';

/** Files of swagger-ui-dist the docs page loads (served from node_modules, never a CDN). */
export const DOCS_ASSETS = ['swagger-ui.css', 'swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js', 'favicon-32x32.png', 'favicon-16x16.png'] as const;

export const REFERENCE_ROUTES = [
  {
    id: 'openapi',
    method: 'get',
    path: '/openapi.json',
    auth: 'none',
    summary: 'This OpenAPI 3.1 document, generated from the route table that validates requests.',
    tag: 'reference',
    status: 200,
  },
  {
    id: 'docs',
    method: 'get',
    path: '/docs',
    auth: 'none',
    summary: 'Interactive API reference (Swagger UI, served from local assets).',
    tag: 'reference',
    status: 200,
    produces: 'html',
  },
  {
    id: 'docsAsset',
    method: 'get',
    path: '/docs/assets/{file}',
    auth: 'none',
    summary: 'A static file of the API reference page (swagger-ui-dist).',
    tag: 'reference',
    params: shape({ file: stringEnum([...DOCS_ASSETS]) }),
    status: 200,
    produces: 'asset',
  },
] as const satisfies readonly RouteSpec[];
