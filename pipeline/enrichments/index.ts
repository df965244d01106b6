/**
 * The enrichments and the order they run in: this list. Adding an enrichment is one file (see enrichment.ts) and one
 * line here (and its switch in config.ts when it has one).
 */
import type { FailureMessage } from '../badrow';
import type { ResolvedConfig } from '../config';
import { errorText, EventState, StageFailure } from '../stages/event';
import { campaignAttribution } from './campaign-attribution';
import { crossDomainLinker } from './cross-domain-linker';
import { Enrichment, EnrichmentStep } from './enrichment';
import { eventFingerprint } from './event-fingerprint';
import { ipAnonymisation } from './ip-anonymisation';
import { piiPseudonymisation } from './pii-pseudonymisation';
import { refererParser } from './referer-parser';
import { urlParser } from './url-parser';
import { userAgentParser } from './user-agent-parser';

export const ENRICHMENTS: readonly Enrichment[] = [
  urlParser,
  crossDomainLinker,
  campaignAttribution,
  refererParser,
  userAgentParser,
  ipAnonymisation,
  piiPseudonymisation, // after ip_anonymisation: a pseudonymised IP is the hash of the anonymised one
  eventFingerprint,
];

/** Runs the enrichments a configuration turns on, in order, on one event: the failures, or null. */
export type EnrichmentRunner = (s: EventState) => StageFailure | null;

/** Sets up the enrichments for a configuration (once per enricher). */
export function createEnrichmentRunner(config: ResolvedConfig): EnrichmentRunner {
  const names: string[] = [];
  const steps: EnrichmentStep[] = [];
  for (let i = 0; i < ENRICHMENTS.length; i++) {
    const e = ENRICHMENTS[i];
    if (e.setting !== null && !config.enrichments[e.setting]) continue;
    const step = e.create(config);
    if (step === null) continue;
    names.push(e.name);
    steps.push(step);
  }
  const n = steps.length;
  return function (s: EventState): StageFailure | null {
    const ef: FailureMessage[] = [];
    let i = 0;
    try {
      for (; i < n; i++) steps[i](s, ef);
    } catch (err) {
      // An exception stops the enrichments: the event is a bad row either way.
      ef.push({ enrichment: names[i], message: errorText(err) });
    }
    return ef.length > 0 ? { type: 'enrichment_failures', messages: ef } : null;
  };
}
