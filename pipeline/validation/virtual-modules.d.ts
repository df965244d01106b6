/**
 * Modules the bundler generates at build time (see lib/private/bundler.ts). Source-level tests build the same
 * values in memory; the shipped UDF gets them inlined, so nothing is generated at run time inside Nashorn.
 */
declare module 'waymark:validators' {
  import type { ValidatorSet } from './types';
  /** One compiled validator per schema in the registry (built-ins merged with the user's folder). */
  export const validators: ValidatorSet;
}

declare module 'waymark:config' {
  /** The enrichment configuration of this deployment, as JSON data (its shape is owned by pipeline/). */
  const config: unknown;
  export default config;
}
