/**
 * The enricher's release, recorded in `v_etl` and in bad rows. A constant rather than an import of package.json so
 * the UDF bundle carries only this string; test/pipeline/version.test.ts keeps it equal to package.json's version.
 */
export const ENRICH_VERSION = '0.1.0';

/** Artifact name in bad rows' `processor` block. */
export const ENRICH_ARTIFACT = 'waymark-enrich';

/** Value of `v_etl`, e.g. `waymark-enrich-0.1.0`. */
export const V_ETL = ENRICH_ARTIFACT + '-' + ENRICH_VERSION;
