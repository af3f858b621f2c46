/** @module api/static/dashboard-handlers — serves the Vite build of dashboard/ from memory: files are read once at boot. */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ActorflowError, ErrorCode } from '../../common/errors.ts';
import { MEDIA_HTML } from '../http/media.ts';
import { type Reply, text } from '../http/reply.ts';
import type { HandlersOf } from '../routing/route-spec.ts';
import type { DASHBOARD_ROUTES } from './dashboard-routes.ts';

/** Where `npm run build:ui` (vite build) writes the dashboard; three levels up is the package root from src/api/static and from the compiled dist/api/static alike. */
export const DASHBOARD_DIST = fileURLToPath(new URL('../../../dist/dashboard/', import.meta.url));

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
};

/** Asset names carry a content hash: a new build means new names, so they never go stale. */
const ASSET_HEADERS = { 'cache-control': 'public, max-age=31536000, immutable' } as const;
/** The page names the current assets: always revalidated. */
const PAGE_HEADERS = { 'cache-control': 'no-cache' } as const;

/** The built dashboard: its page and every file of `assets/` by name (`undefined` when not built). */
export interface DashboardBuild {
  readonly page: Uint8Array;
  readonly assets: ReadonlyMap<string, Reply>;
}

/** Reads a build directory into memory; `undefined` when it has no `index.html` or cannot be read (a build in progress). */
export function loadDashboard(dir: string = DASHBOARD_DIST): DashboardBuild | undefined {
  try {
    return readBuild(dir);
  } catch {
    return undefined;
  }
}

function readBuild(dir: string): DashboardBuild | undefined {
  const index = join(dir, 'index.html');
  if (!existsSync(index)) return undefined;
  const assets = new Map<string, Reply>();
  const assetDir = join(dir, 'assets');
  if (existsSync(assetDir)) {
    for (const name of readdirSync(assetDir)) {
      const path = join(assetDir, name);
      if (!statSync(path).isFile()) continue;
      const ext = name.slice(name.lastIndexOf('.'));
      const type = CONTENT_TYPES[ext];
      // Source maps and anything unexpected are simply not served.
      if (type === undefined) continue;
      assets.set(name, text(200, readFileSync(path), type, ASSET_HEADERS));
    }
  }
  return { page: readFileSync(index), assets };
}

/** Handlers of the dashboard routes, serving the build in `dir`; a missing build answers a problem naming the command to run. */
export function dashboardHandlers(dir: string = DASHBOARD_DIST) {
  const build = loadDashboard(dir);
  const notBuilt = (): never => {
    throw new ActorflowError(ErrorCode.notReady, 'The dashboard is not built: run `npm run build:ui` (npm install runs it too).');
  };
  return {
    dashboard: { handle: () => (build === undefined ? notBuilt() : text(200, build.page, MEDIA_HTML, PAGE_HEADERS)) },
    dashboardAsset: {
      handle: ({ params }) => {
        if (build === undefined) return notBuilt();
        // The route's pattern already refused anything path-like; only files listed at boot exist.
        const hit = build.assets.get(params.file);
        if (hit === undefined) throw new ActorflowError(ErrorCode.notFound, `No dashboard asset ${JSON.stringify(params.file)}.`);
        return hit;
      },
    },
  } satisfies HandlersOf<typeof DASHBOARD_ROUTES>;
}
