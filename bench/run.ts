/**
 * `npm run bench`: runs every benchmark in this folder, one after another (they share two cores, so never in
 * parallel), and prints the JSON line each one ends with. Record results in docs/BENCHMARKS.md.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const only = process.argv.slice(2);
const benches = readdirSync(__dirname)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_'))
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
  .sort();

const results: unknown[] = [];
let failed = 0;
for (const file of benches) {
  process.stderr.write(`\n== bench/${file}\n`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, file)], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  process.stderr.write(run.stdout);
  const last = run.stdout.trim().split('\n').pop() ?? '';
  if (run.status !== 0) {
    failed++;
    process.stderr.write(`bench/${file} failed with exit code ${run.status}\n`);
    continue;
  }
  try {
    results.push(JSON.parse(last));
  } catch {
    failed++;
    process.stderr.write(`bench/${file} did not end with a JSON line\n`);
  }
}
process.stdout.write(JSON.stringify({ date: new Date().toISOString(), results }) + '\n');
process.exit(failed > 0 ? 1 : 0);
