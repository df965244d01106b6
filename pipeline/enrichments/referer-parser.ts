/**
 * referer_parser: classifies the referrer (search, social, email, internal, unknown) with its source and search
 * term, from the configured `refererSources` and the built-in ones, and `internalDomains`.
 */
import { ResolvedConfig } from '../config';
import { BUILT_IN_SOURCES, classifyReferer, indexSources } from '../referer';
import { C, EventState } from '../stages/event';
import { Enrichment } from './enrichment';

export const refererParser: Enrichment = {
  name: 'referer_parser',
  setting: 'refererParser',
  create: function (config: ResolvedConfig) {
    const index = indexSources(config.refererSources.concat(BUILT_IN_SOURCES));
    const internalDomains = config.internalDomains;
    return function (s: EventState): void {
      const refr = s.refr;
      if (refr === null || refr.parsed.url === undefined) return;
      const refrHost = refr.parsed.url.host;
      if (refrHost === null) return;
      // The classification depends on the referrer and the page host only: remembered with the referrer.
      const pageHost = s.page !== null ? s.page.host : null;
      let cls = refr.cls;
      if (cls === null || refr.clsPageHost !== pageHost) {
        cls = classifyReferer(index, refrHost, refr.pairs, pageHost, internalDomains);
        refr.cls = cls;
        refr.clsPageHost = pageHost;
      }
      const r = s.vals;
      r[C.refr_medium] = cls.medium;
      if (cls.source !== null) r[C.refr_source] = cls.source;
      if (cls.term !== null) r[C.refr_term] = cls.term;
    };
  },
};
