/**
 * The contract between the schema registry (which compiles validators at build time) and the enrichment
 * (which calls them). Engine-neutral: plain data and functions only, so it runs in Node, Nashorn and Rhino.
 */

/** One reason a JSON instance failed a schema. */
export interface ValidationError {
  /** JSON path of the failing value inside the validated data, e.g. `$.items[2].id`. */
  readonly path: string;
  /** The JSON Schema keyword that failed, e.g. `required`, `maxLength`, `type`. */
  readonly keyword: string;
  /** A human-readable explanation naming the expectation and the value found. */
  readonly message: string;
}

/**
 * Validates one instance against one schema; returns an empty array when the instance is valid. Compiled validators
 * (pipeline/validation/compile.ts) report at most `maxErrors` errors (default 10), in a deterministic order that is
 * the same in every engine, and never recurse deeper than their schema, whatever the depth of the data.
 */
export type Validator = (data: unknown) => ValidationError[];

/**
 * Validators keyed by full Iglu schema key: `iglu:<vendor>/<name>/jsonschema/<M-R-A>`. Compiled sets have no
 * prototype, so looking up an unknown key (even `toString` or `__proto__`) gives undefined.
 */
export interface ValidatorSet {
  readonly [schemaKey: string]: Validator;
}
