/**
 * Realistic, deterministic tracker traffic for benchmarks and local mode: tp2 parameter maps shaped like those the
 * Snowplow JavaScript tracker (v3/v4) sends from a browser — page views, page pings, structured events and
 * self-describing events, each with the web_page entity and optionally more — wrapped in CollectorPayloads.
 * The self-describing events use the demo's example schemas (examples/schemas: io.waymark.example/*), which are not
 * built-ins: enrich them with that folder in the registry (`schemaFolders`, `--schemas examples/schemas`), or those
 * events become schema_violations.
 */
import { encodeBase64UrlUtf8 } from '../text';

/** A small seeded PRNG (mulberry32): the same seed gives the same traffic. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return function () {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A version-4 UUID from the PRNG. */
export function uuid(rand: () => number): string {
  const hex = '0123456789abcdef';
  let s = '';
  for (let i = 0; i < 36; i++) {
    if (i === 8 || i === 13 || i === 18 || i === 23) s += '-';
    else if (i === 14) s += '4';
    else if (i === 19) s += hex.charAt(8 + Math.floor(rand() * 4));
    else s += hex.charAt(Math.floor(rand() * 16));
  }
  return s;
}

export const USER_AGENTS: readonly string[] = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.67',
  'Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36',
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
];

const REFERRERS: readonly string[] = [
  '', '', '', 'https://www.google.com/', 'https://www.bing.com/search?q=blue+mug', 'https://t.co/abc123',
  'https://shop.example.com/', 'https://www.facebook.com/', 'https://duckduckgo.com/', 'https://news.example.org/article/42',
];

const PATHS: readonly string[] = ['/', '/p/blue-mug', '/p/red-kettle', '/c/kitchen', '/cart', '/checkout', '/blog/how-to-brew', '/search'];
const QUERIES: readonly string[] = ['', '', '', '?utm_source=newsletter&utm_medium=email&utm_campaign=spring', '?gclid=Cj0KCQjw', '?q=mug&page=2'];

interface Visitor {
  readonly duid: string;
  readonly sid: string;
  readonly vid: number;
  readonly ua: string;
  readonly ip: string;
  readonly nuid: string;
  readonly res: string;
  readonly vp: string;
}

function contextsOf(entities: ReadonlyArray<{ schema: string; data: unknown }>): string {
  return encodeBase64UrlUtf8(JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0', data: entities }));
}

/**
 * The next event of a realistic mix: 40% page views, 30% page pings, 15% structured events, 15% self-describing
 * events (button clicks with the web_page and a product entity: two contexts). Every event carries web_page.
 */
export function sampleParams(rand: () => number, visitors: readonly Visitor[], t: number): { params: Record<string, string>; visitor: Visitor } {
  const visitor = visitors[Math.floor(rand() * visitors.length)];
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)];
  const url = 'https://shop.example.com' + pick(PATHS) + pick(QUERIES);
  const pageViewId = uuid(rand);
  const dtm = t - Math.floor(rand() * 2000);
  const p: Record<string, string> = {
    eid: uuid(rand),
    tv: 'js-4.1.0',
    tna: 'sp',
    aid: 'shop',
    p: 'web',
    cookie: '1',
    cs: 'UTF-8',
    lang: 'en-US',
    res: visitor.res,
    cd: '24',
    tz: 'Europe/Berlin',
    dtm: String(dtm),
    vp: visitor.vp,
    ds: '1280x3400',
    vid: String(visitor.vid),
    sid: visitor.sid,
    duid: visitor.duid,
    url: url,
    page: 'Blue Mug – Example Shop',
    stm: String(dtm + Math.floor(rand() * 300)),
  };
  const refr = pick(REFERRERS);
  if (refr !== '') p.refr = refr;
  const webPage = { schema: 'iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0', data: { id: pageViewId } };
  const r = rand();
  if (r < 0.4) {
    p.e = 'pv';
    p.cx = contextsOf([webPage]);
  } else if (r < 0.7) {
    p.e = 'pp';
    p.pp_mix = '0';
    p.pp_max = String(Math.floor(rand() * 20));
    p.pp_miy = String(Math.floor(rand() * 400));
    p.pp_may = String(400 + Math.floor(rand() * 2000));
    p.cx = contextsOf([webPage]);
  } else if (r < 0.85) {
    p.e = 'se';
    p.se_ca = 'shop';
    p.se_ac = pick(['add-to-cart', 'remove-from-cart', 'wishlist']);
    p.se_la = pick(['blue-mug', 'red-kettle']);
    p.se_pr = 'quantity';
    p.se_va = String(1 + Math.floor(rand() * 3));
    p.cx = contextsOf([webPage]);
  } else {
    p.e = 'ue';
    p.ue_px = encodeBase64UrlUtf8(JSON.stringify({
      schema: 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0',
      data: { schema: 'iglu:io.waymark.example/button_click/jsonschema/1-0-1', data: { buttonId: 'buy-' + Math.floor(rand() * 10), label: 'Buy now', position: Math.floor(rand() * 5) } },
    }));
    p.cx = contextsOf([
      webPage,
      { schema: 'iglu:io.waymark.example/product/jsonschema/1-0-0', data: { sku: 'MUG-' + (100 + Math.floor(rand() * 900)), name: 'Blue Mug', price: 12.5, currency: 'EUR', categories: ['kitchen', 'mugs'] } },
    ]);
  }
  return { params: p, visitor: visitor };
}

/** `n` visitors with stable ids and devices. */
export function sampleVisitors(rand: () => number, n: number): Visitor[] {
  const out: Visitor[] = [];
  for (let i = 0; i < n; i++) {
    const ua = USER_AGENTS[Math.floor(rand() * USER_AGENTS.length)];
    const mobile = /Mobile/.test(ua);
    out.push({
      duid: uuid(rand),
      sid: uuid(rand),
      vid: 1 + Math.floor(rand() * 20),
      ua: ua,
      ip: '198.51.100.' + Math.floor(rand() * 256),
      nuid: uuid(rand),
      res: mobile ? '390x844' : '1920x1080',
      vp: mobile ? '390x664' : '1280x720',
    });
  }
  return out;
}

/** `count` CollectorPayload messages (JSON text), as the Waymark collector publishes them. */
export function sampleCollectorPayloads(count: number, seed = 42, startMs = Date.UTC(2024, 4, 1, 12, 0, 0)): string[] {
  const rand = prng(seed);
  const visitors = sampleVisitors(rand, 200);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const t = startMs + i * 37;
    const { params, visitor } = sampleParams(rand, visitors, t);
    out.push(JSON.stringify({
      schema: 'iglu:io.waymark/collector_payload/jsonschema/1-0-0',
      data: {
        timestamp: new Date(t + 150).toISOString(),
        collector: 'waymark-collector-0.1.0',
        ipAddress: visitor.ip,
        userAgent: visitor.ua,
        refererUri: params.url,
        headers: {},
        networkUserId: visitor.nuid,
        contentType: 'application/json; charset=utf-8',
        method: 'POST',
        path: '/com.snowplowanalytics.snowplow/tp2',
        hostname: 'c.example.com',
        parameters: params,
      },
    }));
  }
  return out;
}
