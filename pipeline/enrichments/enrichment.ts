/**
 * What an enrichment is: a named unit with its switch in the configuration (`enrichments.<setting>`), set up once
 * per enricher for the deployment's configuration, then run on every event that passed the protocol and schema
 * stages. It reads and writes the event's columns (`s.vals`, by index `C.<column>`); a problem with the event's data
 * is a failure message it appends (with `enrichment: <name>`); an exception it throws becomes one, and stops the
 * enrichments after it. The order they run in is the list in enrichments/index.ts.
 */
import type { FailureMessage } from '../badrow';
import type { ResolvedConfig } from '../config';
import type { EventState } from '../stages/event';

export type EnrichmentStep = (s: EventState, failures: FailureMessage[]) => void;

export interface Enrichment {
  /** Its name in `enrichment_failures` bad rows. */
  readonly name: string;
  /** Its switch in the configuration's `enrichments`; null for one that is always on. */
  readonly setting: keyof ResolvedConfig['enrichments'] | null;
  /** Its step for a configuration (with its caches), or null when the configuration leaves it nothing to do. */
  create(config: ResolvedConfig): EnrichmentStep | null;
}
