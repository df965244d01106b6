/**
 * The one bundling mechanism of Waymark. Every construct that ships runtime code (collector, tracker,
 * enrichment UDF, schemas, config) turns it into a {@link Bundle} here: bytes, a file name and a content hash.
 * Bundling runs synchronously at synth time (constructs are built in constructors), is deterministic
 * (same input → same bytes → same hash) and knows four targets:
 *
 * - `node`: one CommonJS file for Node 20 (the collector), and a zip with a minimal package.json for
 *   Cloud Functions gen2 / App Engine ({@link nodeZip});
 * - `browser-iife` / `browser-esm`: minified builds for the web (the tracker);
 * - `udf`: one ES5 script for the Dataflow templates' Nashorn engine: esbuild bundles, then TypeScript
 *   lowers the syntax to ES5, and the exported functions become global functions the template can call;
 * - data files ({@link dataFile}): schemas and configuration uploaded as they are.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import * as esbuild from 'esbuild';
import { zipFiles } from './zip';

/**
 * The package root: runtime entries (TypeScript sources, shipped in the package) are resolved against it, and it
 * is esbuild's working directory. Found by walking up, so it is the same from the sources and from `dist/`.
 */
export const PACKAGE_ROOT = findPackageRoot(__dirname);

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'collector', 'main.ts'))) return dir;
    if (dirname(dir) === dir) return resolve(__dirname, '..', '..');
  }
}

export type BundleTarget = 'node' | 'browser-iife' | 'browser-esm' | 'udf';

export interface BundleOptions {
  /** The runtime entry, relative to the package root (e.g. `collector/main.ts`) or absolute. */
  readonly entry: string;
  readonly target: BundleTarget;
  /** Name of the produced file, e.g. `collector.js`. */
  readonly fileName: string;
  /**
   * Modules generated at build time, by import specifier (e.g. `waymark:validators` → JavaScript source).
   * They are inlined into the bundle, so nothing is generated at run time.
   */
  readonly virtualModules?: Readonly<Record<string, string>>;
  /** `browser-iife` only: the global the IIFE assigns its exports to. @default no global */
  readonly globalName?: string;
  /**
   * `udf` only: exported functions that become global functions of the script, callable by name from the
   * template (`javascriptTextTransformFunctionName`). Names must match `[a-zA-Z0-9_]+`.
   */
  readonly udfFunctions?: readonly string[];
  /** Compile-time constants (esbuild `define`). */
  readonly define?: Readonly<Record<string, string>>;
}

/** Bytes ready to upload, named after their content. */
export interface Bundle {
  /** The plain file name, e.g. `collector.js`. */
  readonly fileName: string;
  readonly contents: Buffer;
  /** Hex SHA-256 of the contents (first 16 characters). */
  readonly hash: string;
  /** The file name with the hash in it, e.g. `collector-0123456789abcdef.js`: a new name for new code. */
  readonly hashedName: string;
}

const UDF_GLOBAL = '__waymark';
const cache = new Map<string, Bundle>();

/** Bundles a runtime entry for one target. Results are cached per process by their options. */
export function bundle(options: BundleOptions): Bundle {
  const key = JSON.stringify(options);
  const cached = cache.get(key);
  if (cached) return cached;
  const contents = Buffer.from(build(options), 'utf8');
  const result = makeBundle(options.fileName, contents);
  cache.set(key, result);
  return result;
}

/** A data file (schema, configuration) shipped as it is. */
export function dataFile(fileName: string, contents: string | Buffer): Bundle {
  return makeBundle(fileName, Buffer.isBuffer(contents) ? contents : Buffer.from(contents, 'utf8'));
}

/** JSON data, serialised with sorted keys so that equal data gives equal bytes. */
export function jsonFile(fileName: string, data: unknown): Bundle {
  return dataFile(fileName, stableStringify(data) + '\n');
}

export interface NodeZipOptions {
  /** Package name written into the zip's package.json. */
  readonly name: string;
  readonly version: string;
  /** The file name of the entry inside the zip. @default 'index.js' */
  readonly main?: string;
}

/**
 * A Cloud Functions gen2 / App Engine source archive: the node bundle as the package's main file and a
 * minimal package.json (no dependencies: the bundle is self-contained; `npm start` runs it standalone).
 */
export function nodeZip(server: Bundle, options: NodeZipOptions): Bundle {
  const main = options.main ?? 'index.js';
  const pkg = {
    name: options.name,
    version: options.version,
    private: true,
    main,
    engines: { node: '>=20' },
    // exec: npm runs the script through `sh -c`; without exec the shell would get a platform's SIGTERM and die
    // without passing it on, leaving the server running without draining.
    scripts: { start: `exec node ${main}` },
  };
  const zip = zipFiles([
    { name: 'package.json', contents: Buffer.from(JSON.stringify(pkg, null, 2) + '\n', 'utf8') },
    { name: main, contents: server.contents },
  ]);
  return makeBundle(server.fileName.replace(/\.[^.]*$/, '') + '.zip', zip);
}

/** Writes a bundle to a folder (creating it) and returns the file's path. */
export function writeBundle(b: Bundle, folder: string, name: string = b.fileName): string {
  const file = join(folder, name);
  writeFileAtomic(file, b.contents);
  return file;
}

/**
 * Writes a file aside and renames it into place, so a reader in another process (parallel test workers,
 * a collector started from the file) sees either the old or the new whole file, never a half-written one.
 */
export function writeFileAtomic(file: string, contents: string | Buffer): void {
  mkdirSync(dirname(file), { recursive: true });
  const partial = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(partial, contents);
  renameSync(partial, file);
}

/** JSON.stringify with object keys sorted at every level. */
export function stableStringify(value: unknown, indent = 2): string {
  return JSON.stringify(sortKeys(value), null, indent);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) out[k] = sortKeys((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}

function makeBundle(fileName: string, contents: Buffer): Bundle {
  const hash = createHash('sha256').update(contents).digest('hex').slice(0, 16);
  const ext = extname(fileName);
  const hashedName = `${fileName.slice(0, fileName.length - ext.length)}-${hash}${ext}`;
  return { fileName, contents, hash, hashedName };
}

function build(options: BundleOptions): string {
  const entry = isAbsolute(options.entry) ? options.entry : join(PACKAGE_ROOT, options.entry);
  if (!existsSync(entry)) throw new Error(`bundle: entry ${options.entry} does not exist (resolved to ${entry})`);
  if (options.udfFunctions && options.target !== 'udf') throw new Error('bundle: udfFunctions is for the udf target only');
  const common: esbuild.BuildOptions = {
    entryPoints: [entry],
    absWorkingDir: PACKAGE_ROOT,
    bundle: true,
    write: false,
    charset: 'utf8',
    logLevel: 'silent',
    define: { ...options.define },
    alias: writeVirtualModules(options.virtualModules),
  };
  let targetOptions: esbuild.BuildOptions;
  switch (options.target) {
    case 'node':
      targetOptions = { platform: 'node', target: 'node20', format: 'cjs', legalComments: 'eof',
        // Generated modules live in a temporary folder: no path comments, so the output does not depend on it.
        minifyWhitespace: options.virtualModules !== undefined };
      break;
    case 'browser-iife':
      targetOptions = { platform: 'browser', target: 'es2017', format: 'iife', minify: true, legalComments: 'none', globalName: options.globalName };
      break;
    case 'browser-esm':
      targetOptions = { platform: 'browser', target: 'es2017', format: 'esm', minify: true, legalComments: 'none' };
      break;
    case 'udf':
      // Readable output (Dataflow reports line numbers); the path comments esbuild writes are removed by the ES5 step.
      targetOptions = { platform: 'neutral', target: 'es2017', format: 'iife', globalName: UDF_GLOBAL, legalComments: 'none', mainFields: ['module', 'main'] };
      break;
  }
  const result = esbuild.buildSync({ ...common, ...targetOptions });
  if (result.errors.length > 0) throw new Error(`bundle ${options.entry}: ${result.errors.map((e) => e.text).join('; ')}`);
  const text = result.outputFiles![0].text;
  return options.target === 'udf' ? toEs5Script(text, options) : text;
}

/**
 * Lowers an esbuild IIFE to an ES5 script and appends the global entry functions. TypeScript's transpiler
 * handles the syntax (let/const, arrows, classes, template literals, for-of over arrays, spread); the
 * runtime code itself must not use ES2015+ built-ins, which no compiler can add to Nashorn.
 */
function toEs5Script(code: string, options: BundleOptions): string {
  // Loaded lazily: only the UDF target needs the TypeScript compiler.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ts: typeof import('typescript') = require('typescript');
  const out = ts.transpileModule(code, {
    fileName: 'udf.js',
    reportDiagnostics: true,
    compilerOptions: {
      target: ts.ScriptTarget.ES5,
      module: ts.ModuleKind.CommonJS, // the input is a script (no import/export), so nothing module-like is emitted
      allowJs: true,
      noEmitHelpers: false,
      importHelpers: false,
      removeComments: true,
      alwaysStrict: false,
      moduleDetection: ts.ModuleDetectionKind.Legacy, // a script stays a script: no "use strict" prologue
      newLine: ts.NewLineKind.LineFeed,
    },
  });
  const problems = (out.diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (problems.length > 0) {
    const text = problems.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('; ');
    throw new Error(`bundle ${options.entry}: cannot lower to ES5: ${text}`);
  }
  const functions = options.udfFunctions ?? [];
  const globals = functions.map((name) => {
    if (!/^[a-zA-Z0-9_]+$/.test(name)) throw new Error(`bundle: UDF function name "${name}" must match [a-zA-Z0-9_]+`);
    return `function ${name}(input) {\n    return ${UDF_GLOBAL}.${name}(input);\n}\n`;
  });
  const missing = functions.filter((name) => !new RegExp(`\\b${name}\\b`).test(code));
  if (missing.length > 0) throw new Error(`bundle ${options.entry}: the entry does not export ${missing.join(', ')}`);
  return out.outputText.replace(/\r\n/g, '\n') + globals.join('');
}

function writeVirtualModules(modules: Readonly<Record<string, string>> | undefined): Record<string, string> | undefined {
  if (!modules) return undefined;
  const alias: Record<string, string> = {};
  for (const specifier of Object.keys(modules).sort()) {
    const source = modules[specifier];
    const digest = createHash('sha256').update(specifier).update('\0').update(source).digest('hex').slice(0, 24);
    // A cache keyed by content, kept on purpose: the same module is written once per machine and shared by every
    // bundling after it (writeFileAtomic, so parallel processes do not see a half-written file).
    const file = join(tmpdir(), 'waymark-bundler', digest, specifier.replace(/[^a-zA-Z0-9_.-]/g, '_') + '.js');
    if (!existsSync(file)) writeFileAtomic(file, source);
    alias[specifier] = file;
  }
  return alias;
}

/** Forgets cached bundles (tests use it to prove that bundling is deterministic). */
export function clearBundleCache(): void {
  cache.clear();
}
