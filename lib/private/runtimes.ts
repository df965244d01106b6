/**
 * The one table of Node.js runtimes the collector backends deploy, with the dates after which Google (or the
 * Node.js project, for container images) stops accepting or maintaining them. Every backend picks its runtime
 * from here, the `runtime` prop is checked against it, and the deploy audit (test/audit/) checks every
 * synthesized runtime and image against it. When Google publishes a new schedule, change this table only.
 *
 * Dates are the first day on which the restriction applies, in UTC:
 * - `deprecated`: still deployable, but Google no longer patches it (or Node.js upstream stops maintaining it).
 * - `blocked`: the day deploys are refused: Cloud Run functions' "decommission" (no create or update), App
 *   Engine standard's "end of support" (no redeploy of versions), or, for container images, the Node.js
 *   end-of-life (the image stops getting security fixes; Cloud Run, GKE and VMs would still run it, but Waymark
 *   refuses to deploy an unmaintained runtime just the same).
 */
import { PropError } from './validate';

/** Where a runtime id is used. */
export type RuntimePlatform = 'cloud-functions' | 'app-engine' | 'container';

/** The Node.js runtimes a backend's `runtime` prop takes. */
export type NodeRuntime = 'nodejs20' | 'nodejs22' | 'nodejs24';

export interface RuntimeSupport {
  readonly platform: RuntimePlatform;
  readonly runtime: NodeRuntime;
  /** Start of the deprecation period (ISO date). */
  readonly deprecated: string;
  /** First day deploys are refused (ISO date). */
  readonly blocked: string;
  /** The page the dates were taken from. */
  readonly source: string;
}

// Cloud Run functions (gen2) Node.js support schedule, columns "Deprecation" and "Decommission".
const FUNCTIONS = 'https://docs.cloud.google.com/run/docs/runtimes/function-runtimes#nodejs';
// App Engine standard support schedule, columns "End of support" (no redeploy) and "Deprecated". The nodejs20
// row reads 2026-04-30 / 2027-04-30. nodejs22 and nodejs24 are supported there (the Node.js runtime page names 24
// as the latest supported version: https://docs.cloud.google.com/appengine/docs/standard/nodejs/runtime); App
// Engine ends support on the Node.js community end-of-life date (as for nodejs18 and nodejs20), so their rows use
// those dates plus one year of deprecation until the page publishes its own.
const APP_ENGINE = 'https://docs.cloud.google.com/appengine/docs/standard/lifecycle/support-schedule#nodejs';
// Node.js release schedule: end of maintenance (end-of-life) of each LTS line; the official Docker images stop
// getting updates then. Deprecation here is the start of maintenance-only LTS.
const NODE = 'https://github.com/nodejs/Release#release-schedule';

export const RUNTIME_SUPPORT: readonly RuntimeSupport[] = [
  { platform: 'cloud-functions', runtime: 'nodejs20', deprecated: '2026-04-30', blocked: '2026-10-30', source: FUNCTIONS },
  { platform: 'cloud-functions', runtime: 'nodejs22', deprecated: '2027-04-30', blocked: '2027-10-31', source: FUNCTIONS },
  { platform: 'cloud-functions', runtime: 'nodejs24', deprecated: '2028-04-30', blocked: '2028-10-31', source: FUNCTIONS },
  { platform: 'app-engine', runtime: 'nodejs20', deprecated: '2027-04-30', blocked: '2026-04-30', source: APP_ENGINE },
  { platform: 'app-engine', runtime: 'nodejs22', deprecated: '2028-04-30', blocked: '2027-04-30', source: APP_ENGINE },
  { platform: 'app-engine', runtime: 'nodejs24', deprecated: '2029-04-30', blocked: '2028-04-30', source: APP_ENGINE },
  { platform: 'container', runtime: 'nodejs20', deprecated: '2024-10-22', blocked: '2026-04-30', source: NODE },
  { platform: 'container', runtime: 'nodejs22', deprecated: '2025-10-21', blocked: '2027-04-30', source: NODE },
  { platform: 'container', runtime: 'nodejs24', deprecated: '2026-10-20', blocked: '2028-04-30', source: NODE },
];

/**
 * The runtime every backend uses by default: Node.js 24, generally available on Cloud Run functions and App
 * Engine standard and the active LTS line of the official images, the one with the longest runway in the table.
 */
export const DEFAULT_NODE_RUNTIME: NodeRuntime = 'nodejs24';

/** The Node.js major version of a runtime id (`nodejs24` → 24). */
export function nodeMajor(runtime: NodeRuntime): number {
  return Number(runtime.slice('nodejs'.length));
}

/** The official Debian (bookworm) slim image of a runtime, on `registry` (e.g. `docker.io/library`). */
export function nodeImageOf(runtime: NodeRuntime, registry: string): string {
  return `${registry}/node:${nodeMajor(runtime)}-bookworm-slim`;
}

/** The table's row, or undefined when the platform does not offer the runtime. */
export function runtimeSupport(platform: RuntimePlatform, runtime: string): RuntimeSupport | undefined {
  return RUNTIME_SUPPORT.find((r) => r.platform === platform && r.runtime === runtime);
}

/** Today's date (UTC, YYYY-MM-DD): deploys are checked against the day they are synthesized. */
export function today(): string {
  return new Date().toISOString().slice(0, 10);
}

/**
 * Checks a backend's `runtime` prop: it must be in the table for `platform` and not blocked on `on` (default
 * today). Returns the runtime to use (the default when `runtime` is undefined).
 */
export function checkRuntime(construct: string, prop: string, platform: RuntimePlatform, runtime: string | undefined, on: string = today()): NodeRuntime {
  const value = runtime ?? DEFAULT_NODE_RUNTIME;
  const usable = RUNTIME_SUPPORT.filter((r) => r.platform === platform && r.blocked > on).map((r) => r.runtime);
  const row = runtimeSupport(platform, value);
  if (!row) {
    throw new PropError(construct, prop, `must be one of ${usable.map((r) => `'${r}'`).join(', ')}, got '${value}'`);
  }
  if (row.blocked <= on) {
    throw new PropError(construct, prop, `is '${value}', which ${platform === 'container' ? 'reached its Node.js end of life' : 'Google stopped deploying'} on ${row.blocked} (${row.source}); use one of ${usable.map((r) => `'${r}'`).join(', ')}`);
  }
  return row.runtime;
}

/**
 * The runtime of a container image reference such as `docker.io/library/node:24-bookworm-slim`: undefined when
 * the image is not an official `node` image with a major-version tag (a digest or a custom image is the user's).
 */
export function runtimeOfNodeImage(image: string): NodeRuntime | undefined {
  const m = /(?:^|\/)node:(\d+)(?:[.-][^@]*)?(?:@.*)?$/.exec(image);
  return m ? (`nodejs${m[1]}` as NodeRuntime) : undefined;
}
