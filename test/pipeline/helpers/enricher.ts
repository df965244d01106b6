/**
 * Enrichers for source-level tests, built the way the UDF is: validators compiled by the registry helper's compiler
 * from the schemas, the configuration with its warehouse shapes.
 *
 * `builtInRegistry()` is what a deployment without schema folders gets (schemas/ only); `testRegistry()` adds the
 * example schemas of examples/schemas (io.waymark.example/*), which the corpus and most tests send, as a user's
 * folder would be added.
 */
import { ATOMIC_COLUMN_NAMES } from '../../../pipeline/columns';
import { EnrichmentConfig } from '../../../pipeline/config';
import { createEnricher, Enricher } from '../../../pipeline/enrich';
import { loadRegistry } from '../../../pipeline/registry/load';
import { buildUdfConfig } from '../../../pipeline/udf-config';
import { compileValidators } from '../../../pipeline/validation/compile';
import type { ValidatorSet } from '../../../pipeline/validation/types';
import { EXAMPLE_SCHEMAS_DIR } from '../../helpers/bundles';

export interface TestRegistry {
  readonly validators: ValidatorSet;
  readonly schemas: ReturnType<typeof loadRegistry>['schemas'];
}

let builtIn: TestRegistry | null = null;
let withExamples: TestRegistry | null = null;

function compile(folders: readonly string[]): TestRegistry {
  const registry = loadRegistry(folders);
  return { validators: compileValidators(registry.schemas), schemas: registry.schemas };
}

/** The built-in schemas only. */
export function builtInRegistry(): TestRegistry {
  if (!builtIn) builtIn = compile([]);
  return builtIn;
}

/** The built-in schemas plus examples/schemas. */
export function testRegistry(): TestRegistry {
  if (!withExamples) withExamples = compile([EXAMPLE_SCHEMAS_DIR]);
  return withExamples;
}

/** An enricher over the built-ins plus the example schemas ({@link testRegistry}) with a fixed clock. */
export function testEnricher(now: number, config?: EnrichmentConfig, registry: TestRegistry = testRegistry()): Enricher {
  const { validators, schemas } = registry;
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
