/** user_agent_parser: the user agent → browser, OS and device columns (br_*, os_*, dvce_type, dvce_ismobile). */
import { createTextCache } from '../cache';
import { parseUserAgent, UserAgentInfo } from '../useragent';
import { C, EventState, NEEDS_ESCAPE } from '../stages/event';
import { Enrichment } from './enrichment';

export const userAgentParser: Enrichment = {
  name: 'user_agent_parser',
  setting: 'userAgentParser',
  create: function () {
    /** User agents parsed, and whether their text has nothing JSON escapes, cached by UA text. */
    const uaCache = createTextCache<{ readonly info: UserAgentInfo; readonly clean: boolean }>(2000);
    return function (s: EventState): void {
      const r = s.vals;
      const ua = r[C.useragent];
      if (typeof ua !== 'string') return;
      let parsedUa = uaCache.get(ua);
      if (parsedUa === undefined) {
        parsedUa = { info: parseUserAgent(ua), clean: !NEEDS_ESCAPE.test(ua) };
        uaCache.set(ua, parsedUa);
      }
      if (parsedUa.clean) s.cleanUa = ua;
      const info: UserAgentInfo = parsedUa.info;
      r[C.br_name] = info.br_name;
      r[C.br_family] = info.br_family;
      r[C.br_version] = info.br_version;
      r[C.br_type] = info.br_type;
      r[C.br_renderengine] = info.br_renderengine;
      r[C.os_name] = info.os_name;
      r[C.os_family] = info.os_family;
      r[C.os_manufacturer] = info.os_manufacturer;
      r[C.dvce_type] = info.dvce_type;
      r[C.dvce_ismobile] = info.dvce_ismobile;
    };
  },
};
