#!/usr/bin/env node
/**
 * `waymark`: the package's one command (package.json `bin`). Each command lives with the code it drives:
 *   waymark schemas pull|check ...   the Iglu schema lock (pipeline/registry/cli.ts)
 *   waymark recover ...              re-validate and replay bad rows (lib/recover/cli.ts)
 */
import { main as schemas } from '../pipeline/registry/cli';
import { runRecover, USAGE as RECOVER_USAGE } from './recover/cli';

const USAGE = `usage: waymark <command>

commands:
  schemas pull|check   refresh or check the schema lock of a deployment (waymark schemas --help)
  recover              re-validate and replay bad rows (waymark recover --help)`;

export async function main(argv: readonly string[], out: (s: string) => void = (s) => process.stdout.write(s), err: (s: string) => void = (s) => process.stderr.write(s)): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'schemas') return rest.length === 0 || rest[0] === '--help' || rest[0] === '-h' ? schemas(['--help'], out, err) : schemas(argv, out, err);
  if (command === 'recover') {
    if (rest.includes('--help') || rest.includes('-h')) {
      out(`${RECOVER_USAGE}\n`);
      return 0;
    }
    return runRecover(rest, out, err);
  }
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    (command === undefined ? err : out)(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  err(`waymark: unknown command ${JSON.stringify(command)}\n${USAGE}\n`);
  return 2;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`waymark: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
