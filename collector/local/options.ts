/**
 * Local mode options: command-line flags and WAYMARK_LOCAL_* environment variables (flags win), resolved to paths
 * and checked with messages that say what to do. Pure: the caller passes argv, env and the folders to resolve from.
 */
import { delimiter, isAbsolute, join, resolve } from 'node:path';

export type LocalMode = 'in-process' | 'pubsub';

export interface LocalOptions {
  readonly mode: LocalMode;
  /**
   * Pub/Sub mode only: enrich with the serverless enricher service (`enricher.js`) behind an emulator push
   * subscription, instead of the local pull enricher.
   */
  readonly push: boolean;
  /** The enricher service bundle (`enricher.js`) that `push` runs. */
  readonly enricherPath: string;
  /** Port to listen on; 0 picks a free one. */
  readonly port: number;
  readonly host: string;
  /** The shipped enrichment UDF bundle (`enrich.js`). */
  readonly udfPath: string;
  /** The shipped tracker bundle (`sp.js`), served at `/sp.js`. */
  readonly trackerPath: string;
  /** The demo site folder, served at `/`. */
  readonly siteDir: string;
  /** Pub/Sub mode: where good and bad rows are written (good.jsonl, bad.jsonl). */
  readonly dataDir: string;
  /** Rows kept in memory for the inspection API, per stream (good, bad). */
  readonly maxEvents: number;
  /** A running emulator (`host:port`) to use instead of starting one. */
  readonly emulatorHost: string | null;
  /** Pub/Sub project id used with the emulator. */
  readonly projectId: string;
  /**
   * Schema folders besides the built-ins (WAYMARK_LOCAL_SCHEMAS, separated like PATH): the registry served at
   * /micro/iglu/ (npm start sets it to the folders it built the UDF for).
   */
  readonly schemaDirs: readonly string[];
}

export class UsageError extends Error {
  /** True for `--help`: the message is the usage text, and asking for it is no error. */
  readonly help: boolean;
  constructor(message: string, help = false) {
    super(message);
    this.name = 'UsageError';
    this.help = help;
  }
}

export const USAGE = `usage: node waymark-local.js [--port N] [--host ADDRESS] [--pubsub [--push]] [--enricher FILE] [--udf FILE] [--tracker FILE] [--site DIR] [--data-dir DIR]

  --port N          port to listen on (default 8080, env PORT; 0 = any free port)
  --host ADDRESS    address to listen on (default 127.0.0.1, env WAYMARK_HOST)
  --pubsub          run through the Pub/Sub emulator: collector → raw topic → local enricher → JSONL files
                    (env WAYMARK_LOCAL_PUBSUB=true; uses PUBSUB_EMULATOR_HOST if set, else starts one with gcloud)
  --push           with --pubsub: enrich with the serverless enricher service (enricher.js) through an emulator push
                    subscription and the enriched and bad topics, as Enrichment.serverless deploys it (env WAYMARK_LOCAL_PUSH=true)
  --enricher FILE   the enricher service bundle --push runs (default enricher.js next to this file, env WAYMARK_LOCAL_ENRICHER)
  --udf FILE        the enrichment UDF bundle (default enrich.js next to this file, env WAYMARK_LOCAL_UDF)
  --tracker FILE    the tracker bundle served at /sp.js (default sp.js next to this file, env WAYMARK_LOCAL_TRACKER)
  --site DIR        the demo site served at / (default examples/demo, env WAYMARK_LOCAL_SITE)
  --data-dir DIR    Pub/Sub mode: folder of good.jsonl and bad.jsonl (default .waymark/local, env WAYMARK_LOCAL_DATA_DIR)
  --help            this text`;

export interface OptionSources {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Working directory: relative paths resolve against it. */
  readonly cwd: string;
  /** Folder of the running script (build/ for the bundle): default bundle paths resolve against it. */
  readonly scriptDir: string;
  /** Whether a file exists (to pick between default locations). */
  readonly exists: (path: string) => boolean;
}

const FLAGS_WITH_VALUE = new Set(['--port', '--host', '--udf', '--tracker', '--site', '--data-dir', '--enricher']);

function parsePort(raw: string, from: string): number {
  if (!/^\d{1,5}$/.test(raw.trim()) || Number(raw) > 65535) throw new UsageError(`${from} must be a port number from 0 to 65535, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

function parseBool(raw: string, from: string): boolean {
  const v = raw.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off', ''].includes(v)) return false;
  throw new UsageError(`${from} must be true or false, got ${JSON.stringify(raw)}`);
}

/** Reads flags and environment; throws UsageError (with the usage text where it helps) when something is wrong. */
export function resolveOptions(src: OptionSources): LocalOptions {
  const flags = new Map<string, string>();
  for (let i = 0; i < src.argv.length; i++) {
    const arg = src.argv[i];
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    if (name === '--help' || name === '-h') throw new UsageError(USAGE, true);
    if (name === '--pubsub' || name === '--push') {
      flags.set(name, eq > 0 ? arg.slice(eq + 1) : 'true');
      continue;
    }
    if (!FLAGS_WITH_VALUE.has(name)) throw new UsageError(`unknown argument ${JSON.stringify(arg)}\n${USAGE}`);
    let value: string | undefined = eq > 0 && arg.startsWith('--') ? arg.slice(eq + 1) : src.argv[++i];
    if (value === undefined || value === '') throw new UsageError(`${name} needs a value\n${USAGE}`);
    value = value.trim();
    flags.set(name, value);
  }
  const env = (name: string): string | undefined => {
    const v = src.env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const path = (p: string): string => (isAbsolute(p) ? p : resolve(src.cwd, p));
  const firstExisting = (candidates: string[]): string => candidates.find((c) => src.exists(c)) ?? candidates[0];

  const pubsubRaw = flags.get('--pubsub') ?? env('WAYMARK_LOCAL_PUBSUB');
  const pubsub = pubsubRaw === undefined ? false : parseBool(pubsubRaw, flags.has('--pubsub') ? '--pubsub' : 'WAYMARK_LOCAL_PUBSUB');
  const pushRaw = flags.get('--push') ?? env('WAYMARK_LOCAL_PUSH');
  const push = pushRaw === undefined ? false : parseBool(pushRaw, flags.has('--push') ? '--push' : 'WAYMARK_LOCAL_PUSH');
  if (push && !pubsub) throw new UsageError(`--push runs the enricher service behind the Pub/Sub emulator: add --pubsub (npm start -- --pubsub --push)\n${USAGE}`);
  const enricher = flags.get('--enricher') ?? env('WAYMARK_LOCAL_ENRICHER');
  const portRaw = flags.get('--port') ?? env('PORT');
  const port = portRaw === undefined ? 8080 : parsePort(portRaw, flags.has('--port') ? '--port' : 'PORT');
  const maxRaw = env('WAYMARK_LOCAL_MAX_EVENTS');
  let maxEvents = 10000;
  if (maxRaw !== undefined) {
    if (!/^\d+$/.test(maxRaw) || Number(maxRaw) < 1 || Number(maxRaw) > 1_000_000) {
      throw new UsageError(`WAYMARK_LOCAL_MAX_EVENTS must be an integer from 1 to 1000000, got ${JSON.stringify(maxRaw)}`);
    }
    maxEvents = Number(maxRaw);
  }
  const udf = flags.get('--udf') ?? env('WAYMARK_LOCAL_UDF');
  const tracker = flags.get('--tracker') ?? env('WAYMARK_LOCAL_TRACKER');
  const site = flags.get('--site') ?? env('WAYMARK_LOCAL_SITE');
  const dataDir = flags.get('--data-dir') ?? env('WAYMARK_LOCAL_DATA_DIR');
  const project = env('WAYMARK_LOCAL_PROJECT') ?? 'waymark-local';
  if (!/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(project)) {
    throw new UsageError(`WAYMARK_LOCAL_PROJECT must be a Google Cloud project id (6-30 lower-case letters, digits, hyphens), got ${JSON.stringify(project)}`);
  }
  return {
    mode: pubsub ? 'pubsub' : 'in-process',
    push,
    enricherPath: enricher !== undefined ? path(enricher) : firstExisting([join(src.scriptDir, 'enricher.js'), join(src.cwd, 'build', 'enricher.js')]),
    port,
    host: flags.get('--host') ?? env('WAYMARK_HOST') ?? '127.0.0.1',
    // The bundle sits in build/ next to enrich.js and sp.js; from sources (tsx collector/local/main.ts) use build/.
    udfPath: udf !== undefined ? path(udf) : firstExisting([join(src.scriptDir, 'enrich.js'), join(src.cwd, 'build', 'enrich.js')]),
    trackerPath: tracker !== undefined ? path(tracker) : firstExisting([join(src.scriptDir, 'sp.js'), join(src.cwd, 'build', 'sp.js')]),
    siteDir: site !== undefined ? path(site) : firstExisting([join(src.scriptDir, '..', 'examples', 'demo'), join(src.cwd, 'examples', 'demo')]),
    dataDir: path(dataDir ?? join('.waymark', 'local')),
    maxEvents,
    emulatorHost: env('PUBSUB_EMULATOR_HOST') ?? null,
    projectId: project,
    schemaDirs: (env('WAYMARK_LOCAL_SCHEMAS') ?? '').split(delimiter).filter((d) => d.trim() !== '').map((d) => path(d.trim())),
  };
}
