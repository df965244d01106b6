#!/usr/bin/env node
/**
 * `waymark schemas pull`: refreshes a deployment's schema lock from its Iglu registries (see resolver.ts). Every
 * requested schema is fetched again; new ones are added, ones no longer requested are dropped, and a registry that
 * now serves different content under a locked key fails the command (content drift).
 *
 *   npx waymark schemas pull [--config waymark-schemas.json]
 *   npx waymark schemas check [--config waymark-schemas.json]   resolve from the lock only (offline), as synth does
 */
import * as path from 'path';
import { readResolutionConfig, resolveSchemas } from './resolver';

const USAGE = `usage: waymark schemas pull  [--config FILE]   fetch every schema the config lists and refresh its lock folder
       waymark schemas check [--config FILE]   check that the lock folder is complete, without the network

FILE is a schema resolution config (default waymark-schemas.json in the working directory):
  {
    "resolver": "iglu_resolver.json",          Snowplow's resolver config (a path, or its content); default Iglu Central
    "schemas": ["iglu:com.acme/checkout/jsonschema/1-0-0", "com.acme/cart"],
    "lockFolder": "schemas.lock"                 default: schemas.lock beside the config
  }`;

export function main(argv: readonly string[], out: (s: string) => void = (s) => process.stdout.write(s), err: (s: string) => void = (s) => process.stderr.write(s)): number {
  const [group, command, ...rest] = argv;
  if (group === '--help' || group === '-h' || group === undefined) {
    out(USAGE + '\n');
    return group === undefined ? 2 : 0;
  }
  if (group !== 'schemas' || (command !== 'pull' && command !== 'check')) {
    err(`waymark: unknown command ${JSON.stringify([group, command].filter((x) => x !== undefined).join(' '))}\n${USAGE}\n`);
    return 2;
  }
  let config = 'waymark-schemas.json';
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === '--config' || a.startsWith('--config=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : rest[++i];
      if (v === undefined || v === '') {
        err(`waymark: --config needs a file\n${USAGE}\n`);
        return 2;
      }
      config = v;
    } else {
      err(`waymark: unknown option ${a}\n${USAGE}\n`);
      return 2;
    }
  }
  try {
    const read = readResolutionConfig(path.resolve(config));
    const r = command === 'pull'
      ? resolveSchemas(read.config, 'pull', { baseDir: read.baseDir })
      : resolveSchemas(read.config, 'synth', { baseDir: read.baseDir, offline: true });
    const count = Object.keys(r.lock.schemas).length;
    out(`${command === 'pull' ? 'Pulled' : 'Checked'} ${count} schema${count === 1 ? '' : 's'} into ${r.lockFolder}` +
      (command === 'pull' ? ` (${r.fetched.length} fetched)` : '') + (r.local.length > 0 ? `; ${r.local.length} from local folders` : '') + '\n');
    return 0;
  } catch (e) {
    err(`waymark schemas ${command}: ${(e as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));

/**
 * For `npm start -- --resolver FILE`: takes `--resolver FILE` (a schema resolution config) out of `argv` and resolves
 * it as synth does (the lock first; the network only for what the lock lacks). Returns the schema folders to add and
 * the remaining arguments; exits with the reason when the schemas cannot be resolved.
 */
export function resolveStartArgs(argv: readonly string[]): { folders: string[]; argv: string[] } {
  const rest: string[] = [];
  const folders: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a !== '--resolver' && !a.startsWith('--resolver=')) {
      rest.push(a);
      continue;
    }
    const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
    try {
      if (v === undefined || v === '') throw new Error('--resolver needs a schema resolution config file (see `waymark schemas --help`)');
      const read = readResolutionConfig(path.resolve(v));
      const r = resolveSchemas(read.config, 'synth', { baseDir: read.baseDir, offline: /^(1|true|yes)$/i.test(process.env.WAYMARK_OFFLINE ?? '') });
      for (const f of r.folders) if (!folders.includes(f)) folders.push(f);
    } catch (e) {
      process.stderr.write(`npm start: --resolver: ${(e as Error).message}\n`);
      process.exit(2);
    }
  }
  return { folders, argv: rest };
}
