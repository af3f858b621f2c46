/** @module api/static/dashboard-routes — the route table of the web dashboard: its page and its Vite-built assets (public). */
import { Type } from '@sinclair/typebox';
import { shape } from '../routing/schemas.ts';
import type { RouteSpec } from '../routing/route-spec.ts';

/**
 * File names Vite writes under `assets/` (`index-Bx3_k9aQ.js`): dot-separated word segments, so
 * no `..`, no slash. The handler then serves only names found in the build directory at boot.
 */
export const DASHBOARD_ASSET_PATTERN = '^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*\\.(js|css|svg|png|ico|woff2?|ttf)$';

export const DASHBOARD_ROUTES = [
  {
    id: 'dashboard',
    method: 'get',
    path: '/',
    root: true,
    auth: 'none',
    summary: 'The web dashboard (static page; it asks for an API key and calls the API with it). 503 `not_ready` when not built (`npm run build:ui`).',
    tag: 'dashboard',
    // Links may carry any query (`?utm_source=`): the page routes by `#hash` and ignores it.
    query: { type: 'object', additionalProperties: { type: 'string', maxLength: 2048 } },
    status: 200,
    produces: 'html',
  },
  {
    id: 'dashboardAsset',
    method: 'get',
    path: '/assets/{file}',
    root: true,
    auth: 'none',
    summary: 'A static file of the dashboard (content-hashed name, cached for a year).',
    tag: 'dashboard',
    params: shape({ file: Type.String({ maxLength: 200, pattern: DASHBOARD_ASSET_PATTERN }) }),
    status: 200,
    produces: 'asset',
  },
] as const satisfies readonly RouteSpec[];
