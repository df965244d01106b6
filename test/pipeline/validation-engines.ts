/**
 * Test helper for running engine-neutral code the way the Dataflow UDF runs it: ES5 syntax, in a context without the
 * ES2015+ built-ins Nashorn lacks (DESIGN.md, "The UDF runs in Nashorn, not Node"). The context, and the one list of
 * what it lacks, are in helpers/engines.ts (strippedContext, MISSING_BUILT_INS).
 */
import * as esbuild from 'esbuild';
import * as path from 'path';
import * as ts from 'typescript';

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
