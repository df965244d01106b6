/**
 * Iglu resolution (pipeline/registry/resolver.ts) against registries served by a local HTTP server (never the
 * internet): priority order, vendor/name probing, a lock that makes synth reproducible and offline, clear errors
 * naming the key and the registries, and content drift. Through the resolver core, the `waymark schemas` CLI and the
 * SchemaRegistry construct.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Testing, TerraformStack } from 'cdktf';
import { SchemaRegistry } from '../../lib/schema-registry';
import { main as cli, resolveStartArgs } from '../../pipeline/registry/cli';
import { loadRegistry } from '../../pipeline/registry/load';
import { IGLU_CENTRAL, resolveSchemas, sha256, type SchemaResolutionConfig } from '../../pipeline/registry/resolver';
import { IgluServer, schemaDoc, startIgluServer } from './helpers/iglu-server';

const CHECKOUT = 'iglu:com.acme/checkout/jsonschema/1-0-0';
const CART = 'iglu:com.acme/cart/jsonschema/1-0-0';

let a: IgluServer;
let b: IgluServer;
let work: string;
beforeAll(async () => {
  [a, b] = await Promise.all([startIgluServer(), startIgluServer()]);
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'waymark-resolver-'));
});
afterEach(() => {
  rmSync(work, { recursive: true, force: true });
});

const http = (name: string, server: IgluServer, priority: number, vendorPrefixes?: string[]) => ({ name, priority, vendorPrefixes, connection: { http: { uri: server.uri } } });

function lockBytes(folder: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string, rel: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name), `${rel}${e.name}/`);
      else out[rel + e.name] = readFileSync(join(dir, e.name), 'utf8');
    }
  };
  walk(folder, '');
  return out;
}

describe('priority', () => {
  it('takes a schema from the first registry in Snowplow\'s order: vendorPrefixes, local folders, then priority', () => {
    a.put(CHECKOUT, schemaDoc(CHECKOUT, { id: { type: 'string' } }, 'from A'));
    b.put(CHECKOUT, schemaDoc(CHECKOUT, { id: { type: 'string' } }, 'from B'));
    const description = (config: SchemaResolutionConfig): string => {
      const lock = join(work, `lock-${Math.random()}`);
      const r = resolveSchemas({ ...config, lockFolder: lock, schemas: [CHECKOUT] }, 'synth');
      return loadRegistry(r.folders, { builtins: false }).get(CHECKOUT)?.schema.description as string;
    };
    // Lower priority number first, whatever the listed order.
    expect(description({ resolver: [http('A', a, 5), http('B', b, 1)] })).toBe('from B');
    expect(description({ resolver: [http('A', a, 1), http('B', b, 5)] })).toBe('from A');
    // Equal priority: listed order.
    expect(description({ resolver: [http('B', b, 0), http('A', a, 0)] })).toBe('from B');
    // A repository whose vendorPrefixes match is tried first.
    expect(description({ resolver: [http('B', b, 0), http('A', a, 9, ['com.acme'])] })).toBe('from A');
    expect(description({ resolver: [http('B', b, 0), http('A', a, 9, ['com.other'])] })).toBe('from B');
    // A local folder (Snowplow's "embedded") before HTTP repositories; its schemas are used from the folder, not locked.
    const folder = join(work, 'local');
    mkdirSync(join(folder, 'com.acme/checkout/jsonschema'), { recursive: true });
    writeFileSync(join(folder, 'com.acme/checkout/jsonschema/1-0-0'), JSON.stringify(schemaDoc(CHECKOUT, { id: { type: 'string' } }, 'from the folder')));
    expect(description({ resolver: [http('A', a, 0), { name: 'mine', priority: 99, connection: { embedded: { path: folder } } }] })).toBe('from the folder');
  });

  it('falls through to the next registry when one does not have the schema (404) or fails', () => {
    b.put(CART, schemaDoc(CART, { total: { type: 'number' } }));
    const broken = { name: 'down', priority: 0, connection: { http: { uri: 'http://127.0.0.1:9' } } };
    const r = resolveSchemas({ resolver: [broken, http('A', a, 1), http('B', b, 2)], schemas: [CART], lockFolder: join(work, 'lock') }, 'synth');
    expect(r.lock.schemas[CART]).toMatchObject({ registry: 'B', url: `${b.uri}/schemas/com.acme/cart/jsonschema/1-0-0` });
  });

  it('resolves vendor/name to every version by probing the SchemaVer sequence', () => {
    for (const v of ['1-0-0', '1-0-1', '1-1-0', '2-0-0']) {
      const key = `iglu:com.acme/basket/jsonschema/${v}`;
      a.put(key, schemaDoc(key, { id: { type: 'string' } }));
    }
    const r = resolveSchemas({ resolver: [http('A', a, 0)], schemas: ['com.acme/basket'], lockFolder: join(work, 'lock') }, 'synth');
    expect(r.lock.requests).toEqual({ 'iglu:com.acme/basket': ['1-0-0', '1-0-1', '1-1-0', '2-0-0'] });
    expect(Object.keys(r.lock.schemas).sort()).toEqual(['1-0-0', '1-0-1', '1-1-0', '2-0-0'].map((v) => `iglu:com.acme/basket/jsonschema/${v}`));
  });

  it('defaults to Iglu Central', () => {
    expect(IGLU_CENTRAL).toBe('http://iglucentral.com');
    const seen: string[] = [];
    expect(() => resolveSchemas({ schemas: [CHECKOUT], lockFolder: join(work, 'lock') }, 'synth', { fetch: (url) => (seen.push(url), { status: 404, body: Buffer.from('') }) })).toThrow(/Iglu Central/);
    expect(seen).toEqual(['http://iglucentral.com/schemas/com.acme/checkout/jsonschema/1-0-0']);
  });
});

describe('the lock', () => {
  beforeEach(() => {
    a.put(CHECKOUT, schemaDoc(CHECKOUT, { id: { type: 'string' } }));
    a.put(CART, schemaDoc(CART, { total: { type: 'number' } }));
  });
  const config = (lockFolder: string): SchemaResolutionConfig => ({ resolver: [http('A', a, 0)], schemas: [CART, CHECKOUT], lockFolder });

  it('records the source URL and the sha256 of the served bytes, which it keeps as they were served', () => {
    const lock = join(work, 'schemas.lock');
    const r = resolveSchemas(config(lock), 'synth');
    const served = readFileSync(join(lock, 'schemas/com.acme/checkout/jsonschema/1-0-0'));
    expect(r.lock.schemas[CHECKOUT]).toEqual({ registry: 'A', url: `${a.uri}/schemas/com.acme/checkout/jsonschema/1-0-0`, sha256: sha256(served) });
    expect(JSON.parse(readFileSync(join(lock, 'lock.json'), 'utf8'))).toEqual({ lockfileVersion: 1, requests: {}, schemas: r.lock.schemas });
    expect(r.folders).toEqual([join(lock, 'schemas')]);
  });

  it('makes two synths give the same bytes, and a complete lock is never fetched again', () => {
    const one = join(work, 'one');
    const two = join(work, 'two');
    resolveSchemas(config(one), 'synth');
    resolveSchemas(config(two), 'synth');
    expect(lockBytes(two)).toEqual(lockBytes(one));
    const before = a.requests().length;
    const again = resolveSchemas(config(one), 'synth');
    expect(again.fetched).toEqual([]);
    expect(a.requests()).toHaveLength(before);
    expect(lockBytes(one)).toEqual(lockBytes(two));
  });

  it('synthesizes offline with a complete lock (no registry reachable), and fails offline when the lock lacks a schema', () => {
    const lock = join(work, 'lock');
    resolveSchemas(config(lock), 'synth');
    const down = { resolver: [{ name: 'A', connection: { http: { uri: 'http://127.0.0.1:9' } } }], schemas: [CART, CHECKOUT], lockFolder: lock };
    const offline = resolveSchemas(down, 'synth', { offline: true, fetch: () => { throw new Error('the network was used'); } });
    expect(loadRegistry(offline.folders, { builtins: false }).schemas.map((s) => s.key)).toEqual([CART, CHECKOUT]);
    const more = 'iglu:com.acme/refund/jsonschema/1-0-0';
    expect(() => resolveSchemas({ ...down, schemas: [CART, more] }, 'synth', { offline: true })).toThrow(
      `${more} is not in the schema lock ${lock} and the network is off (offline): run \`waymark schemas pull\``,
    );
  });

  it('fails with the key and every registry tried when no registry has a schema', () => {
    const missing = 'iglu:com.acme/nowhere/jsonschema/1-0-0';
    const run = () => resolveSchemas({ resolver: [http('Acme registry', a, 0), http('Backup', b, 1)], schemas: [missing], lockFolder: join(work, 'lock') }, 'synth');
    expect(run).toThrow(`Cannot resolve ${missing}: no registry has it`);
    expect(run).toThrow(`"Acme registry" (${a.uri}): ${a.uri}/schemas/com.acme/nowhere/jsonschema/1-0-0 answered HTTP 404`);
    expect(run).toThrow(`"Backup" (${b.uri}): ${b.uri}/schemas/com.acme/nowhere/jsonschema/1-0-0 answered HTTP 404`);
    expect(run).toThrow(/Add the schema to a local schema folder .*or list the registry that has it in the Iglu resolver config/);
  });

  it('rejects a served document that is not the schema of its key', () => {
    a.put(CHECKOUT, { ...schemaDoc(CHECKOUT, {}), self: { vendor: 'com.acme', name: 'other', format: 'jsonschema', version: '1-0-0' } });
    expect(() => resolveSchemas(config(join(work, 'lock')), 'synth')).toThrow(`${CHECKOUT} from ${a.uri}/schemas/com.acme/checkout/jsonschema/1-0-0 is not a usable schema: self.name "other" does not match the path`);
  });

  it('detects content drift on pull: same key, new content', () => {
    const lock = join(work, 'lock');
    resolveSchemas(config(lock), 'synth');
    expect(resolveSchemas(config(lock), 'pull').fetched).toEqual([CART, CHECKOUT]);
    a.put(CHECKOUT, schemaDoc(CHECKOUT, { id: { type: 'integer' } }));
    expect(() => resolveSchemas(config(lock), 'pull')).toThrow(new RegExp(`^Content drift: ${a.uri}/schemas/com.acme/checkout/jsonschema/1-0-0 \\(registry "A"\\) now serves ${CHECKOUT} with sha256 [0-9a-f]{64}, but the schema lock recorded [0-9a-f]{64}`));
    // Synth keeps using the locked content: a deployment does not change under its feet.
    const r = resolveSchemas(config(lock), 'synth');
    expect(loadRegistry(r.folders, { builtins: false }).get(CHECKOUT)?.schema.properties).toEqual({ id: { type: 'string' } });
  });

  it('detects a locked file edited by hand', () => {
    const lock = join(work, 'lock');
    resolveSchemas(config(lock), 'synth');
    const file = join(lock, 'schemas/com.acme/cart/jsonschema/1-0-0');
    writeFileSync(file, readFileSync(file, 'utf8').replace('number', 'string'));
    expect(() => resolveSchemas(config(lock), 'synth')).toThrow(`${file} does not match the sha256 the schema lock recorded for ${CART}`);
  });

  it('pull drops schemas no longer requested', () => {
    const lock = join(work, 'lock');
    resolveSchemas(config(lock), 'synth');
    resolveSchemas({ ...config(lock), schemas: [CART] }, 'pull');
    expect(Object.keys(lockBytes(lock)).sort()).toEqual(['lock.json', 'schemas/com.acme/cart/jsonschema/1-0-0']);
  });
});

describe('the waymark schemas CLI', () => {
  it('pull writes the lock, check verifies it offline; errors exit 1 with the reason', () => {
    a.put(CART, schemaDoc(CART, { total: { type: 'number' } }));
    writeFileSync(join(work, 'iglu_resolver.json'), JSON.stringify({
      schema: 'iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3',
      data: { cacheSize: 500, repositories: [{ name: 'Acme', priority: 0, vendorPrefixes: ['com.acme'], connection: { http: { uri: a.uri } } }] },
    }));
    writeFileSync(join(work, 'waymark-schemas.json'), JSON.stringify({ resolver: 'iglu_resolver.json', schemas: [CART] }));
    const out: string[] = [];
    const err: string[] = [];
    const run = (...args: string[]) => cli(args, (s) => out.push(s), (s) => err.push(s));
    expect(run('schemas', 'pull', '--config', join(work, 'waymark-schemas.json'))).toBe(0);
    expect(out.join('')).toBe(`Pulled 1 schema into ${join(work, 'schemas.lock')} (1 fetched)\n`);
    expect(run('schemas', 'check', `--config=${join(work, 'waymark-schemas.json')}`)).toBe(0);
    writeFileSync(join(work, 'waymark-schemas.json'), JSON.stringify({ resolver: 'iglu_resolver.json', schemas: [CART, CHECKOUT] }));
    expect(run('schemas', 'check', '--config', join(work, 'waymark-schemas.json'))).toBe(1);
    expect(err.join('')).toContain(`waymark schemas check: ${CHECKOUT} is not in the schema lock`);
    expect(run('schemas', 'push')).toBe(2);
  });
});

describe('npm start -- --resolver FILE', () => {
  it('takes --resolver out of the arguments and gives the folders to build the UDF with', () => {
    a.put(CART, schemaDoc(CART, { total: { type: 'number' } }));
    const folder = join(work, 'mine');
    mkdirSync(folder);
    writeFileSync(join(work, 'waymark-schemas.json'), JSON.stringify({ resolver: [http('A', a, 0), { name: 'mine', connection: { embedded: { path: 'mine' } } }], schemas: [CART] }));
    const r = resolveStartArgs(['--port', '0', '--resolver', join(work, 'waymark-schemas.json'), '--pubsub']);
    expect(r.argv).toEqual(['--port', '0', '--pubsub']);
    expect(r.folders).toEqual([folder, join(work, 'schemas.lock', 'schemas')]);
    expect(resolveStartArgs(['--schemas', 'x']).folders).toEqual([]);
  });
});

describe('SchemaRegistry with a resolver', () => {
  it('adds the resolved schemas to the registry and the bucket; a synth with the lock gives the same Terraform', () => {
    a.put(CHECKOUT, schemaDoc(CHECKOUT, { id: { type: 'string' } }));
    const config = join(work, 'app', 'waymark-schemas.json');
    mkdirSync(dirname(config), { recursive: true });
    writeFileSync(config, JSON.stringify({ resolver: [http('A', a, 0)], schemas: [CHECKOUT] }));
    const synth = (): string => {
      const stack = new TerraformStack(Testing.app(), 'test');
      const registry = new SchemaRegistry(stack, 'schemas', { projectId: 'acme-prod', resolver: config });
      expect(registry.registry.get(CHECKOUT)?.file).toBe(join(work, 'app', 'schemas.lock', 'schemas', 'com.acme/checkout/jsonschema/1-0-0'));
      expect(registry.objects[CHECKOUT]).toBeDefined();
      return Testing.synth(stack);
    };
    const first = synth();
    const before = a.requests().length;
    expect(synth()).toBe(first);
    expect(a.requests()).toHaveLength(before);
  });

  it('names the resolver prop when a schema cannot be resolved', () => {
    const stack = new TerraformStack(Testing.app(), 'test');
    expect(() => new SchemaRegistry(stack, 'schemas', { projectId: 'acme-prod', resolver: { resolver: [http('A', a, 0)], schemas: ['iglu:com.acme/gone/jsonschema/1-0-0'], lockFolder: join(work, 'lock') } }))
      .toThrow(/SchemaRegistry.*resolver.*Cannot resolve iglu:com\.acme\/gone\/jsonschema\/1-0-0/s);
  });
});
