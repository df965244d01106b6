/**
 * The README's "complete pipeline in a dozen lines" is a program users copy: it must synthesize as printed,
 * with a schemas folder of their own next to it.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

function readmeProgram(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.split('## A complete pipeline in a dozen lines')[1];
  if (!section) throw new Error('README.md has no "A complete pipeline in a dozen lines" section');
  const code = /```ts\n([\s\S]*?)```/.exec(section);
  if (!code) throw new Error('README.md: no ts code block in "A complete pipeline in a dozen lines"');
  return code[1];
}

test('the README program synthesizes the whole pipeline with the user schemas next to it', () => {
  const program = readmeProgram();
  expect(program.split('\n').filter((l) => l.trim() && !l.startsWith('import')).length).toBeLessThanOrEqual(14);
  expect(program).toContain("from 'waymark'");
  const dir = mkdtempSync(join(tmpdir(), 'waymark-readme-'));
  try {
    // A user's project: the program, their schemas folder, the package's dependencies; `waymark` is this checkout.
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    cpSync(join(ROOT, 'examples', 'schemas'), join(dir, 'schemas'), { recursive: true });
    writeFileSync(join(dir, 'main.ts'), program.replace("from 'waymark'", `from ${JSON.stringify(join(ROOT, 'lib', 'index'))}`));
    const out = join(dir, 'cdktf.out');
    execFileSync(process.execPath, ['--import', require.resolve('tsx'), 'main.ts'], { cwd: dir, env: { ...process.env, CDKTF_OUTDIR: out }, stdio: 'pipe' });
    const file = join(out, 'stacks', 'analytics-prod', 'cdk.tf.json');
    expect(existsSync(file)).toBe(true);
    const tf = JSON.parse(readFileSync(file, 'utf8'));
    expect(Object.keys(tf.resource.google_cloud_run_v2_service)).toHaveLength(2);
    expect(Object.keys(tf.resource['google-beta_google_dataflow_flex_template_job'] ?? tf.resource.google_dataflow_flex_template_job)).toHaveLength(1);
    const events = (Object.values(tf.resource.google_bigquery_table) as { table_id: string; schema: string }[]).find((t) => t.table_id === 'events')!;
    expect((JSON.parse(events.schema) as { name: string }[]).map((c) => c.name)).toContain('unstruct_event_io_waymark_example_button_click_1');
    expect(Object.keys(tf.output ?? {}).join(' ')).toMatch(/collector_url/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
