/** ip_anonymisation: masks the last `ipAnonymisation.ipv4Octets` / `ipv6Segments` of user_ipaddress with `x`. */
import { ResolvedConfig } from '../config';
import { anonymiseIp } from '../ip';
import { C, EventState } from '../stages/event';
import { Enrichment } from './enrichment';

export const ipAnonymisation: Enrichment = {
  name: 'ip_anonymisation',
  setting: 'ipAnonymisation',
  create: function (config: ResolvedConfig) {
    const ipv4Octets = config.ipv4Octets;
    const ipv6Segments = config.ipv6Segments;
    return function (s: EventState): void {
      const ip = s.vals[C.user_ipaddress];
      if (typeof ip === 'string') s.vals[C.user_ipaddress] = anonymiseIp(ip, ipv4Octets, ipv6Segments);
    };
  },
};
