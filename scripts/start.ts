/**
 * `npm start`: the whole pipeline on this machine. Builds the shipped bundles that are missing or out of date
 * (the local collector `waymark-local.js`, the tracker `sp.js`, the enrichment UDF) with the same code as
 * `npm run build`, then runs `node build/waymark-local.js` and prints its one local URL.
 *
 * The demo site sends events of the example schemas in examples/schemas (io.waymark.example/*), which are not
 * built-ins (a deployment has them only if it lists the folder in `schemaFolders`). So by default the UDF is built
 * for the built-ins plus examples/schemas plus any `--schemas` folders, as `build/local/enrich-<hash>.js`;
 * `--no-example-schemas` leaves the examples out (with no --schemas either, the UDF is `build/enrich.js`, the very
 * file `npm run build` makes for a deployment without schema folders).
 *
 *   npm start                           in-process enrichment on http://localhost:8080/
 *   npm start -- --pubsub               through the Pub/Sub emulator (started with gcloud, stopped on Ctrl-C)
 *   npm start -- --pubsub --push        … enriched by the serverless enricher service through a push subscription
 *   npm start -- --schemas ./my-schemas validate against your schemas too (Iglu layout: vendor/name/jsonschema/M-R-A)
 *   npm start -- --port 9090            another port (0: any free port)
 *
 * Every other flag goes to waymark-local.js (`npm start -- --help` lists them). Ctrl-C stops everything it
 * started. WAYMARK_BUILD_DIR moves the build folder (default build/).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, relative, resolve } from 'node:path';
import { Bundle, PACKAGE_ROOT, writeBundle } from '../lib/private/bundler';
import * as runtime from '../lib/private/runtime-bundles';
import { LocalOptions, resolveOptions, USAGE as LOCAL_USAGE, UsageError } from '../collector/local/options';
import { resolveStartArgs } from '../pipeline/registry/cli';

/** The demo site's schemas (io.waymark.example/*): a schema folder like a user's, included by default. */
const EXAMPLE_SCHEMAS = join(PACKAGE_ROOT, 'examples', 'schemas');

const USAGE = `usage: npm start -- [--schemas DIR]... [--no-example-schemas] [--pubsub] [--port N] [other waymark-local.js flags]

  --schemas DIR          a folder of your Iglu schemas (vendor/name/jsonschema/M-R-A), merged with the built-ins and
                         examples/schemas; the enrichment UDF is built with them (repeatable)
  --no-example-schemas   leave out examples/schemas, the schemas of the demo site's events (io.waymark.example/*),
                         which are included by default: validate as a deployment with only your --schemas would
  --pubsub               run the real chain through the Pub/Sub emulator (needs gcloud and its pubsub-emulator component)
  --push                 with --pubsub: enrich with the serverless enricher service (enricher.js, built for the same
                         schemas) through an emulator push subscription, the enriched and bad topics, as a deployment
                         with Enrichment.serverless does
  --port N               port of the local URL (default 8080; 0 picks a free one)
  --resolver FILE        resolve schemas from Iglu registries (a waymark-schemas.json, see \`waymark schemas --help\`)`;

interface StartArgs {
  /** The user's --schemas folders, absolute, in order. */
  readonly schemas: string[];
  readonly examples: boolean;
  readonly forward: string[];
  readonly help: boolean;
}

function parseArgs(argv: readonly string[]): StartArgs {
  const schemas: string[] = [];
  const forward: string[] = [];
  let help = false;
  let examples = true;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--schemas' || a.startsWith('--schemas=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v === undefined || v === '') fail(`--schemas needs a folder\n${USAGE}`);
      schemas.push(resolve(process.cwd(), v));
    } else if (a === '--no-example-schemas') {
      examples = false;
    } else {
      if (a === '--help' || a === '-h') help = true;
      else forward.push(a);
    }
  }
  return { schemas, examples, forward, help };
}

/**
 * Flags npm keeps for itself when they come before `--` (`npm start --port 8082`): npm sets `npm_config_<name>` for
 * each (`true` for a flag without `=`, whose value then reaches the script as a bare argument; empty for `--no-…`).
 * Value flags first, in the order of the usage text.
 */
const NPM_SWALLOWED: ReadonlyArray<{ readonly env: string; readonly flag: string; readonly value: boolean }> = [
  { env: 'npm_config_port', flag: '--port', value: true },
  { env: 'npm_config_host', flag: '--host', value: true },
  { env: 'npm_config_schemas', flag: '--schemas', value: true },
  { env: 'npm_config_udf', flag: '--udf', value: true },
  { env: 'npm_config_tracker', flag: '--tracker', value: true },
  { env: 'npm_config_site', flag: '--site', value: true },
  { env: 'npm_config_data_dir', flag: '--data-dir', value: true },
  { env: 'npm_config_pubsub', flag: '--pubsub', value: false },
  { env: 'npm_config_push', flag: '--push', value: false },
  { env: 'npm_config_example_schemas', flag: '--no-example-schemas', value: false },
];

/** The command the user probably meant when npm took flags given before `--`, or null when npm took none. */
function npmHint(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): string | null {
  if (env.npm_lifecycle_event !== 'start') return null;
  const bare = argv.filter((a) => !a.startsWith('-'));
  const rest = argv.filter((a) => a.startsWith('-'));
  const meant: string[] = [];
  let taken = false;
  for (const s of NPM_SWALLOWED) {
    const v = env[s.env];
    if (v === undefined) continue;
    if (s.flag === '--no-example-schemas') {
      if (v !== '' && v !== 'false') continue;
      meant.push(s.flag);
    } else if (!s.value) {
      meant.push(s.flag);
    } else {
      meant.push(s.flag, v === 'true' ? (bare.shift() ?? '<value>') : v);
    }
    taken = true;
  }
  if (!taken) return null;
  const quote = (a: string): string => (/^[\w./:=@,+-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`);
  return `npm keeps flags that come before "--" for itself (${meant.filter((m) => m.startsWith('--')).join(', ')}): run npm start -- ${[...meant, ...rest, ...bare].map(quote).join(' ')}`;
}

/** The schema folders of the UDF besides the built-ins: examples/schemas (unless left out), then the user's, once each. */
function schemaFolders(args: StartArgs): string[] {
  const folders: string[] = [];
  for (const f of [...(args.examples ? [EXAMPLE_SCHEMAS] : []), ...args.schemas]) if (!folders.includes(f)) folders.push(f);
  return folders;
}

function fail(message: string, code = 2): never {
  process.stderr.write(`npm start: ${message}\n`);
  process.exit(code);
}

const show = (file: string): string => {
  const r = relative(process.cwd(), file);
  return r.startsWith('..') || isAbsolute(r) ? file : r;
};

/** Writes a bundle unless the file already has exactly these bytes; says which. */
function ensure(b: Bundle, folder: string, name = b.fileName): string {
  const file = join(folder, name);
  const existed = existsSync(file);
  const same = existed && statSync(file).size === b.contents.length && readFileSync(file).equals(b.contents);
  if (!same) writeBundle(b, folder, name);
  process.stdout.write(`  ${show(file).padEnd(34)} ${same ? 'up to date' : existed ? 'rebuilt (sources changed)' : 'built'} (${(b.contents.length / 1024).toFixed(0)} KB)\n`);
  return file;
}

/**
 * Every argument is checked before anything is built: npm start's own, then the ones for waymark-local.js (with
 * the same code that reads them there), and the flags npm took for itself.
 */
function checkArgs(argv: readonly string[], args: StartArgs, buildDir: string): LocalOptions {
  const hint = npmHint(argv, process.env);
  let options: LocalOptions | undefined;
  try {
    options = resolveOptions({ argv: args.forward, env: process.env, cwd: process.cwd(), scriptDir: buildDir, exists: existsSync });
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    const first = e.message.split('\n')[0];
    const bare = /^unknown argument "([^-][^"]*)"$/.exec(first);
    const why = hint ?? (bare ? `flags go after "--": npm start -- ${args.forward.join(' ')} (a bare value such as ${JSON.stringify(bare[1])} belongs to a flag)` : null);
    fail(`${first}${why ? `\n${why}` : ''}\n${USAGE}`);
  }
  if (hint !== null) fail(hint);
  for (const folder of args.schemas) {
    if (!existsSync(folder) || !statSync(folder).isDirectory()) fail(`--schemas ${show(folder)} is not a folder`);
  }
  return options!;
}

async function main(): Promise<void> {
  const resolved = resolveStartArgs(process.argv.slice(2));
  const argv = resolved.argv;
  const args = parseArgs(argv);
  const buildDir = resolve(process.env.WAYMARK_BUILD_DIR ?? join(PACKAGE_ROOT, 'build'));
  if (args.help) {
    process.stdout.write(`${USAGE}\n\nOther flags go to ${LOCAL_USAGE.replace(/^usage: /, '')}\n`);
    process.exit(0);
  }
  const local = checkArgs(argv, args, buildDir);
  const env: NodeJS.ProcessEnv = { ...process.env };
  const folders = [...schemaFolders(args), ...resolved.folders.filter((f) => !schemaFolders(args).includes(f))];
  // A UDF given with WAYMARK_LOCAL_UDF is used as it is, unless --schemas asks for a registry.
  const ownUdf = args.schemas.length === 0 && resolved.folders.length === 0 && (process.env.WAYMARK_LOCAL_UDF ?? '').trim() !== '';
  process.stdout.write('Building the bundles (only what is missing or out of date):\n');
  const { defaultEnrichmentBundle } = await import('../lib/private/enrichment');
  /** Builds the UDF for the schema folders as they are on disk now; returns its path (or the user's own UDF). */
  const buildUdf = (): string => {
    if (ownUdf) return resolve(process.env.WAYMARK_LOCAL_UDF!.trim());
    if (folders.length === 0) return ensure(defaultEnrichmentBundle(), buildDir);
    // The registry of these folders merged with the built-ins, compiled into its own UDF (build/enrich.js stays
    // the default one, without schema folders, as `npm run build` makes it).
    const custom = defaultEnrichmentBundle({ schemaFolders: folders });
    return ensure(custom, join(buildDir, 'local'), `enrich-${custom.hash}.js`);
  };
  try {
    ensure(runtime.localCollectorBundle(), buildDir);
    ensure(runtime.trackerBundle(), buildDir);
    env.WAYMARK_LOCAL_UDF = buildUdf();
    // --pubsub --push: the enricher service bundle, for the same schema folders as the UDF (an --enricher or
    // WAYMARK_LOCAL_ENRICHER of the user's own is used as it is).
    if (local.push && !args.forward.some((a) => a === '--enricher' || a.startsWith('--enricher=')) && (process.env.WAYMARK_LOCAL_ENRICHER ?? '').trim() === '') {
      const { loadRegistry } = await import('../pipeline/registry/load');
      const { enricherServiceForRegistry } = await import('../lib/private/enricher-service');
      const service = enricherServiceForRegistry('enrichment', loadRegistry(folders), undefined);
      env.WAYMARK_LOCAL_ENRICHER = folders.length === 0 ? ensure(service, buildDir) : ensure(service, join(buildDir, 'local'), `enricher-${service.hash}.js`);
    }
    if (ownUdf) process.stdout.write(`  enrichment UDF: ${process.env.WAYMARK_LOCAL_UDF} (WAYMARK_LOCAL_UDF)\n`);
    else if (folders.length === 0) process.stdout.write('  with the built-in schemas only (the demo site\'s example events will be schema violations)\n');
    else process.stdout.write(`  with the built-in schemas and ${folders.map(show).join(', ')}\n`);
  } catch (e) {
    fail(`build failed: ${(e as Error).message}`, 1);
  }
  env.WAYMARK_LOCAL_SITE ??= join(PACKAGE_ROOT, 'examples', 'demo');
  env.WAYMARK_LOCAL_TRACKER ??= join(buildDir, 'sp.js');
  // The registry the UDF was built for, served at /micro/iglu/ (the built-ins first).
  env.WAYMARK_LOCAL_SCHEMAS = [join(PACKAGE_ROOT, 'schemas'), ...folders].join(delimiter);
  // An IPC channel: the local server asks for a rebuilt UDF when the events page replays bad rows after a schema
  // was fixed (collector/local/replay.ts).
  const child = spawn(process.execPath, [join(buildDir, 'waymark-local.js'), ...args.forward], { stdio: ['inherit', 'inherit', 'inherit', 'ipc'], env });
  child.on('message', (m: { type?: unknown; id?: unknown }) => {
    if (m === null || typeof m !== 'object' || m.type !== 'waymark:rebuild-udf') return;
    let answer: Record<string, unknown>;
    try {
      process.stdout.write('Rebuilding the enrichment for a replay, with the schema folders as they are now:\n');
      answer = { type: 'waymark:udf', id: m.id, path: buildUdf() };
    } catch (e) {
      process.stdout.write(`  build failed: ${(e as Error).message}\n`);
      answer = { type: 'waymark:udf-error', id: m.id, message: (e as Error).message };
    }
    if (child.connected) child.send(answer);
  });
  // Ctrl-C reaches the child from the terminal too; forwarding covers `kill <pid>` of this process. The child
  // stops everything it started (collector, enricher, emulator) and exits; this process then exits with its code.
  const forward = (signal: NodeJS.Signals): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  process.on('SIGINT', () => forward('SIGINT'));
  process.on('SIGTERM', () => forward('SIGTERM'));
  process.on('SIGHUP', () => forward('SIGTERM'));
  child.on('error', (e) => fail(`cannot run ${show(join(buildDir, 'waymark-local.js'))}: ${e.message}`, 1));
  child.on('exit', (code, signal) => {
    process.exit(code ?? (signal === 'SIGINT' ? 130 : 1));
  });
}

main().catch((e: Error) => fail(e.message, 1));
