/**
 * Serves the demo site folder at `/` and the tracker bundle at `/sp.js`. Only plain files inside the folder are
 * served (no `..`, no dot-files, no symlinks leading out); files are read per request so a rebuild shows at once.
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, sep } from 'node:path';
import type { ExtraRoute } from '../routes';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.gif': 'image/gif',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * The file a URL path names inside `root`, or null when it names none safely. `/` and paths ending in `/` name
 * `index.html`; a path without an extension may name `<path>.html`.
 */
export function sitePath(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (!decoded.startsWith('/') || decoded.includes('\0') || decoded.includes('\\')) return null;
  const segments = decoded.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '..' || s === '.' || s.startsWith('.'))) return null;
  if (decoded.endsWith('/')) segments.push('index.html');
  return segments.length === 0 ? join(root, 'index.html') : join(root, ...segments);
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: Buffer | string, head: boolean): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'Content-Length': String(Buffer.byteLength(body)), 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff', ...headers });
  res.end(head ? undefined : body);
}

async function serveFile(res: ServerResponse, root: string, file: string, head: boolean): Promise<boolean> {
  try {
    const [realRoot, real] = await Promise.all([realpath(root), realpath(file)]);
    if (real !== realRoot && !real.startsWith(realRoot + sep)) return false;
    if (!(await stat(real)).isFile()) return false;
    const body = await readFile(real);
    send(res, 200, { 'Content-Type': TYPES[extname(real).toLowerCase()] ?? 'application/octet-stream' }, body, head);
    return true;
  } catch {
    return false;
  }
}

export interface StaticOptions {
  readonly siteDir: string;
  readonly trackerPath: string;
}

/** Routes for `/sp.js` and the demo site (a catch-all: register it after every other extra route). */
export function staticRoutes(options: StaticOptions): ExtraRoute[] {
  const notFound = (res: ServerResponse, path: string, head: boolean): void =>
    send(res, 404, { 'Content-Type': 'text/plain; charset=utf-8' }, `not found: ${path}\n`, head);
  return [
    {
      path: '/sp.js',
      methods: ['GET', 'HEAD'],
      handle: async (req: IncomingMessage, res: ServerResponse) => {
        const head = req.method === 'HEAD';
        try {
          const body = await readFile(options.trackerPath);
          send(res, 200, { 'Content-Type': TYPES['.js'] }, body, head);
        } catch {
          send(res, 503, { 'Content-Type': 'text/plain; charset=utf-8' }, `the tracker bundle ${options.trackerPath} is missing: run \`npm run build\`\n`, head);
        }
      },
    },
    {
      path: '/',
      prefix: true,
      handle: async (req, res, ctx) => {
        const head = req.method === 'HEAD';
        if (req.method !== 'GET' && !head) return notFound(res, ctx.path, false);
        const file = sitePath(options.siteDir, ctx.path);
        if (file === null) return notFound(res, ctx.path, head);
        if (await serveFile(res, options.siteDir, file, head)) return;
        if (extname(file) === '' && (await serveFile(res, options.siteDir, `${file}.html`, head))) return;
        notFound(res, ctx.path, head);
      },
    },
  ];
}
