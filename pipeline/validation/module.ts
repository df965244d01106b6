/**
 * Node-only build step: the `waymark:validators` virtual module for a deployment's schema folders (built-ins merged
 * with the user's). Used by the bundler (lib/private/bundler.ts) and local tools; never bundled into the UDF.
 */
import { loadRegistry, type LoadRegistryOptions } from '../registry/load';
import { compileValidatorsModule, type CompileOptions } from './compile';

/**
 * Loads the registry from `folders` (after the built-ins unless `builtins: false`) and compiles its validators into
 * the source of an ES module exporting `validators`. Throws the registry's or the compiler's Error, which names the
 * file or schema at fault.
 */
export function validatorsModuleSource(folders: readonly string[], options: LoadRegistryOptions & CompileOptions = {}): string {
  return compileValidatorsModule(loadRegistry(folders, options).schemas, options);
}
