/**
 * Test helpers for running engine-neutral code the way the Dataflow UDF runs it: ES5 syntax, without the ES2015+
 * built-ins Nashorn lacks (DESIGN.md, "The UDF runs in Nashorn, not Node").
 */
import * as esbuild from 'esbuild';
import * as path from 'path';
import * as ts from 'typescript';
import * as vm from 'vm';

/** ES2015+ built-ins Nashorn lacks (and a few more that Rhino lacks), deleted in {@link nashornLikeContext}. */
export const MISSING_IN_NASHORN: readonly string[] = [
  'Object.assign', 'Object.entries', 'Object.values', 'Object.is', 'Object.getOwnPropertySymbols', 'Array.from', 'Array.of',
  'Array.prototype.find', 'Array.prototype.findIndex', 'Array.prototype.fill', 'Array.prototype.includes', 'Array.prototype.flat',
  'String.prototype.includes', 'String.prototype.padStart', 'String.prototype.padEnd', 'String.prototype.trimStart',
  'String.prototype.trimEnd', 'String.prototype.startsWith', 'String.prototype.endsWith', 'String.prototype.repeat',
  'String.prototype.codePointAt', 'String.fromCodePoint', 'Number.isInteger', 'Number.isFinite', 'Number.isNaN',
  'Math.trunc', 'Math.sign', 'this.Promise', 'this.Reflect', 'this.Proxy', 'this.Map', 'this.Set', 'this.WeakMap',
  'this.WeakSet', 'this.Symbol', 'this.globalThis', 'this.TextEncoder', 'this.TextDecoder', 'this.URL', 'this.URLSearchParams',
];

/** A fresh vm context with {@link MISSING_IN_NASHORN} deleted (checked, so a silent no-op can't pass). */
export function nashornLikeContext(): vm.Context {
  const context = vm.createContext({});
  vm.runInContext(MISSING_IN_NASHORN.map((name) => `delete ${name};`).join('\n'), context);
  const left = vm.runInContext(`[${MISSING_IN_NASHORN.map((n) => `typeof ${n} === "undefined" ? "" : ${JSON.stringify(n)}`).join(', ')}].filter(function (x) { return x; })`, context) as string[];
  if (left.length > 0) throw new Error('could not delete ' + left.join(', '));
  return context;
}

/**
 * Bundles TypeScript `source` (resolved from the repository root) the way the UDF target does: esbuild to one IIFE
 * assigning `globalName`, then TypeScript down to ES5 syntax.
 */
export async function bundleAsEs5Script(source: string, globalName: string, plugins: esbuild.Plugin[] = []): Promise<string> {
  const root = path.resolve(__dirname, '..', '..');
  const out = await esbuild.build({
    stdin: { contents: source, resolveDir: root, loader: 'ts', sourcefile: 'entry.ts' },
    bundle: true,
    format: 'iife',
    globalName,
    target: 'es2020',
    platform: 'neutral',
    write: false,
    logLevel: 'silent',
    plugins,
  });
  const js = out.outputFiles[0].text;
  return ts.transpileModule(js, { compilerOptions: { target: ts.ScriptTarget.ES5, module: ts.ModuleKind.None, allowJs: true } }).outputText;
}
