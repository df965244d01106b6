/**
 * Enrichers for source-level tests, built the way the UDF is: validators compiled by the registry helper's compiler
 * from the built-in schemas (plus optional extra folders), the configuration with its warehouse shapes.
 */
import { ATOMIC_COLUMN_NAMES } from '../../../pipeline/columns';
import { EnrichmentConfig } from '../../../pipeline/config';
import { createEnricher, Enricher } from '../../../pipeline/enrich';
import { loadRegistry } from '../../../pipeline/registry/load';
import { buildUdfConfig } from '../../../pipeline/udf-config';
import { compileValidators } from '../../../pipeline/validation/compile';
import type { ValidatorSet } from '../../../pipeline/validation/types';

let builtIn: { validators: ValidatorSet; schemas: ReturnType<typeof loadRegistry>['schemas'] } | null = null;

export function builtInRegistry(): { validators: ValidatorSet; schemas: ReturnType<typeof loadRegistry>['schemas'] } {
  if (!builtIn) {
    const registry = loadRegistry([]);
    builtIn = { validators: compileValidators(registry.schemas), schemas: registry.schemas };
  }
  return builtIn;
}

/** An enricher over the built-in registry with a fixed clock. */
export function testEnricher(now: number, config?: EnrichmentConfig): Enricher {
  const { validators, schemas } = builtInRegistry();
  return createEnricher({ validators, config: buildUdfConfig(config, schemas), clock: () => now });
}

const SELF_DESCRIBING_COLUMN = /^(unstruct_event|contexts)_[a-z0-9_]+_[0-9]+$/;

/** Asserts that every key of a row is a table column (an atomic one or a self-describing one). */
export function expectOnlyColumns(row: Record<string, unknown>): void {
  const unknown = Object.keys(row).filter((k) => ATOMIC_COLUMN_NAMES.indexOf(k) < 0 && !SELF_DESCRIBING_COLUMN.test(k));
  expect(unknown).toEqual([]);
}

/** Field-by-field comparison: the same set of columns, then each column's value (failures name the column). */
export function expectRow(actual: Record<string, unknown>, expected: Record<string, unknown>): void {
  expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
  for (const column of Object.keys(expected)) {
    expect({ [column]: actual[column] }).toEqual({ [column]: expected[column] });
  }
}
