/**
 * `npm start`: the whole pipeline on this machine. Builds the shipped bundles that are missing or out of date
 * (the local collector `waymark-local.js`, the tracker `sp.js`, the enrichment UDF `enrich.js`) with the same code
 * as `npm run build`, then runs `node build/waymark-local.js` and prints its one local URL.
 *
 *   npm start                           in-process enrichment on http://localhost:8080/
 *   npm start -- --pubsub               through the Pub/Sub emulator (started with gcloud, stopped on Ctrl-C)
 *   npm start -- --schemas ./my-schemas validate against your schemas too (Iglu layout: vendor/name/jsonschema/M-R-A)
 *   npm start -- --port 9090            another port (0: any free port)
 *
 * Every other flag goes to waymark-local.js (`npm start -- --help` lists them). Ctrl-C stops everything it
 * started. WAYMARK_BUILD_DIR moves the build folder (default build/).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { Bundle, PACKAGE_ROOT, writeBundle } from '../lib/private/bundler';
import * as runtime from '../lib/private/runtime-bundles';
import { USAGE as LOCAL_USAGE } from '../collector/local/options';

const USAGE = `usage: npm start -- [--schemas DIR]... [--pubsub] [--port N] [other waymark-local.js flags]

  --schemas DIR   a folder of your Iglu schemas (vendor/name/jsonschema/M-R-A), merged with the built-ins; the
                  enrichment UDF is rebuilt with them (repeatable)
  --pubsub        run the real chain through the Pub/Sub emulator (needs gcloud and its pubsub-emulator component)
  --port N        port of the local URL (default 8080; 0 picks a free one)`;

interface StartArgs {
  readonly schemas: string[];
  readonly forward: string[];
  readonly help: boolean;
}

function parseArgs(argv: readonly string[]): StartArgs {
  const schemas: string[] = [];
  const forward: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--schemas' || a.startsWith('--schemas=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v === undefined || v === '') fail(`--schemas needs a folder\n${USAGE}`);
      schemas.push(resolve(process.cwd(), v));
    } else {
      if (a === '--help' || a === '-h') help = true;
      else forward.push(a);
    }
  }
  return { schemas, forward, help };
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

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const buildDir = resolve(process.env.WAYMARK_BUILD_DIR ?? join(PACKAGE_ROOT, 'build'));
  if (args.help) {
    process.stdout.write(`${USAGE}\n\nOther flags go to ${LOCAL_USAGE.replace(/^usage: /, '')}\n`);
    process.exit(0);
  }
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const folder of args.schemas) {
    if (!existsSync(folder) || !statSync(folder).isDirectory()) fail(`--schemas ${show(folder)} is not a folder`);
  }
  process.stdout.write('Building the bundles (only what is missing or out of date):\n');
  const { defaultEnrichmentBundle } = await import('../lib/private/enrichment');
  try {
    ensure(runtime.localCollectorBundle(), buildDir);
    ensure(runtime.trackerBundle(), buildDir);
    ensure(defaultEnrichmentBundle(), buildDir);
    if (args.schemas.length > 0) {
      // The user's registry merged with the built-ins, compiled into its own UDF (build/ keeps the default one).
      const custom = defaultEnrichmentBundle({ schemaFolders: args.schemas });
      env.WAYMARK_LOCAL_UDF = ensure(custom, join(buildDir, 'local'), `enrich-${custom.hash}.js`);
      process.stdout.write(`  with your schemas from ${args.schemas.map(show).join(', ')}\n`);
    }
  } catch (e) {
    fail(`build failed: ${(e as Error).message}`, 1);
  }
  env.WAYMARK_LOCAL_SITE ??= join(PACKAGE_ROOT, 'examples', 'demo');
  env.WAYMARK_LOCAL_TRACKER ??= join(buildDir, 'sp.js');
  env.WAYMARK_LOCAL_UDF ??= join(buildDir, 'enrich.js');
  const child = spawn(process.execPath, [join(buildDir, 'waymark-local.js'), ...args.forward], { stdio: 'inherit', env });
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
