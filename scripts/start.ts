/**
 * `npm start`: the main job on embedded defaults. Today it builds every runtime bundle and synthesizes the
 * example app; the local-pipeline work turns it into tracker → collector → enrichment on this machine.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..');
for (const script of ['scripts/build.ts', 'examples/app.ts']) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(root, script)], { cwd: root, stdio: 'inherit' });
  if (run.status !== 0) process.exit(run.status ?? 1);
}
process.stdout.write('\nBundles are in build/, the synthesized stacks in cdktf.out/stacks/.\n');
