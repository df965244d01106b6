/**
 * `import { newTracker } from 'waymark/tracker'` as a user of the published package gets it: the package is laid
 * out (package.json as it is, the tracker's declarations compiled with tsconfig.build.json, the ESM build step of
 * scripts/tracker-esm.ts), packed with `npm pack`, unpacked into a consumer's node_modules, then imported by Node as ESM
 * and type-checked by TypeScript (Node16/NodeNext and bundler resolution).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ts from 'typescript';
import { TRACKER_EXPORT, writeTrackerEsm } from '../../scripts/tracker-esm';

const ROOT = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  files: string[];
  scripts: Record<string, string>;
  exports: Record<string, unknown>;
};

let tmp: string;
let app: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'waymark-pack-'));
  const dir = join(tmp, 'package');
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
  // The tracker's part of `tsc -p tsconfig.build.json` (declarations), then the ESM build step.
  const config = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.build.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')); } })!;
  const program = ts.createProgram([join(ROOT, 'tracker', 'index.ts')], { ...config.options, outDir: join(dir, 'dist'), rootDir: ROOT, emitDeclarationOnly: true });
  const emitted = program.emit();
  expect(emitted.diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))).toEqual([]);
  writeTrackerEsm(join(dir, 'dist'));
  // Pack as npm publishes (the files list of package.json applies), unpack into a consumer's node_modules.
  const env = { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], { cwd: dir, env, encoding: 'utf8' })) as { filename: string }[];
  app = join(tmp, 'app');
  const installed = join(app, 'node_modules', 'waymark');
  mkdirSync(installed, { recursive: true });
  execFileSync('tar', ['-xzf', join(tmp, packed.filename), '-C', installed, '--strip-components=1']);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

test("package.json exports './tracker' as the ESM build with its types, and its build runs before packing", () => {
  // If this fails, package.json needs: "exports": { ..., "./tracker": TRACKER_EXPORT } (and "dist" in "files"),
  // and the compile script (run by prepack) the ESM step after tsc.
  expect(pkg.exports['./tracker']).toEqual(TRACKER_EXPORT);
  expect(pkg.files).toContain('dist');
  expect(pkg.scripts.prepack).toBe('npm run compile');
  expect(pkg.scripts.compile).toBe('tsc -p tsconfig.build.json && tsx scripts/tracker-esm.ts');
});

test("Node imports 'waymark/tracker' as an ES module", () => {
  writeFileSync(
    join(app, 'consumer.mjs'),
    `import { newTracker, loaderSnippet, VERSION } from 'waymark/tracker';
     import * as all from 'waymark/tracker';
     process.stdout.write(JSON.stringify({ newTracker: typeof newTracker, VERSION, snippet: loaderSnippet('/sp.js'), names: Object.keys(all).sort() }));`,
  );
  const out = JSON.parse(execFileSync(process.execPath, ['consumer.mjs'], { cwd: app, encoding: 'utf8' }));
  expect(out).toEqual({
    newTracker: 'function',
    VERSION: pkg.version,
    snippet: expect.stringContaining('"waymark","/sp.js"'),
    names: ['VERSION', 'loaderSnippet', 'newTracker'],
  });
});

test.each([
  ['NodeNext', 'consumer.mts', { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext }],
  ['bundler', 'consumer.ts', { module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler }],
] as const)("TypeScript (%s resolution) type-checks a consumer of 'waymark/tracker'", (_name, file, resolution) => {
  const source = join(app, file);
  writeFileSync(
    source,
    `import { newTracker, loaderSnippet, VERSION, type Tracker, type TrackerOptions, type WaymarkFunction } from 'waymark/tracker';
     const options: TrackerOptions = { appId: 'shop', eventMethod: 'get', maxGetBytes: 4000, contexts: { session: true } };
     export const make = (): Tracker => newTracker('sp', 'https://c.example.com', options);
     export const snippet: string = loaderSnippet('/sp.js') + VERSION;
     export const call = (w: WaymarkFunction): void => w('trackStructEvent', { category: 'c', action: 'a' });
     // @ts-expect-error eventMethod is 'post' or 'get' (fails if the types were missing or any)
     export const bad: TrackerOptions = { eventMethod: 'put' };
     // @ts-expect-error structured events need an action
     export const bad2 = (t: Tracker): void => t.trackStructEvent({ category: 'c' });
    `,
  );
  const program = ts.createProgram([source], {
    ...resolution,
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
    types: [],
    strict: true,
    noEmit: true,
    skipLibCheck: false,
  });
  const problems = ts.getPreEmitDiagnostics(program).map((d) => `${d.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
  expect(problems).toEqual([]);
  // The types came from the installed package, not from the repository's sources.
  const resolved = program.getSourceFiles().map((f) => f.fileName).filter((f) => f.includes('node_modules/waymark/'));
  expect(resolved).toEqual(expect.arrayContaining([join(app, 'node_modules/waymark/dist/tracker/index.d.ts')]));
});
