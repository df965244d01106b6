import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import * as vm from 'node:vm';
import * as acorn from 'acorn';
import { Bundle, BundleOptions, bundle, clearBundleCache, dataFile, jsonFile, nodeZip, writeBundle } from '../../lib/private/bundler';
import { tempDir } from '../helpers/temp-dirs';

const FIXTURES = 'test/lib/fixtures/bundler';
const udfOptions: BundleOptions = {
  entry: `${FIXTURES}/udf.ts`,
  target: 'udf',
  fileName: 'udf.js',
  udfFunctions: ['process', 'processBatch'],
  virtualModules: {
    'waymark:validators': 'export const validators = { greeting: function (s) { return s.length > 0 ? [] : ["empty"]; } };\n',
    'waymark:config': 'export default {"salt":"pepper"};\n',
  },
};

/** Reads the entries of a zip archive (central directory → local headers → inflate). */
function unzip(zip: Buffer): Record<string, { data: Buffer; mode: number }> {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const out: Record<string, { data: Buffer; mode: number }> = {};
  for (let i = 0; i < count; i++) {
    const nameLength = zip.readUInt16LE(at + 28);
    const extra = zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
    const mode = zip.readUInt32LE(at + 38) >>> 16;
    const local = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    const size = zip.readUInt32LE(local + 18);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    out[name] = { data: inflateRawSync(zip.subarray(start, start + size)), mode };
    at += 46 + nameLength + extra;
  }
  return out;
}

describe('bundler', () => {
  beforeEach(() => clearBundleCache());

  describe('node target', () => {
    const options: BundleOptions = { entry: `${FIXTURES}/server.ts`, target: 'node', fileName: 'server.js' };

    test('one self-contained CommonJS file that runs with plain node', () => {
      const b = bundle(options);
      const file = writeBundle(b, tempDir('bundler-test'));
      expect(execFileSync(process.execPath, [file], { cwd: tmpdir() }).toString()).toBe('hello node\n');
      const required = execFileSync(process.execPath, ['-e', `process.stdout.write(require(${JSON.stringify(file)}).handler())`]);
      expect(required.toString()).toBe('hello node');
      expect(b.contents.toString()).not.toMatch(/require\(["']\.\/shared["']\)/);
    });

    test('a Cloud Functions / App Engine zip: the bundle as main plus a minimal package.json', () => {
      const server = bundle(options);
      const zip = nodeZip(server, { name: 'waymark-collector', version: '1.2.3' });
      expect(zip.fileName).toBe('server.zip');
      const entries = unzip(zip.contents);
      expect(Object.keys(entries).sort()).toEqual(['index.js', 'package.json']);
      expect(entries['index.js'].data.equals(server.contents)).toBe(true);
      expect(entries['index.js'].mode).toBe(0o100644);
      expect(JSON.parse(entries['package.json'].data.toString())).toEqual({
        name: 'waymark-collector', version: '1.2.3', private: true, main: 'index.js',
        engines: { node: '>=20' }, scripts: { start: 'exec node index.js' },
      });
    });

    test('the zip is a valid archive for the system unzip', () => {
      const zip = nodeZip(bundle(options), { name: 'x', version: '0.0.0' });
      const dir = tempDir('bundler-test');
      const file = writeBundle(zip, dir);
      const listing = spawnSync('unzip', ['-t', file]);
      if (listing.error) throw new Error('unzip is missing: apt-get install -y unzip');
      expect(listing.stdout.toString()).toMatch(/No errors detected/);
    });
  });

  describe('browser targets', () => {
    test('a minified IIFE that assigns its global and runs in a browser-like context', () => {
      const b = bundle({ entry: `${FIXTURES}/browser.ts`, target: 'browser-iife', fileName: 'sp.js', globalName: 'fixture' });
      const code = b.contents.toString();
      expect(code.split('\n').filter(Boolean)).toHaveLength(1);
      const context: Record<string, unknown> = {};
      context.globalThis = context;
      vm.runInNewContext(code, context);
      expect(context.helloFromBundle).toBe('hello browser');
      expect((context.fixture as { hello(): string }).hello()).toBe('hello browser');
    });

    test('an ES module with the entry exports', () => {
      const b = bundle({ entry: `${FIXTURES}/browser.ts`, target: 'browser-esm', fileName: 'sp.esm.js' });
      const program = acorn.parse(b.contents.toString(), { ecmaVersion: 2017, sourceType: 'module' });
      const exported = program.body.filter((n) => n.type === 'ExportNamedDeclaration');
      expect(exported.length).toBeGreaterThan(0);
      const file = writeBundle(b, tempDir('bundler-test'), 'sp.mjs');
      const out = execFileSync(process.execPath, ['--input-type=module', '-e',
        `import { hello, version } from ${JSON.stringify('file://' + file)}; process.stdout.write(hello() + ' ' + version);`]);
      expect(out.toString()).toBe('hello browser 1');
    });
  });

  describe('udf target (Nashorn)', () => {
    test('the output parses as ECMAScript 5', () => {
      const code = bundle(udfOptions).contents.toString();
      expect(() => acorn.parse(code, { ecmaVersion: 5, sourceType: 'script' })).not.toThrow();
    });

    test('exported functions become global functions; virtual modules are inlined; state persists', () => {
      const code = bundle(udfOptions).contents.toString();
      const context = vm.createContext({});
      vm.runInContext(code, context);
      const first = JSON.parse(context.process('{"name":"ada","tags":["a","b"]}'));
      expect(first).toEqual({ calls: 1, name: 'ada', joined: 'a;b;seen;', check: [], config: { salt: 'pepper' } });
      expect(JSON.parse(context.processBatch('{"name":""}'))).toMatchObject({ calls: 2, check: ['empty'] });
      expect(context.processBatch('not json')).toBeNull();
    });

    test('runs in Rhino, a second real engine', () => {
      const dir = tempDir('bundler-test');
      const udf = writeBundle(bundle(udfOptions), dir);
      const script = writeBundle(dataFile('main.js', `load(${JSON.stringify(udf)});\nprint(process('{"name":"rhino","tags":["x"]}'));\n`), dir);
      const run = spawnSync('rhino', ['-version', '180', script], { encoding: 'utf8' });
      if (run.error) throw new Error('Rhino is missing: apt-get install -y rhino');
      expect(run.stderr).toBe('');
      expect(JSON.parse(run.stdout)).toEqual({ calls: 1, name: 'rhino', joined: 'x;seen;', check: [], config: { salt: 'pepper' } });
    });

    test('rejects function names the template cannot call and exports the entry lacks', () => {
      expect(() => bundle({ ...udfOptions, udfFunctions: ['bad-name'] })).toThrow(/must match \[a-zA-Z0-9_\]\+/);
      expect(() => bundle({ ...udfOptions, udfFunctions: ['missingFunction'] })).toThrow(/does not export missingFunction/);
    });
  });

  describe('data files', () => {
    test('bytes as given, named after their content', () => {
      const b = dataFile('schema.json', '{"a":1}');
      expect(b.contents.toString()).toBe('{"a":1}');
      expect(b.hash).toMatch(/^[0-9a-f]{16}$/);
      expect(b.hashedName).toBe(`schema-${b.hash}.json`);
    });

    test('JSON with sorted keys: equal data, equal bytes', () => {
      expect(jsonFile('c.json', { b: 1, a: { d: 2, c: 3 } }).contents.equals(jsonFile('c.json', { a: { c: 3, d: 2 }, b: 1 }).contents)).toBe(true);
    });
  });

  describe('determinism', () => {
    const targets: Array<[string, () => Bundle]> = [
      ['node', () => bundle({ entry: `${FIXTURES}/server.ts`, target: 'node', fileName: 'server.js' })],
      ['zip', () => nodeZip(bundle({ entry: `${FIXTURES}/server.ts`, target: 'node', fileName: 'server.js' }), { name: 'x', version: '1' })],
      ['browser-iife', () => bundle({ entry: `${FIXTURES}/browser.ts`, target: 'browser-iife', fileName: 'sp.js' })],
      ['browser-esm', () => bundle({ entry: `${FIXTURES}/browser.ts`, target: 'browser-esm', fileName: 'sp.esm.js' })],
      ['udf', () => bundle(udfOptions)],
    ];

    test.each(targets)('%s: same input, same bytes, same hash', (_name, make) => {
      const first = make();
      clearBundleCache();
      const second = make();
      expect(second).not.toBe(first);
      expect(second.contents.equals(first.contents)).toBe(true);
      expect(second.hash).toBe(first.hash);
    });

    test('a change of input changes the hash', () => {
      const a = bundle(udfOptions);
      const b = bundle({ ...udfOptions, virtualModules: { ...udfOptions.virtualModules, 'waymark:config': 'export default {"salt":"salt"};\n' } });
      expect(b.hash).not.toBe(a.hash);
    });

    test('the same in a separate process (no state carried over)', () => {
      const script = `const { bundle } = require('./lib/private/bundler'); process.stdout.write(bundle(${JSON.stringify(udfOptions)}).hash);`;
      const other = execFileSync(process.execPath, ['--import', 'tsx', '-e', script]).toString();
      expect(other).toBe(bundle(udfOptions).hash);
    });
  });

  test('a missing entry is a clear error', () => {
    expect(() => bundle({ entry: 'nowhere/main.ts', target: 'node', fileName: 'x.js' })).toThrow(/entry nowhere\/main.ts does not exist/);
    expect(existsSync(join(FIXTURES, 'server.ts'))).toBe(true);
  });
});
