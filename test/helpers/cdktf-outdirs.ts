/**
 * cdktf's `Testing.app()` (and so `Testing.synthScope`) and `Testing.fullSynth` each make a `cdktf.outdir.*` folder
 * in the temp dir and never remove it: a run of the suite left hundreds. Every test file records the folders it
 * made through them and removes them when it ends (installed once per test file by test/setup-jest.ts). Only the
 * file's own folders are removed: other runs on the machine keep theirs.
 */
import { rmSync } from 'node:fs';
import { Testing } from 'cdktf';

export function removeCdktfOutdirsAfterAll(): void {
  const made: string[] = [];
  const app = Testing.app.bind(Testing);
  Testing.app = (options = {}) => {
    const created = app(options);
    if (!options.outdir) made.push(created.outdir);
    return created;
  };
  const fullSynth = Testing.fullSynth.bind(Testing);
  Testing.fullSynth = (stack) => {
    const outdir = fullSynth(stack);
    made.push(outdir);
    return outdir;
  };
  afterAll(() => {
    for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
}
