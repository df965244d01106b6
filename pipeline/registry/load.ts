/**
 * Node-only adapter of the schema registry: reads folders in Iglu static layout from disk. Never bundled into the
 * UDF or the tracker (they get compiled validators and types instead).
 */
import * as fs from 'fs';
import * as path from 'path';
import { buildRegistry, type Registry, type SchemaFile, type SchemaFolder } from './registry';

/** Deepest folder level read below a schema folder (the layout has 3 folder levels); bounds symlink loops. */
const MAX_WALK_DEPTH = 6;

function findBuiltinSchemasDir(): string {
  // Source (pipeline/registry), compiled output (dist/pipeline/registry) or an installed package: walk up to the
  // package root that holds schemas/.
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && fs.existsSync(path.join(dir, 'schemas'))) {
      try {
        if ((JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'waymark') return path.join(dir, 'schemas');
      } catch {
        // not our package.json: keep walking
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return path.resolve(__dirname, '..', '..', 'schemas');
}

/** The built-in schemas shipped with Waymark: the repository's (or installed package's) `schemas/` folder. */
export const BUILTIN_SCHEMAS_DIR: string = findBuiltinSchemasDir();

/**
 * Reads every file below `folder` (hidden files and folders, `.name`, are skipped) as a {@link SchemaFolder}
 * whose paths are relative and `/`-separated. Throws when the folder does not exist.
 */
export function readSchemaFolder(folder: string): SchemaFolder {
  const root = path.resolve(folder);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(root);
  } catch {
    throw new Error('Schema folder ' + root + ' does not exist (expected a folder in Iglu static layout: <vendor>/<name>/jsonschema/<M-R-A>)');
  }
  if (!stat.isDirectory()) throw new Error('Schema folder ' + root + ' is not a folder');
  const files: SchemaFile[] = [];
  const walk = (dir: string, relative: string[]): void => {
    const entries = fs.readdirSync(dir).sort();
    for (const entry of entries) {
      if (entry.charAt(0) === '.') continue;
      const full = path.join(dir, entry);
      const rel = relative.concat([entry]);
      if (fs.statSync(full).isDirectory()) {
        // Too deep to be Iglu layout: report the folder itself as an entry that is not in layout.
        if (rel.length >= MAX_WALK_DEPTH) files.push({ path: rel.join('/'), text: '' });
        else walk(full, rel);
      } else {
        files.push({ path: rel.join('/'), text: fs.readFileSync(full, 'utf8') });
      }
    }
  };
  walk(root, []);
  return { name: root, files: files };
}

export interface LoadRegistryOptions {
  /**
   * Merge the built-in schemas ({@link BUILTIN_SCHEMAS_DIR}) in before the given folders.
   * @default true
   */
  readonly builtins?: boolean;
}

/**
 * Loads a registry from folders in Iglu static layout, built-ins first (unless `builtins: false`), then `folders` in
 * order. Throws an Error naming each file at fault (see `buildRegistry`).
 */
export function loadRegistry(folders: readonly string[], options: LoadRegistryOptions = {}): Registry {
  const resolved: string[] = [];
  const add = (folder: string): void => {
    const full = path.resolve(folder);
    if (resolved.indexOf(full) < 0) resolved.push(full);
  };
  if (options.builtins !== false) add(BUILTIN_SCHEMAS_DIR);
  for (const folder of folders) add(folder);
  return buildRegistry(resolved.map(readSchemaFolder));
}
