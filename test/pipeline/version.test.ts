import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENRICH_ARTIFACT, ENRICH_VERSION, V_ETL } from '../../pipeline/version';

it('the enricher version is the package version', () => {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  expect(ENRICH_VERSION).toBe(pkg.version);
  expect(V_ETL).toBe(`${ENRICH_ARTIFACT}-${pkg.version}`);
});
