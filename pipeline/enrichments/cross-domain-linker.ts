/**
 * cross_domain_linker: the `_sp=<domain user id>.<epoch ms>` parameter the trackers' cross-domain linker adds to the
 * page URL → refr_domain_userid and refr_dvce_tstamp.
 */
import { formatTimestamp, parseEpochMillis } from '../time';
import { queryParam } from '../url';
import { C, EventState } from '../stages/event';
import { Enrichment } from './enrichment';

export const crossDomainLinker: Enrichment = {
  name: 'cross_domain_linker',
  setting: 'crossDomainLinker',
  create: function () {
    return function (s: EventState): void {
      if (s.pageQuery.length === 0) return;
      const sp = queryParam(s.pageQuery, '_sp');
      if (sp === null) return;
      const r = s.vals;
      const parts = sp.split('.');
      if (parts[0] !== '') r[C.refr_domain_userid] = parts[0];
      if (parts.length > 1) {
        const ms = parseEpochMillis(parts[1]);
        if (ms !== null) r[C.refr_dvce_tstamp] = formatTimestamp(ms);
      }
    };
  },
};
