/**
 * Routes: the HTTP mapping from (path, method) to what the collector does. Built-in routes come from the
 * configuration; embedders add their own (`extraRoutes`, e.g. the local mode's `/micro/*` inspection API).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CollectorConfig } from './config';
import type { EventKind } from './service';

export type BuiltinRoute =
  | { readonly type: 'event'; readonly kind: EventKind }
  | { readonly type: 'health' }
  | { readonly type: 'sinkHealth' }
  | { readonly type: 'robots' }
  | { readonly type: 'debugEvents' };

/** Methods → route for one path. HEAD is served wherever GET is. */
export type MethodTable = ReadonlyMap<string, BuiltinRoute>;

export const TP2_PATH = '/com.snowplowanalytics.snowplow/tp2';

export interface ExtraRouteContext {
  /** Path without the query string. */
  readonly path: string;
  /** Raw query string without `?`. */
  readonly query: string;
}

/** A route added by an embedder. Built-in routes win over extra routes for the same path. */
export interface ExtraRoute {
  /** Exact path (`/micro/all`), or a prefix (`/micro/`) when `prefix` is true. */
  readonly path: string;
  readonly prefix?: boolean;
  /** Allowed methods; any when omitted. Other methods get 405. */
  readonly methods?: readonly string[];
  handle(req: IncomingMessage, res: ServerResponse, ctx: ExtraRouteContext): void | Promise<void>;
}

function table(entries: [string[], BuiltinRoute][]): MethodTable {
  const m = new Map<string, BuiltinRoute>();
  for (const [methods, route] of entries) {
    for (const method of methods) {
      m.set(method, route);
      if (method === 'GET') m.set('HEAD', route);
    }
  }
  return m;
}

export function builtinRoutes(config: CollectorConfig): ReadonlyMap<string, MethodTable> {
  const get: BuiltinRoute = { type: 'event', kind: 'get' };
  const post: BuiltinRoute = { type: 'event', kind: 'post' };
  const routes = new Map<string, MethodTable>();
  routes.set('/i', table([[['GET'], get]]));
  routes.set('/ice.png', table([[['GET'], get]]));
  routes.set(TP2_PATH, table([[['GET'], get], [['POST'], post]]));
  for (const [path, target] of Object.entries(config.customPaths)) {
    routes.set(path, target === TP2_PATH ? table([[['GET'], get], [['POST'], post]]) : table([[['GET'], get]]));
  }
  if (config.redirect.enabled) routes.set('/r/tp2', table([[['GET'], { type: 'event', kind: 'redirect' }]]));
  routes.set('/health', table([[['GET'], { type: 'health' }]]));
  routes.set('/sink-health', table([[['GET'], { type: 'sinkHealth' }]]));
  routes.set('/robots.txt', table([[['GET'], { type: 'robots' }]]));
  if (config.debugEndpoints) routes.set('/debug/events', table([[['GET', 'DELETE'], { type: 'debugEvents' }]]));
  return routes;
}

export function findExtraRoute(routes: readonly ExtraRoute[], path: string): ExtraRoute | undefined {
  return routes.find((r) => (r.prefix ? path.startsWith(r.path) : path === r.path));
}

/** The Allow header value of a method table or extra route. */
export function allowHeader(methods: Iterable<string>): string {
  return [...new Set([...methods, 'OPTIONS'])].join(', ');
}
