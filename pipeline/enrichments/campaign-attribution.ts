/**
 * campaign_attribution: the page URL's campaign parameters (`campaign.fields`, default utm_*) and click ids
 * (`campaign.clickIds`) → the mkt_* columns.
 */
import { attributeCampaign } from '../campaign';
import { ResolvedConfig } from '../config';
import { C, EventState } from '../stages/event';
import { Enrichment } from './enrichment';

export const campaignAttribution: Enrichment = {
  name: 'campaign_attribution',
  setting: 'campaignAttribution',
  create: function (config: ResolvedConfig) {
    const fields = config.campaignFields;
    const clickIds = config.clickIds;
    return function (s: EventState): void {
      const pageInfo = s.pageInfo;
      if (pageInfo === null || s.pageQuery.length === 0) return;
      // It depends on the page URL only: remembered with it.
      let c = pageInfo.campaign;
      if (c === null) {
        c = attributeCampaign(s.pageQuery, fields, clickIds);
        pageInfo.campaign = c;
      }
      const r = s.vals;
      if (c.medium !== null) r[C.mkt_medium] = c.medium;
      if (c.source !== null) r[C.mkt_source] = c.source;
      if (c.term !== null) r[C.mkt_term] = c.term;
      if (c.content !== null) r[C.mkt_content] = c.content;
      if (c.campaign !== null) r[C.mkt_campaign] = c.campaign;
      if (c.clickId !== null) r[C.mkt_clickid] = c.clickId;
      if (c.network !== null) r[C.mkt_network] = c.network;
    };
  },
};
