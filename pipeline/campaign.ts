/**
 * Campaign attribution from the page URL's query: utm_* parameters and ad networks' click ids.
 */
import { queryParam } from './url';

export interface Campaign {
  readonly medium: string | null;
  readonly source: string | null;
  readonly term: string | null;
  readonly content: string | null;
  readonly campaign: string | null;
  readonly clickId: string | null;
  readonly network: string | null;
}

/** Click-id query parameter → the network it belongs to. */
export const BUILT_IN_CLICK_IDS: { readonly [param: string]: string } = {
  gclid: 'Google',
  gbraid: 'Google',
  wbraid: 'Google',
  dclid: 'DoubleClick',
  msclkid: 'Microsoft',
  fbclid: 'Facebook',
  ttclid: 'TikTok',
  li_fat_id: 'LinkedIn',
  twclid: 'Twitter',
  epik: 'Pinterest',
  ScCid: 'Snapchat',
  yclid: 'Yandex',
  rdt_cid: 'Reddit',
  irclickid: 'Impact',
};

/** Names of the utm parameters, configurable per deployment (some sites use their own). */
export interface CampaignFields {
  readonly medium: readonly string[];
  readonly source: readonly string[];
  readonly term: readonly string[];
  readonly content: readonly string[];
  readonly campaign: readonly string[];
}

export const DEFAULT_CAMPAIGN_FIELDS: CampaignFields = {
  medium: ['utm_medium'],
  source: ['utm_source'],
  term: ['utm_term'],
  content: ['utm_content'],
  campaign: ['utm_campaign'],
};

function first(pairs: Array<[string, string]>, names: readonly string[]): string | null {
  for (let i = 0; i < names.length; i++) {
    const v = queryParam(pairs, names[i]);
    if (v !== null && v !== '') return v;
  }
  return null;
}

/** Attribution from the decoded page URL query pairs; the first click id in URL order wins. */
export function attributeCampaign(
  pairs: Array<[string, string]>,
  fields: CampaignFields,
  clickIds: { readonly [param: string]: string },
): Campaign {
  let clickId: string | null = null;
  let network: string | null = null;
  for (let i = 0; i < pairs.length; i++) {
    const name = pairs[i][0];
    if (Object.prototype.hasOwnProperty.call(clickIds, name) && pairs[i][1] !== '') {
      clickId = pairs[i][1];
      network = clickIds[name];
      break;
    }
  }
  return {
    medium: first(pairs, fields.medium),
    source: first(pairs, fields.source),
    term: first(pairs, fields.term),
    content: first(pairs, fields.content),
    campaign: first(pairs, fields.campaign),
    clickId: clickId,
    network: network,
  };
}
