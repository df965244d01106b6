/**
 * Package build step for `import { newTracker } from 'waymark/tracker'`, run after `tsc -p tsconfig.build.json`
 * (which writes the tracker's declarations to dist/tracker/*.d.ts). It writes
 *   dist/tracker/index.mjs    the ESM build of tracker/index.ts (the same bytes as the shipped `sp.esm.js`)
 *   dist/tracker/index.d.mts  its types: the declarations tsc wrote, re-exported
 * `.mjs`, not `.js`: the package is CommonJS (no "type": "module"), so Node would load a `.js` file as CommonJS.
 * The package's "exports" map `./tracker` to these two files (see TRACKER_EXPORT).
 *
 * Usage: tsx scripts/tracker-esm.ts [dist folder, default <package>/dist]
 */
import { join, resolve } from 'node:path';
import { PACKAGE_ROOT, writeFileAtomic } from '../lib/private/bundler';
import { trackerEsmBundle } from '../lib/private/runtime-bundles';

/** The entry of package.json "exports" for the ESM tracker. */
export const TRACKER_EXPORT = {
  types: './dist/tracker/index.d.mts',
  default: './dist/tracker/index.mjs',
} as const;

/** Writes the ESM tracker and its types into `dist` (the package's dist folder); returns the files written. */
export function writeTrackerEsm(dist: string): string[] {
  const mjs = join(dist, 'tracker', 'index.mjs');
  writeFileAtomic(mjs, trackerEsmBundle().contents);
  const types = join(dist, 'tracker', 'index.d.mts');
  writeFileAtomic(types, "export * from './index.js';\n");
  return [mjs, types];
}

if (require.main === module) {
  const dist = resolve(process.argv[2] || join(PACKAGE_ROOT, 'dist'));
  for (const f of writeTrackerEsm(dist)) process.stdout.write(`wrote ${f}\n`);
}
