/**
 * Terraform reads every string of a configuration, JSON ones included, as a template: `${...}` is an
 * interpolation and `%{...}` a directive, escaped as `$${` and `%%{`. A literal such as a shell's
 * `${NAME:-default}` in a container command therefore fails `terraform plan` ("Extra characters after
 * interpolation expression"). This test scans every string (keys too) of every synthesized example stack and
 * accepts only the interpolations cdktf itself writes: references to resources and data sources that exist in
 * the same stack, `var.`/`local.`/`each.`/`count.`/`path.`/`module.` references, and function calls over those.
 * Terraform (installed here, no providers needed) then parses every templated string, references stood in by
 * constants, so the scan's idea of a template is checked against Terraform's own.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Testing } from 'cdktf';
import { Construct } from 'constructs';
import { StorageBucketObject } from '@cdktf/provider-google/lib/storage-bucket-object';
import { buildApp, WaymarkEnvironmentStack } from '../../examples/app';
import { STABLE_ASSET_HASHES_CONTEXT } from '../../lib/private/assets';
import { synth } from '../helpers/synth';

export interface TemplateProblem {
  /** JSON path of the string, e.g. `resource.google_x.y.command[2]`. */
  readonly path: string;
  /** The offending template sequence. */
  readonly sequence: string;
}

/** The end (index after the closing brace) of the template sequence opening at `start` (`${` or `%{`), or -1. */
function closingBrace(text: string, start: number): number {
  let depth = 0;
  let quoted = false;
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i + 1;
  }
  return -1;
}

const TRAVERSAL = String.raw`(?:\.[A-Za-z_][A-Za-z0-9_-]*|\[[0-9]+\]|\["[^"]*"\]|\.\*|\[\*\])*`;
const REFERENCE = new RegExp(String.raw`^(data\.)?([a-z][a-z0-9_-]*)\.([A-Za-z_][A-Za-z0-9_-]*)${TRAVERSAL}$`);
const FUNCTION = /^([a-z][a-z0-9_]*)\((.*)\)$/s;

/** Whether `expression` (the text between `${` and `}`) is one cdktf writes for this stack. */
function isReference(expression: string, tf: any): boolean {
  const e = expression.trim();
  const call = FUNCTION.exec(e);
  if (call) {
    // Arguments: references, quoted strings, numbers or nested calls; split at top-level commas.
    const args: string[] = [];
    let depth = 0;
    let quoted = false;
    let from = 0;
    const inner = call[2];
    for (let i = 0; i < inner.length; i++) {
      const c = inner[i];
      if (quoted) {
        if (c === '\\') i++;
        else if (c === '"') quoted = false;
      } else if (c === '"') quoted = true;
      else if ('([{'.includes(c)) depth++;
      else if (')]}'.includes(c)) depth--;
      else if (c === ',' && depth === 0) {
        args.push(inner.slice(from, i));
        from = i + 1;
      }
    }
    if (inner.trim()) args.push(inner.slice(from));
    return args.every((a) => /^\s*("([^"\\]|\\.)*"|-?[0-9.]+|true|false|null)\s*$/.test(a) || isReference(a, tf));
  }
  const m = REFERENCE.exec(e);
  if (!m) return false;
  const [, data, head, name] = m;
  if (data) return tf.data?.[head]?.[name] !== undefined;
  if (['var', 'local', 'each', 'count', 'path', 'module', 'self'].includes(head)) return true;
  return tf.resource?.[head]?.[name] !== undefined;
}

/** Every template sequence in the strings of `tf` that is not an escape or a reference cdktf writes. */
export function literalTemplates(tf: any): TemplateProblem[] {
  return scan(tf).problems;
}

/**
 * Every string of `tf` holding `${` or `%{`, with the references cdktf wrote replaced by `${"ref"}`, so that
 * Terraform itself can parse them with no providers and no other resources.
 */
function templateStrings(tf: any): string[] {
  return scan(tf).strings;
}

function scan(tf: any): { problems: TemplateProblem[]; strings: string[] } {
  const problems: TemplateProblem[] = [];
  const strings: string[] = [];
  const scanString = (text: string, path: string): void => {
    let replaced = '';
    let from = 0;
    for (let i = 0; i < text.length - 1; i++) {
      const two = text.slice(i, i + 2);
      if (two !== '${' && two !== '%{') continue;
      // `$${` and `%%{` are escapes: a literal `${` / `%{`.
      if (i > 0 && text[i - 1] === two[0]) continue;
      const end = closingBrace(text, i);
      const sequence = end < 0 ? text.slice(i, i + 40) : text.slice(i, end);
      if (two === '%{' || end < 0 || !isReference(sequence.slice(2, -1), tf)) problems.push({ path, sequence });
      else {
        replaced += `${text.slice(from, i)}\${"ref"}`;
        from = end;
      }
      if (end > 0) i = end - 1;
    }
    if (/[$%]\{/.test(text)) strings.push(replaced + text.slice(from));
  };
  const walk = (value: unknown, path: string): void => {
    if (typeof value === 'string') scanString(value, path);
    else if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${path}[${i}]`));
    else if (value && typeof value === 'object') {
      for (const [key, v] of Object.entries(value)) {
        scanString(key, `${path}.${key} (key)`);
        walk(v, `${path}.${key}`);
      }
    }
  };
  walk(tf, '');
  return { problems, strings };
}

/** `terraform validate` on a providerless configuration holding `strings` as locals: whether Terraform parses them. */
function terraformValidates(strings: readonly string[]): { valid: boolean; errors: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'waymark-tf-'));
  try {
    const locals = Object.fromEntries(strings.map((text, i) => [`s${i}`, text]));
    writeFileSync(join(dir, 'main.tf.json'), JSON.stringify({ locals }));
    const run = spawnSync('terraform', ['validate', '-json', '-no-color'], { cwd: dir, encoding: 'utf8', env: { ...process.env, TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1' } });
    if (run.error) throw new Error(`terraform (1.4 or later) is needed for this test: install it from https://developer.hashicorp.com/terraform/install (${run.error.message})`);
    const result = JSON.parse(run.stdout) as { valid: boolean; diagnostics: Array<{ summary: string; detail?: string }> };
    return { valid: result.valid, errors: result.diagnostics.map((d) => `${d.summary}: ${d.detail ?? ''}`) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('no literal ${ or %{ in synthesized Terraform', () => {
  const app = Testing.app({ context: { [STABLE_ASSET_HASHES_CONTEXT]: true } });
  buildApp(app);
  const stacks = app.node.children.filter((c): c is WaymarkEnvironmentStack => c instanceof WaymarkEnvironmentStack);

  test('the example app has stacks to scan', () => {
    expect(stacks.length).toBeGreaterThanOrEqual(6);
  });

  test.each(stacks.map((s) => [s.node.id, s]))('%s: every interpolation is a reference cdktf wrote', (_id, stack) => {
    const tf = JSON.parse(Testing.synth(stack as WaymarkEnvironmentStack));
    expect(literalTemplates(tf)).toEqual([]);
  });

  test('Terraform itself parses every templated string of every stack (references stood in by constants)', () => {
    const strings = stacks.flatMap((stack) => templateStrings(JSON.parse(Testing.synth(stack))));
    // The container command, env files and startup scripts are among them.
    expect(strings.length).toBeGreaterThan(50);
    expect(terraformValidates(strings)).toEqual({ valid: true, errors: [] });
  });

  test("Terraform rejects the literal the scan exists for (the container command's old `${NAME:-default}`)", () => {
    const result = terraformValidates(['exec node "${WAYMARK_BUNDLE_FILE:-/tmp/waymark/collector.js}"']);
    expect(result.valid).toBe(false);
    expect(result.errors.join('\n')).toMatch(/Extra characters after interpolation expression/);
    expect(terraformValidates(['escaped $${WAYMARK_BUNDLE_FILE:-/tmp/x} and %%{x}'])).toEqual({ valid: true, errors: [] });
  });

  test('the scan catches a planted literal and accepts escapes and references', () => {
    const s = synth((scope: Construct) => {
      const a = new StorageBucketObject(scope, 'a', { bucket: 'b', name: 'a', content: 'exec node "${FILE:-/tmp/x.js}"' });
      new StorageBucketObject(scope, 'b', { bucket: a.bucket, name: '%{ if true }x%{ endif }', content: 'escaped $${FILE} and %%{x}; ${upper(google_storage_bucket_object.a.name)}' });
      new StorageBucketObject(scope, 'c', { bucket: 'b', name: 'c', content: '${google_storage_bucket_object.nope.name} ${FOO}' });
    });
    expect(literalTemplates(s.json)).toEqual([
      { path: '.resource.google_storage_bucket_object.a.content', sequence: '${FILE:-/tmp/x.js}' },
      { path: '.resource.google_storage_bucket_object.b.name', sequence: '%{ if true }' },
      { path: '.resource.google_storage_bucket_object.b.name', sequence: '%{ endif }' },
      { path: '.resource.google_storage_bucket_object.c.content', sequence: '${google_storage_bucket_object.nope.name}' },
      { path: '.resource.google_storage_bucket_object.c.content', sequence: '${FOO}' },
    ]);
  });
});
