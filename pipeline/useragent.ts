/**
 * User-agent parsing into the br_*, os_* and dvce_* columns: a compact, ordered rule table written for Waymark
 * (small and fast; the field conventions follow Snowplow's legacy user-agent-utils enrichment so warehouse queries
 * carry over). Robots and crawlers get br_type "Robot"; HTTP libraries get "Tool".
 */

export interface UserAgentInfo {
  readonly br_name: string | null;
  readonly br_family: string | null;
  readonly br_version: string | null;
  readonly br_type: string | null;
  readonly br_renderengine: string | null;
  readonly os_name: string | null;
  readonly os_family: string | null;
  readonly os_manufacturer: string | null;
  readonly dvce_type: string | null;
  readonly dvce_ismobile: boolean | null;
  /** True for crawlers, spiders, monitors and headless browsers. */
  readonly is_bot: boolean;
}

interface BrowserRule {
  /** Pattern; capture group 1, when present, is the version. */
  readonly re: RegExp;
  readonly family: string;
  readonly type: string;
  readonly engine: string | null;
}

// Robots first: crawlers often include a browser token ("... Chrome/120 Safari/537.36 (compatible; Googlebot/2.1)").
const BOT_NAMED = /(googlebot|google-inspectiontool|googleother|adsbot-google|mediapartners-google|apis-google|feedfetcher-google|google-read-aloud|storebot-google|bingbot|bingpreview|adidxbot|msnbot|slurp|duckduckbot|baiduspider|yandex(?:bot|images|mobilebot|metrika|accessibilitybot)|applebot|petalbot|bytespider|gptbot|chatgpt-user|oai-searchbot|claudebot|claude-web|anthropic-ai|perplexitybot|ccbot|amazonbot|facebookexternalhit|facebookcatalog|meta-externalagent|twitterbot|linkedinbot|pinterestbot|slackbot|discordbot|telegrambot|whatsapp|skypeuripreview|ahrefsbot|semrushbot|mj12bot|dotbot|rogerbot|screaming frog seo spider|sogou web spider|exabot|seznambot|qwantify|ia_archiver|archive\.org_bot|uptimerobot|pingdom|statuscake|site24x7|newrelicpinger|datadog agent|lighthouse|chrome-lighthouse|pagespeed|gtmetrix|headlesschrome|phantomjs|prerender|rendertron)(?:[/ ]v?([\d.]+))?/i;
const BOT_GENERIC = /(?:^|[^a-z])(?:bot|crawler|spider|scraper|crawl)(?:[^a-z]|$)|[a-z](?:bot|crawler|spider)(?:[/ ;)]|$)/i;

const BOT_NAMES: { [lower: string]: string } = {
  googlebot: 'Googlebot', bingbot: 'Bingbot', slurp: 'Yahoo! Slurp', duckduckbot: 'DuckDuckBot', baiduspider: 'Baiduspider',
  yandexbot: 'YandexBot', applebot: 'Applebot', gptbot: 'GPTBot', claudebot: 'ClaudeBot', headlesschrome: 'HeadlessChrome',
  facebookexternalhit: 'facebookexternalhit', ahrefsbot: 'AhrefsBot', semrushbot: 'SemrushBot', petalbot: 'PetalBot',
  bytespider: 'Bytespider', twitterbot: 'Twitterbot', linkedinbot: 'LinkedInBot', slackbot: 'Slackbot', ccbot: 'CCBot',
  amazonbot: 'Amazonbot', perplexitybot: 'PerplexityBot', lighthouse: 'Lighthouse', 'chrome-lighthouse': 'Lighthouse',
  uptimerobot: 'UptimeRobot', pingdom: 'Pingdom',
};

const TOOLS = /^(curl|wget|python-requests|python-urllib|python-httpx|aiohttp|go-http-client|okhttp|apache-httpclient|java|axios|node-fetch|undici|node|got|postmanruntime|insomnia|libwww-perl|ruby|dart|guzzlehttp|restsharp|httpie|powershell)\b[/ ]?v?([\d.]*)/i;

const BROWSERS: readonly BrowserRule[] = [
  { re: /FBAN\/|FBAV\/([\d.]+)/, family: 'Facebook', type: 'Application', engine: null },
  { re: /Instagram ([\d.]+)/, family: 'Instagram', type: 'Application', engine: null },
  { re: /\bLine\/([\d.]+)/, family: 'LINE', type: 'Application', engine: null },
  { re: /Snapchat\/?([\d.]+)?/, family: 'Snapchat', type: 'Application', engine: null },
  { re: /musical_ly|BytedanceWebview|TikTok ([\d.]+)?/, family: 'TikTok', type: 'Application', engine: null },
  { re: /GoogleImageProxy/, family: 'Gmail Image Proxy', type: 'Email Client', engine: null },
  { re: /Thunderbird\/([\d.]+)/, family: 'Thunderbird', type: 'Email Client', engine: 'GECKO' },
  { re: /Microsoft Outlook(?: |\/)([\d.]+)?|ms-office|MSOffice/, family: 'Outlook', type: 'Email Client', engine: null },
  { re: /Edge\/([\d.]+)/, family: 'Edge', type: 'Browser', engine: 'EDGE_HTML' },
  { re: /EdgiOS\/([\d.]+)/, family: 'Edge', type: 'Browser', engine: 'WEBKIT' },
  { re: /Edg(?:A)?\/([\d.]+)/, family: 'Edge', type: 'Browser', engine: 'BLINK' },
  { re: /OPiOS\/([\d.]+)/, family: 'Opera', type: 'Browser', engine: 'WEBKIT' },
  { re: /Opera Mini\/([\d.]+)/, family: 'Opera Mini', type: 'Browser', engine: 'PRESTO' },
  { re: /(?:OPR|OPX|Opera GX)\/([\d.]+)/, family: 'Opera', type: 'Browser', engine: 'BLINK' },
  { re: /Opera\/.*Version\/([\d.]+)|Opera[/ ]([\d.]+)/, family: 'Opera', type: 'Browser', engine: 'PRESTO' },
  { re: /SamsungBrowser\/([\d.]+)/, family: 'Samsung Internet', type: 'Browser', engine: 'BLINK' },
  { re: /UCBrowser\/([\d.]+)/, family: 'UC Browser', type: 'Browser', engine: 'WEBKIT' },
  { re: /YaBrowser\/([\d.]+)/, family: 'Yandex Browser', type: 'Browser', engine: 'BLINK' },
  { re: /Vivaldi\/([\d.]+)/, family: 'Vivaldi', type: 'Browser', engine: 'BLINK' },
  { re: /Silk\/([\d.]+)/, family: 'Silk', type: 'Browser', engine: 'BLINK' },
  { re: /DuckDuckGo\/([\d.]+)/, family: 'DuckDuckGo', type: 'Browser', engine: 'WEBKIT' },
  { re: /FxiOS\/([\d.]+)/, family: 'Firefox', type: 'Browser', engine: 'WEBKIT' },
  { re: /CriOS\/([\d.]+)/, family: 'Chrome', type: 'Browser', engine: 'WEBKIT' },
  { re: /; wv\).*Chrome\/([\d.]+)/, family: 'Android WebView', type: 'Application', engine: 'BLINK' },
  { re: /Chromium\/([\d.]+)/, family: 'Chromium', type: 'Browser', engine: 'BLINK' },
  { re: /Chrome\/([\d.]+)/, family: 'Chrome', type: 'Browser', engine: 'BLINK' },
  { re: /(?:Firefox|FxiOS|Focus)\/([\d.]+)/, family: 'Firefox', type: 'Browser', engine: 'GECKO' },
  { re: /MSIE ([\d.]+)/, family: 'Internet Explorer', type: 'Browser', engine: 'TRIDENT' },
  { re: /Trident\/.*rv:([\d.]+)/, family: 'Internet Explorer', type: 'Browser', engine: 'TRIDENT' },
  { re: /Version\/([\d.]+).*Safari\//, family: 'Safari', type: 'Browser', engine: 'WEBKIT' },
  { re: /(?:iPhone|iPad|iPod).*AppleWebKit\/[\d.]+.*Mobile\//, family: 'iOS WebView', type: 'Application', engine: 'WEBKIT' },
  { re: /AppleWebKit\/([\d.]+)/, family: 'WebKit', type: 'Browser', engine: 'WEBKIT' },
];

interface OsInfo {
  readonly name: string;
  readonly family: string;
  readonly manufacturer: string;
  readonly device: string;
}

const WINDOWS_NT: { [v: string]: string } = {
  '10.0': 'Windows 10', '6.4': 'Windows 10', '6.3': 'Windows 8.1', '6.2': 'Windows 8', '6.1': 'Windows 7', '6.0': 'Windows Vista',
  '5.2': 'Windows XP', '5.1': 'Windows XP', '5.0': 'Windows 2000',
};

const MICROSOFT = 'Microsoft Corporation';
const APPLE = 'Apple Inc.';
const GOOGLE = 'Google Inc.';
const COMPUTER = 'Computer';
const MOBILE = 'Mobile';
const TABLET = 'Tablet';
const CONSOLE = 'Game console';
const MEDIA = 'Digital media receiver';

function os(name: string, family: string, manufacturer: string, device: string): OsInfo {
  return { name: name, family: family, manufacturer: manufacturer, device: device };
}

function parseOs(ua: string): OsInfo | null {
  let m: RegExpExecArray | null;
  if ((m = /Windows Phone(?: OS)? ([\d]+)/.exec(ua))) return os('Windows Phone ' + m[1], 'Windows Phone', MICROSOFT, MOBILE);
  if (/Xbox/.test(ua)) return os('Xbox', 'Windows', MICROSOFT, CONSOLE);
  if ((m = /Windows NT ([\d.]+)/.exec(ua))) {
    const name = Object.prototype.hasOwnProperty.call(WINDOWS_NT, m[1]) ? WINDOWS_NT[m[1]] : 'Windows';
    return os(name, 'Windows', MICROSOFT, /Touch; .*Tablet PC|ARM;/.test(ua) ? TABLET : COMPUTER);
  }
  if (/Windows/.test(ua)) return os('Windows', 'Windows', MICROSOFT, COMPUTER);
  if ((m = /(iPad|iPhone|iPod)(?:.*? OS ([\d]+)[_.]([\d]+))?/.exec(ua))) {
    const v = m[2] ? ' ' + m[2] : '';
    if (m[1] === 'iPad') return os('iPadOS' + v, 'iOS', APPLE, TABLET);
    return os('iOS' + v, 'iOS', APPLE, MOBILE);
  }
  if (/AppleTV|tvOS/.test(ua)) return os('tvOS', 'iOS', APPLE, MEDIA);
  if (/Watch OS|watchOS/.test(ua)) return os('watchOS', 'iOS', APPLE, 'Wearable computer');
  if ((m = /Mac OS X ([\d]+)[_.]([\d]+)/.exec(ua))) {
    const major = +m[1];
    return os(major >= 11 || (major === 10 && +m[2] >= 12) ? 'macOS' : 'Mac OS X', 'Mac OS X', APPLE, COMPUTER);
  }
  if (/Macintosh|Mac OS X|Mac_PowerPC/.test(ua)) return os('Mac OS X', 'Mac OS X', APPLE, COMPUTER);
  if (/PlayStation|PLAYSTATION/.test(ua)) return os('PlayStation', 'PlayStation', 'Sony', CONSOLE);
  if (/Nintendo/.test(ua)) return os('Nintendo', 'Nintendo', 'Nintendo', CONSOLE);
  if (/KAIOS|KaiOS/.test(ua)) return os('KaiOS', 'KaiOS', 'KaiOS Technologies', MOBILE);
  if ((m = /Android(?: ([\d]+))?/.exec(ua))) {
    const name = m[1] ? 'Android ' + m[1] : 'Android';
    let device = /Mobile/.test(ua) ? MOBILE : TABLET;
    if (/SMART-TV|SmartTV|\bTV\b|AFT[A-Z]|BRAVIA|GoogleTV|Android TV/.test(ua)) device = MEDIA;
    return os(name, 'Android', GOOGLE, device);
  }
  if (/CrOS/.test(ua)) return os('Chrome OS', 'Chrome OS', GOOGLE, COMPUTER);
  if (/Web0S|webOS/.test(ua)) return os('webOS', 'Linux', 'LG', /TV/.test(ua) ? MEDIA : MOBILE);
  if (/Tizen/.test(ua)) return os('Tizen', 'Linux', 'Samsung', /TV/.test(ua) ? MEDIA : MOBILE);
  if (/CrKey|Roku|SMART-TV|SmartTV|HbbTV/.test(ua)) return os('Linux', 'Linux', 'Other', MEDIA);
  if (/Ubuntu/.test(ua)) return os('Ubuntu', 'Linux', 'Canonical Ltd.', COMPUTER);
  if (/Linux|X11|FreeBSD|OpenBSD/.test(ua)) return os('Linux', 'Linux', 'Other', COMPUTER);
  return null;
}

function majorOf(version: string | null): string | null {
  if (version === null || version === '') return null;
  const dot = version.indexOf('.');
  return dot === -1 ? version : version.substring(0, dot);
}

function info(
  family: string | null,
  version: string | null,
  type: string,
  engine: string | null,
  o: OsInfo | null,
  isBot: boolean,
): UserAgentInfo {
  const major = majorOf(version);
  const device = isBot ? 'Unknown' : o !== null ? o.device : type === 'Tool' ? 'Unknown' : 'Unknown';
  return {
    br_name: family === null ? null : major === null ? family : family + ' ' + major,
    br_family: family,
    br_version: version === '' ? null : version,
    br_type: type,
    br_renderengine: engine,
    os_name: o !== null ? o.name : 'Unknown',
    os_family: o !== null ? o.family : 'Unknown',
    os_manufacturer: o !== null ? o.manufacturer : 'Other',
    dvce_type: device,
    dvce_ismobile: device === MOBILE || device === TABLET || device === 'Wearable computer',
    is_bot: isBot,
  };
}

/** Parses a User-Agent header. Pure and deterministic (the enricher caches results by UA text). */
export function parseUserAgent(uaRaw: string): UserAgentInfo {
  const ua = uaRaw.length > 1000 ? uaRaw.substring(0, 1000) : uaRaw;
  let m: RegExpExecArray | null = BOT_NAMED.exec(ua);
  if (m) {
    const lower = m[1].toLowerCase();
    const family = Object.prototype.hasOwnProperty.call(BOT_NAMES, lower) ? BOT_NAMES[lower] : m[1];
    return info(family, m[2] || null, 'Robot', null, null, true);
  }
  m = TOOLS.exec(ua);
  if (m) return info(m[1], m[2] || null, 'Tool', null, null, false);
  if (BOT_GENERIC.test(ua)) {
    const name = /([A-Za-z][\w.-]*(?:bot|crawler|spider|Bot|Crawler|Spider))(?:\/([\d.]+))?/.exec(ua);
    return info(name ? name[1] : 'Robot', name && name[2] ? name[2] : null, 'Robot', null, null, true);
  }
  const o = parseOs(ua);
  for (let i = 0; i < BROWSERS.length; i++) {
    const rule = BROWSERS[i];
    const bm = rule.re.exec(ua);
    if (!bm) continue;
    const version = bm[1] || bm[2] || null;
    let type = rule.type;
    if (type === 'Browser' && o !== null && (o.device === MOBILE || o.device === TABLET)) type = 'Browser (mobile)';
    let family = rule.family;
    if (family === 'Safari' && o !== null && o.family === 'iOS') family = 'Mobile Safari';
    let engine = rule.engine;
    if (engine === null && o !== null && o.family === 'iOS') engine = 'WEBKIT';
    else if (engine === null && /Chrome\//.test(ua)) engine = 'BLINK';
    return info(family, version, type, engine, o, false);
  }
  if (/^Mozilla\//.test(ua) && o !== null) return info('Mozilla', null, 'Browser', null, o, false);
  return info(null, null, 'Unknown', null, o, false);
}
