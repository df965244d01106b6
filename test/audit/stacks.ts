/** The stacks the deploy audit checks: every example environment and the README's program, synthesized. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Testing } from 'cdktf';
import { buildApp, WaymarkEnvironmentStack } from '../../examples/app';
import { ENVIRONMENTS } from '../../examples/environments';
import { STABLE_ASSET_HASHES_CONTEXT } from '../../lib/private/assets';
import { Stack } from './terraform';

const ROOT = join(__dirname, '..', '..');

export function exampleStacks(): Stack[] {
  return ENVIRONMENTS.map((e) => {
    const app = Testing.app({ context: { [STABLE_ASSET_HASHES_CONTEXT]: true } });
    buildApp(app, [e]);
    return new Stack(`waymark-${e.name}`, JSON.parse(Testing.synth(app.node.findChild(`waymark-${e.name}`) as WaymarkEnvironmentStack)));
  });
}

/** The README's "complete pipeline in a dozen lines", run as a user would (its own folder, `npx tsx main.ts`). */
export function readmeStack(): Stack {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const program = /```ts\n([\s\S]*?)```/.exec(readme.split('## A complete pipeline in a dozen lines')[1] ?? '')?.[1];
  if (!program) throw new Error('README.md has no program under "A complete pipeline in a dozen lines"');
  const dir = mkdtempSync(join(tmpdir(), 'waymark-audit-readme-'));
  try {
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    cpSync(join(ROOT, 'examples', 'schemas'), join(dir, 'schemas'), { recursive: true });
    writeFileSync(join(dir, 'main.ts'), program.replace("from 'waymark'", `from ${JSON.stringify(join(ROOT, 'lib', 'index'))}`));
    const out = join(dir, 'cdktf.out');
    execFileSync(process.execPath, ['--import', require.resolve('tsx'), 'main.ts'], { cwd: dir, env: { ...process.env, CDKTF_OUTDIR: out, CHECKPOINT_DISABLE: '1' }, stdio: 'pipe' });
    return new Stack('README', JSON.parse(readFileSync(join(out, 'stacks', 'analytics-prod', 'cdk.tf.json'), 'utf8')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
