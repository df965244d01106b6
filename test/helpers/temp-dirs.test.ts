/**
 * The temp-folder guard of test/environment.ts, on fixture test files run by a nested jest with its own temp dir:
 * a folder made with plain mkdtemp and left behind fails its file (and is removed); tempDir() folders outlive the
 * file's afterAll hooks and are removed when it ends, also when a test failed.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tempDir } from './temp-dirs';

const ROOT = resolve(__dirname, '..', '..');

test('fails a file that leaves a waymark-* folder; removes tempDir() folders after afterAll, pass or fail', () => {
  const tmp = tempDir('guard-test');
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js'), '--ci', '--json', '-i', '--testMatch', '**/test/helpers/fixtures/temp-dirs/*.fixture.ts'], {
    cwd: ROOT,
    env: { ...process.env, TMPDIR: tmp },
    encoding: 'utf8',
  });
  const report = JSON.parse(r.stdout) as { testResults: { name: string; status: string; message: string }[] };
  const byFile = Object.fromEntries(report.testResults.map((t) => [t.name.replace(/^.*\//, ''), t]));
  expect(Object.keys(byFile).sort()).toEqual(['fails.fixture.ts', 'leaks.fixture.ts', 'owned.fixture.ts']);
  expect(byFile['leaks.fixture.ts'].status).toBe('failed');
  expect(byFile['leaks.fixture.ts'].message).toMatch(/this test file left temp folders behind \(removed now\): waymark-leak-\w{6}; make them with tempDir\(\)/);
  expect(byFile['owned.fixture.ts']).toMatchObject({ status: 'passed' });
  expect(byFile['fails.fixture.ts'].status).toBe('failed');
  expect(byFile['fails.fixture.ts'].message).toContain('planted failure');
  expect(byFile['fails.fixture.ts'].message).not.toContain('left temp folders behind');
  // What jest itself keeps there (its cache) stays; none of the fixtures' folders does.
  expect(readdirSync(tmp).filter((n) => n.startsWith('waymark-'))).toEqual([]);
}, 120000);
