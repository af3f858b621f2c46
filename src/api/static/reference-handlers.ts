/** @module api/static/reference-handlers — /openapi.json, the Swagger UI page /docs and its assets (from node_modules, no CDN). */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ActorflowError, ErrorCode } from '../../common/errors.ts';
import { MEDIA_HTML, MEDIA_JSON } from '../http/media.ts';
import { type Reply, text } from '../http/reply.ts';
import type { OpenApiDocument } from '../routing/openapi.ts';
import { BASE_PATH, type HandlersOf } from '../routing/route-spec.ts';
import { DOCS_ASSETS, type REFERENCE_ROUTES } from './reference-routes.ts';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.png': 'image/png',
};

/** Assets are versioned by the installed swagger-ui-dist: cache for a day. */
const ASSET_HEADERS = { 'cache-control': 'public, max-age=86400' } as const;

/** The directory of the installed swagger-ui-dist package. */
export function swaggerUiDir(): string {
  return dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
}

/** The reference page: Swagger UI on this server's document; every asset is relative to the base path. */
export function docsPage(): string {
  const assets = `${BASE_PATH}/docs/assets`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>actorflow API reference</title>
<link rel="stylesheet" href="${assets}/swagger-ui.css">
<link rel="icon" type="image/png" href="${assets}/favicon-32x32.png" sizes="32x32">
<link rel="icon" type="image/png" href="${assets}/favicon-16x16.png" sizes="16x16">
<style>body { margin: 0; }</style>
</head>
<body>
<div id="swagger-ui"></div>
<script src="${assets}/swagger-ui-bundle.js"></script>
<script src="${assets}/swagger-ui-standalone-preset.js"></script>
<script>
window.ui = SwaggerUIBundle({
  url: '${BASE_PATH}/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  plugins: [SwaggerUIBundle.plugins.DownloadUrl],
  layout: 'StandaloneLayout',
  persistAuthorization: true
});
</script>
</body>
</html>
`;
}

/** Handlers of the reference routes. The document is serialised once; assets are read on first use and kept. */
export function referenceHandlers(doc: OpenApiDocument) {
  const docJson = JSON.stringify(doc);
  const page = docsPage();
  const dir = swaggerUiDir();
  const cache = new Map<string, Reply>();
  const asset = (file: string): Reply => {
    const hit = cache.get(file);
    if (hit !== undefined) return hit;
    // The route's params schema already restricted `file` to DOCS_ASSETS; this is a second fence.
    if (!(DOCS_ASSETS as readonly string[]).includes(file)) throw new ActorflowError(ErrorCode.notFound, `No asset ${JSON.stringify(file)}.`);
    const ext = file.slice(file.lastIndexOf('.'));
    const reply = text(200, readFileSync(join(dir, file)), CONTENT_TYPES[ext] ?? 'application/octet-stream', ASSET_HEADERS);
    cache.set(file, reply);
    return reply;
  };
  return {
    openapi: { handle: () => text(200, docJson, MEDIA_JSON) },
    docs: { handle: () => text(200, page, MEDIA_HTML) },
    docsAsset: { handle: ({ params }) => asset(params.file) },
  } satisfies HandlersOf<typeof REFERENCE_ROUTES>;
}
