/**
 * Temp folders of a test file. `tempDir('name')` makes a fresh `<tmp>/waymark-name-XXXXXX` folder that is removed,
 * with all it holds, when the test file ends: after its own afterAll hooks (which stop the processes that write into
 * it), whether its tests passed or failed. The test environment (test/environment.ts) does the removing; it also
 * fails a test file that leaves behind a `waymark-*` folder it made with mkdtemp some other way. Outside jest (the
 * scripts under test/ run with tsx), the folder is removed when the process exits.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where the test environment looks for the folders it removes (the test file's global object). */
export const OWNED_TEMP_DIRS = Symbol.for('waymark.test.ownedTempDirs');

export function tempDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `waymark-${name}-`));
  // The environment's Set comes from another realm (instanceof Set would be false here).
  const owned = (globalThis as Record<symbol, { add(dir: string): unknown } | undefined>)[OWNED_TEMP_DIRS];
  if (owned) owned.add(dir);
  else process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
