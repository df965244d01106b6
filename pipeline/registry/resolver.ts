/**
 * Iglu resolution at synth time (and at `npm start`), like Snowplow's resolver: a deployment lists Iglu registries in
 * priority order (static HTTP repositories in Iglu layout, Iglu Central by default, and local folders), as in
 * Snowplow's `iglu_resolver.json`, plus the schemas it needs beyond its local folders (by key, or by vendor/name for
 * every version). Resolved schemas are written to a lock folder committed with the app:
 *
 * ```
 * schemas.lock/lock.json                                 source URL and sha256 of every file; what vendor/name found
 * schemas.lock/schemas/<vendor>/<name>/jsonschema/<M-R-A>  the bytes as the registry served them
 * ```
 *
 * `resolveSchemas(..., 'synth')` never touches the network when the lock is complete, and fails offline when it is
 * not; `'pull'` (the `waymark schemas pull` CLI) fetches every requested schema again and fails when a registry now
 * serves different content under a locked key (a schema key names one immutable schema). Lock files whose bytes no
 * longer match their recorded hash are an error too.
 *
 * Lookup order, as Snowplow's Iglu client orders repositories (iglu-scala-client, `Resolver.prioritize`): repositories
 * whose `vendorPrefixes` match the schema's vendor first, then local folders (Snowplow's `embedded`) before HTTP
 * repositories, then by `priority` (lower first), then in the listed order. The first repository that has the schema
 * wins; one that fails (an HTTP error, a connection error) is reported if no later one has it.
 *
 * Node only (files, hashes, and HTTP through a child process so that synth stays synchronous).
 */
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { readSchemaFolder } from './load';
import { parseSchemaFile } from './registry';
import { formatSchemaVer, parseSchemaVer, schemaVerProblem, type SchemaVer } from './schemaver';

/** Iglu Central, the default registry (as in Snowplow's default `iglu_resolver.json`). */
export const IGLU_CENTRAL = 'http://iglucentral.com';

/** One repository of an Iglu resolver configuration (`iglu:com.snowplowanalytics.iglu/resolver-config/...` data). */
export interface IgluRepository {
  readonly name: string;
  /** Lower is tried first among repositories of the same kind. @default 0 */
  readonly priority?: number;
  /** Vendors (prefixes of the vendor) this repository is tried first for. @default none */
  readonly vendorPrefixes?: readonly string[];
  readonly connection:
    | { readonly http: { readonly uri: string; readonly apikey?: string } }
    /** A local folder in Iglu static layout (Snowplow's embedded repositories are classpath folders). */
    | { readonly embedded: { readonly path: string } };
}

/** What a deployment resolves: the file `waymark schemas pull --config` and the `resolver` prop take. */
export interface SchemaResolutionConfig {
  /**
   * The registries: a Snowplow `iglu_resolver.json` (path, or its parsed content: the self-describing document or its
   * `data`), or the repositories themselves. @default Iglu Central only
   */
  readonly resolver?: string | { readonly schema?: string; readonly data?: { readonly repositories?: readonly IgluRepository[] }; readonly repositories?: readonly IgluRepository[] } | readonly IgluRepository[];
  /**
   * Schemas to resolve besides those of the local folders: Iglu keys (`iglu:com.acme/checkout/jsonschema/1-0-0`), or
   * `iglu:com.acme/checkout` (or `com.acme/checkout`) for every version the registries have. @default none
   */
  readonly schemas?: readonly string[];
  /** The lock folder. @default 'schemas.lock' beside the config file (or in the working directory) */
  readonly lockFolder?: string;
}

/** An HTTP answer as the resolver sees it. */
export interface FetchResult {
  readonly status?: number;
  readonly body?: Buffer;
  /** Set when no HTTP answer came (connection refused, DNS, timeout). */
  readonly error?: string;
}

/** A synchronous GET (the default runs `fetch` in a child Node process). */
export type SyncFetch = (url: string, headers: Readonly<Record<string, string>>) => FetchResult;

export interface ResolveOptions {
  /** Where relative paths of the config (the resolver file, local folders, the lock) are resolved. @default cwd */
  readonly baseDir?: string;
  /** Never use the network: a schema missing from the lock is an error. @default false */
  readonly offline?: boolean;
  readonly fetch?: SyncFetch;
}

export interface LockEntry {
  /** The repository's name in the resolver config. */
  readonly registry: string;
  readonly url: string;
  readonly sha256: string;
}

export interface LockFile {
  readonly lockfileVersion: 1;
  /** For each vendor/name request, the versions resolved. */
  readonly requests: { readonly [vendorName: string]: readonly string[] };
  readonly schemas: { readonly [key: string]: LockEntry };
}

export interface Resolution {
  /** Folders to build the registry from (after the built-ins): the local repositories, then the lock's schemas. */
  readonly folders: readonly string[];
  readonly lockFolder: string;
  readonly lock: LockFile;
  /** Keys fetched over the network in this run. */
  readonly fetched: readonly string[];
  /** Keys taken from local folders (not locked: they are committed with the app). */
  readonly local: readonly string[];
}

interface Repo {
  readonly name: string;
  readonly priority: number;
  readonly vendorPrefixes: readonly string[];
  readonly index: number;
  readonly http?: { uri: string; apikey?: string };
  readonly folder?: string;
}

const KEY = /^iglu:([a-zA-Z0-9_.-]+)\/([a-zA-Z0-9_-]+)\/jsonschema\/([0-9]+-[0-9]+-[0-9]+)$/;
const VENDOR_NAME = /^(?:iglu:)?([a-zA-Z0-9_.-]+)\/([a-zA-Z0-9_-]+)$/;

function fail(message: string): never {
  const e = new Error(message);
  e.name = 'SchemaResolutionError';
  throw e;
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The default fetch: Node's `fetch` in a child process (synth is synchronous), 30 s per request. */
export const childProcessFetch: SyncFetch = (url, headers) => {
  const script = 'fetch(process.argv[1],{headers:JSON.parse(process.argv[2]),signal:AbortSignal.timeout(30000)})' +
    '.then(async r=>{process.stdout.write(JSON.stringify({status:r.status,body:Buffer.from(await r.arrayBuffer()).toString("base64")}))})' +
    '.catch(e=>{process.stdout.write(JSON.stringify({error:String((e&&e.cause&&(e.cause.code||e.cause.message))||e)}))})';
  const r = spawnSync(process.execPath, ['-e', script, url, JSON.stringify(headers)], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 40000 });
  if (r.error) return { error: r.error.message };
  try {
    const out = JSON.parse(r.stdout) as { status?: number; body?: string; error?: string };
    return out.error !== undefined ? { error: out.error } : { status: out.status, body: Buffer.from(out.body ?? '', 'base64') };
  } catch {
    return { error: 'the fetch process failed: ' + (r.stderr || 'no output') };
  }
};

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return fail(`${what} ${file} does not exist`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    return fail(`${what} ${file} is not valid JSON: ${(e as Error).message}`);
  }
}

/** Reads a resolution config file; its relative paths are relative to its folder. */
export function readResolutionConfig(file: string): { config: SchemaResolutionConfig; baseDir: string } {
  const full = path.resolve(file);
  const config = readJson(full, 'The schema resolution config') as SchemaResolutionConfig;
  if (typeof config !== 'object' || config === null || Array.isArray(config)) fail(`The schema resolution config ${full} must be a JSON object with "resolver", "schemas" and "lockFolder"`);
  return { config, baseDir: path.dirname(full) };
}

function repositoriesOf(config: SchemaResolutionConfig, baseDir: string): { repos: Repo[]; base: string } {
  let resolver = config.resolver;
  let base = baseDir;
  if (typeof resolver === 'string') {
    const file = path.resolve(baseDir, resolver);
    resolver = readJson(file, 'The Iglu resolver config') as SchemaResolutionConfig['resolver'];
    base = path.dirname(file);
  }
  let list: readonly IgluRepository[] | undefined;
  if (resolver === undefined) list = [{ name: 'Iglu Central', priority: 0, connection: { http: { uri: IGLU_CENTRAL } } }];
  else if (Array.isArray(resolver)) list = resolver as readonly IgluRepository[];
  else if (typeof resolver === 'object' && resolver !== null) {
    const r = resolver as { data?: { repositories?: readonly IgluRepository[] }; repositories?: readonly IgluRepository[] };
    list = r.data?.repositories ?? r.repositories;
  }
  if (!Array.isArray(list)) return fail('The Iglu resolver config needs "repositories" (a list, as in iglu_resolver.json\'s "data")');
  const repos = list.map((r: IgluRepository, index: number): Repo => {
    const where = `repository ${index + 1}${r && typeof r.name === 'string' ? ` ("${r.name}")` : ''} of the Iglu resolver config`;
    if (!r || typeof r.name !== 'string' || r.name === '') fail(`${where} needs a "name"`);
    const c = r.connection as { http?: { uri?: unknown; apikey?: unknown }; embedded?: { path?: unknown } } | undefined;
    const common = { name: r.name, priority: typeof r.priority === 'number' ? r.priority : 0, vendorPrefixes: Array.isArray(r.vendorPrefixes) ? r.vendorPrefixes : [], index };
    if (c?.http !== undefined) {
      if (typeof c.http.uri !== 'string' || !/^https?:\/\/[^/]/.test(c.http.uri)) fail(`${where}: connection.http.uri must be an http(s) URL, got ${JSON.stringify(c.http.uri)}`);
      return { ...common, http: { uri: c.http.uri.replace(/\/+$/, ''), apikey: typeof c.http.apikey === 'string' ? c.http.apikey : undefined } };
    }
    if (c?.embedded !== undefined) {
      if (typeof c.embedded.path !== 'string' || c.embedded.path === '') fail(`${where}: connection.embedded.path must be a folder`);
      return { ...common, folder: path.resolve(base, c.embedded.path) };
    }
    return fail(`${where}: connection must be {"http": {"uri": ...}} or {"embedded": {"path": ...}}`);
  });
  return { repos, base };
}

/** Repositories in lookup order for one vendor (see the header). */
function prioritized(repos: readonly Repo[], vendor: string): Repo[] {
  const matched = (r: Repo): number => (r.vendorPrefixes.some((p) => vendor.startsWith(p)) ? 0 : 1);
  const kind = (r: Repo): number => (r.folder !== undefined ? 0 : 1);
  return repos.slice().sort((a, b) => matched(a) - matched(b) || kind(a) - kind(b) || a.priority - b.priority || a.index - b.index);
}

function schemaPath(vendor: string, name: string, version: string): string {
  return `${vendor}/${name}/jsonschema/${version}`;
}

function describeRepo(r: Repo): string {
  return r.http !== undefined ? `"${r.name}" (${r.http.uri})` : `"${r.name}" (folder ${r.folder})`;
}

type Lookup = { found: { bytes: Buffer; url: string; repo: Repo } } | { missing: string[] };

/** Looks one key up in the repositories, in order; returns the first hit or what each repository said. */
function lookup(repos: readonly Repo[], vendor: string, name: string, version: string, fetchFn: SyncFetch): Lookup {
  const tried: string[] = [];
  const rel = schemaPath(vendor, name, version);
  for (const r of prioritized(repos, vendor)) {
    if (r.folder !== undefined) {
      const file = path.join(r.folder, rel);
      if (fs.existsSync(file)) return { found: { bytes: fs.readFileSync(file), url: file, repo: r } };
      tried.push(`${describeRepo(r)}: no file ${rel}`);
      continue;
    }
    const url = `${r.http!.uri}/schemas/${rel}`;
    const res = fetchFn(url, r.http!.apikey !== undefined ? { apikey: r.http!.apikey } : {});
    if (res.error !== undefined) tried.push(`${describeRepo(r)}: ${url} could not be fetched (${res.error})`);
    else if (res.status === 200 && res.body !== undefined) return { found: { bytes: res.body, url, repo: r } };
    else tried.push(`${describeRepo(r)}: ${url} answered HTTP ${res.status}`);
  }
  return { missing: tried };
}

/** Checks that fetched bytes are the schema of `key` (valid JSON Schema, `self` matching the key). */
function checkFetched(key: string, rel: string, bytes: Buffer, source: string): void {
  const parsed = parseSchemaFile(source, { path: rel, text: bytes.toString('utf8') });
  if (parsed.schema === null) {
    fail(`${key} from ${source} is not a usable schema: ${parsed.problems.map((p) => p.message).join('; ')}`);
  }
}

const EMPTY_LOCK: LockFile = { lockfileVersion: 1, requests: {}, schemas: {} };

function sortedObject<T>(o: { readonly [k: string]: T }): { [k: string]: T } {
  const out: { [k: string]: T } = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k];
  return out;
}

/** The lock file's text: sorted keys, two-space JSON, a final newline (same resolution, same bytes). */
export function lockText(lock: LockFile): string {
  return JSON.stringify({ lockfileVersion: 1, requests: sortedObject(lock.requests), schemas: sortedObject(lock.schemas) }, null, 2) + '\n';
}

function readLock(lockFolder: string): LockFile {
  const file = path.join(lockFolder, 'lock.json');
  if (!fs.existsSync(file)) return EMPTY_LOCK;
  const lock = readJson(file, 'The schema lock') as LockFile;
  if (lock.lockfileVersion !== 1 || typeof lock.schemas !== 'object' || typeof lock.requests !== 'object') fail(`The schema lock ${file} is not a lock file of this version (lockfileVersion 1 with "requests" and "schemas")`);
  return lock;
}

/** The next versions to probe after `v` for a vendor/name request: next ADDITION, next REVISION, next MODEL. */
function successors(v: SchemaVer): string[] {
  return [
    formatSchemaVer({ model: v.model, revision: v.revision, addition: v.addition + 1 }),
    formatSchemaVer({ model: v.model, revision: v.revision + 1, addition: 0 }),
    formatSchemaVer({ model: v.model + 1, revision: 0, addition: 0 }),
  ];
}

/**
 * Resolves the schemas of `config`. `mode` 'synth' uses the lock and fetches only what it lacks (never when offline);
 * 'pull' fetches every requested schema again, detects drift and drops lock entries no longer requested. Writes the
 * lock folder when anything changed. Throws an Error naming the key and the registries tried when a schema cannot be
 * resolved.
 */
export function resolveSchemas(config: SchemaResolutionConfig, mode: 'synth' | 'pull', options: ResolveOptions = {}): Resolution {
  const baseDir = path.resolve(options.baseDir ?? process.cwd());
  const fetchFn = options.fetch ?? childProcessFetch;
  const { repos } = repositoriesOf(config, baseDir);
  const lockFolder = path.resolve(baseDir, config.lockFolder ?? 'schemas.lock');
  const lockSchemas = path.join(lockFolder, 'schemas');
  const old = readLock(lockFolder);
  const schemas: { [key: string]: LockEntry } = {};
  const requests: { [vendorName: string]: string[] } = {};
  const fetched: string[] = [];
  const local: string[] = [];
  const files: { [rel: string]: Buffer } = {};

  // Every schema of the local folders is part of the registry (the folders are committed with the app).
  const folders = repos.filter((r) => r.folder !== undefined).map((r) => r.folder!);
  for (const folder of folders) {
    if (!fs.existsSync(folder)) fail(`The local repository folder ${folder} does not exist`);
    for (const f of readSchemaFolder(folder).files) {
      const parts = f.path.split('/');
      if (parts.length === 4) local.push(`iglu:${parts[0]}/${parts[1]}/${parts[2]}/${parts[3]}`);
    }
  }

  /** Resolves one exact key; returns false when no repository has it (for vendor/name probing). */
  const resolveKey = (vendor: string, name: string, version: string, required: boolean): boolean => {
    const key = `iglu:${schemaPath(vendor, name, version)}`;
    const rel = schemaPath(vendor, name, version);
    if (schemas[key] !== undefined) return true;
    const locked = old.schemas[key];
    const lockedFile = path.join(lockSchemas, rel);
    if (locked !== undefined) {
      if (!fs.existsSync(lockedFile)) fail(`The schema lock lists ${key} but ${lockedFile} is missing: restore it from version control or run \`waymark schemas pull\``);
      const bytes = fs.readFileSync(lockedFile);
      if (sha256(bytes) !== locked.sha256) fail(`${lockedFile} does not match the sha256 the schema lock recorded for ${key} (${locked.sha256}): lock files must not be edited; restore it or run \`waymark schemas pull\``);
      if (mode === 'synth') {
        schemas[key] = locked;
        files[rel] = bytes;
        return true;
      }
    }
    // A local folder that has the key wins when it comes first in the lookup order; it is not locked.
    if (mode === 'synth' && locked === undefined && options.offline) {
      if (folders.some((folder) => fs.existsSync(path.join(folder, rel)))) return true;
      if (!required) return false;
      return fail(`${key} is not in the schema lock ${lockFolder} and the network is off (offline): run \`waymark schemas pull\` to add it, then commit the lock folder`);
    }
    const found = lookup(repos, vendor, name, version, fetchFn);
    if ('missing' in found) {
      if (!required) return false;
      return fail(`Cannot resolve ${key}: no registry has it. Tried, in order:\n  ${found.missing.join('\n  ')}\n` +
        'Add the schema to a local schema folder (schemaFolders, or `npm start -- --schemas DIR`), or list the registry that has it in the Iglu resolver config.');
    }
    const { bytes, url, repo } = found.found;
    if (repo.folder !== undefined) return true;
    checkFetched(key, rel, bytes, url);
    const entry: LockEntry = { registry: repo.name, url, sha256: sha256(bytes) };
    if (locked !== undefined && locked.sha256 !== entry.sha256) {
      fail(`Content drift: ${url} (registry "${repo.name}") now serves ${key} with sha256 ${entry.sha256}, but the schema lock recorded ${locked.sha256} from ${locked.url}. ` +
        'A schema key names one immutable schema: publish the change under a new version. To accept the new content deliberately, delete the key from lock.json and its file, then pull again.');
    }
    schemas[key] = entry;
    files[rel] = bytes;
    fetched.push(key);
    return true;
  };

  for (const wanted of config.schemas ?? []) {
    if (typeof wanted !== 'string') fail(`"schemas" must list Iglu keys or vendor/name strings, got ${JSON.stringify(wanted)}`);
    const k = KEY.exec(wanted);
    if (k !== null) {
      const problem = schemaVerProblem(k[3]);
      if (problem !== null) fail(`"schemas" lists ${wanted}: invalid SchemaVer (${problem})`);
      resolveKey(k[1], k[2], k[3], true);
      continue;
    }
    const vn = VENDOR_NAME.exec(wanted);
    if (vn === null) fail(`"schemas" lists ${JSON.stringify(wanted)}: expected iglu:<vendor>/<name>/jsonschema/<M-R-A> or <vendor>/<name>`);
    const id = `iglu:${vn[1]}/${vn[2]}`;
    const lockedVersions = old.requests[id];
    if (mode === 'synth' && lockedVersions !== undefined) {
      for (const v of lockedVersions) resolveKey(vn[1], vn[2], v, true);
      requests[id] = lockedVersions.slice();
      continue;
    }
    // Probe the SchemaVer sequence: 1-0-0, then for each found version its next ADDITION, REVISION or MODEL.
    const versions: string[] = [];
    if (!resolveKey(vn[1], vn[2], '1-0-0', false)) fail(`Cannot resolve ${id}: no registry has ${id}/jsonschema/1-0-0 (tried ${prioritized(repos, vn[1]).map(describeRepo).join(', ')})`);
    versions.push('1-0-0');
    let current = parseSchemaVer('1-0-0');
    for (let guard = 0; guard < 1000; guard++) {
      const next = successors(current).find((v) => resolveKey(vn[1], vn[2], v, false));
      if (next === undefined) break;
      versions.push(next);
      current = parseSchemaVer(next);
    }
    requests[id] = versions;
  }

  const lock: LockFile = { lockfileVersion: 1, requests, schemas };
  const text = lockText(lock);
  const lockFile = path.join(lockFolder, 'lock.json');
  // Synth writes the lock only when it had to fetch (so a complete lock is never rewritten); pull whenever the
  // resolution differs from the lock (new, removed or re-resolved schemas).
  const differs = (): boolean => {
    if (!fs.existsSync(lockFile) || fs.readFileSync(lockFile, 'utf8') !== text) return true;
    return Object.keys(files).some((rel) => {
      const f = path.join(lockSchemas, rel);
      return !fs.existsSync(f) || !fs.readFileSync(f).equals(files[rel]);
    });
  };
  if (mode === 'synth' ? fetched.length > 0 : differs()) {
    // Rewrite the whole schemas/ folder from what was resolved: no stale files.
    fs.rmSync(lockSchemas, { recursive: true, force: true });
    for (const rel of Object.keys(files).sort()) {
      const f = path.join(lockSchemas, rel);
      fs.mkdirSync(path.dirname(f), { recursive: true });
      fs.writeFileSync(f, files[rel]);
    }
    fs.mkdirSync(lockFolder, { recursive: true });
    fs.writeFileSync(lockFile, text);
  }
  const out = folders.slice();
  if (Object.keys(files).length > 0) out.push(lockSchemas);
  return { folders: out, lockFolder, lock, fetched, local };
}

/** Resolves a config given as a file path or an object, for synth ('synth' mode). */
export function resolveForSynth(config: string | SchemaResolutionConfig, options: Omit<ResolveOptions, 'baseDir'> & { baseDir?: string } = {}): Resolution {
  if (typeof config === 'string') {
    const read = readResolutionConfig(config);
    return resolveSchemas(read.config, 'synth', { ...options, baseDir: read.baseDir });
  }
  return resolveSchemas(config, 'synth', options);
}
