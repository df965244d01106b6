/**
 * Jest's node environment, plus the temp-folder guard: while a test file runs, every folder made with fs.mkdtemp*
 * directly in the temp dir under a `waymark-` name is recorded (this worker runs one file at a time, so the record
 * is the file's own, whatever other workers do in the same temp dir). When the file ends, after all its hooks:
 * the folders it made with tempDir() (test/helpers/temp-dirs.ts) are removed, and any other recorded folder that
 * still exists is removed too and fails the file, naming it. Folders that child processes make are not seen here.
 */
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, resolve } from 'node:path';
import NodeEnvironment from 'jest-environment-node';
import { OWNED_TEMP_DIRS } from './helpers/temp-dirs';

type Mkdtemp = typeof fs.mkdtempSync;

export default class WaymarkEnvironment extends NodeEnvironment {
  private readonly made = new Set<string>();
  private readonly owned = new Set<string>();
  private restore: Array<() => void> = [];

  async setup(): Promise<void> {
    await super.setup();
    this.global[OWNED_TEMP_DIRS as unknown as string] = this.owned;
    const record = (dir: unknown): void => {
      if (typeof dir === 'string' && resolve(dirname(dir)) === resolve(tmpdir()) && basename(dir).startsWith('waymark-')) this.made.add(dir);
    };
    const sync = fs.mkdtempSync;
    fs.mkdtempSync = ((...args: Parameters<Mkdtemp>) => {
      const dir = sync(...args);
      record(dir);
      return dir;
    }) as Mkdtemp;
    const promised = fs.promises.mkdtemp;
    fs.promises.mkdtemp = (async (...args: Parameters<typeof promised>) => {
      const dir = await promised(...args);
      record(dir);
      return dir;
    }) as typeof promised;
    const callback = fs.mkdtemp;
    fs.mkdtemp = ((prefix: string, ...rest: unknown[]) => {
      const cb = rest.pop() as (err: NodeJS.ErrnoException | null, dir: string) => void;
      (callback as (...a: unknown[]) => void)(prefix, ...rest, (err: NodeJS.ErrnoException | null, dir: string) => {
        if (!err) record(dir);
        cb(err, dir);
      });
    }) as typeof callback;
    this.restore = [() => (fs.mkdtempSync = sync), () => (fs.promises.mkdtemp = promised), () => (fs.mkdtemp = callback)];
  }

  // jest-circus calls it for each event; run_finish comes after the file's last afterAll hook.
  async handleTestEvent(event: { name: string }, state: { unhandledErrors: unknown[] }): Promise<void> {
    if (event.name !== 'run_finish') return;
    const left = this.sweep();
    if (left.length > 0) {
      const names = left.map((d) => basename(d)).join(', ');
      const error = new Error(`this test file left temp folders behind (removed now): ${names}; make them with tempDir() from test/helpers/temp-dirs.ts, or remove them in afterAll`);
      error.stack = error.message; // the stack would point into this file, not at the test that made them
      state.unhandledErrors.push(error);
    }
  }

  /** Removes the recorded folders that still exist; returns those not made with tempDir(). */
  private sweep(): string[] {
    const left: string[] = [];
    for (const dir of this.made) {
      if (!fs.existsSync(dir)) continue;
      if (!this.owned.has(dir)) left.push(dir);
      fs.rmSync(dir, { recursive: true, force: true });
    }
    this.made.clear();
    this.owned.clear();
    return left;
  }

  async teardown(): Promise<void> {
    for (const r of this.restore.splice(0)) r();
    this.sweep(); // a file that failed to load never reaches run_finish; its folders go all the same
    await super.teardown();
  }
}
