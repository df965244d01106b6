/**
 * The outgoing event queue: batching, transport (fetch POST with keepalive, sendBeacon when the page goes away,
 * or GET image pixel), retries with exponential backoff, and a localStorage copy so that events survive a
 * collector outage across page loads.
 *
 * Delivery: an event stays in the stored queue until the collector answers 2xx (or a status not worth
 * retrying), so collector outages, network errors and page loads during an outage lose nothing. One exception
 * keeps the last events of a page from being sent twice: while a POST is on the wire with `keepalive` (which the
 * browser completes even after the page is gone), its events are left out of the stored copy, and put back if the
 * request fails while the page lives. Another page (the next one after a link click) therefore never resends them.
 *
 * GET (one image request per event) cannot read the answer's status: a rejected event and a collector outage
 * both fire the image's `error`. So GET sends the events that failed least often first (a rejected event does
 * not hold up the others) and tries each at most GET_TRIES times (the count is stored with it; attempts while the browser is
 * offline do not count); an event whose URL would be longer than `maxUrl` is dropped with a console warning.
 */
import { base64url, local, on } from './util';

type Params = Record<string, string>;

/** One queued event: `p` its params, `a` anonymous, `f` on the wire, `g` on the wire with keepalive, `n` failed
 *  GET attempts. */
interface Item {
  p: Params;
  a: boolean;
  f?: boolean;
  g?: boolean;
  n?: number;
}

export interface QueueOptions {
  /** collector base URL, no trailing slash */
  url: string;
  get: boolean;
  path: string;
  buffer: number;
  maxBytes: number;
  /** longest GET URL (scheme, host, path and query); longer events are dropped */
  maxUrl: number;
  maxItems: number;
  timeout: number;
  /** localStorage key of the stored queue, or '' for memory only */
  key: string;
}

export interface Queue {
  add(params: Params, anonymous: boolean): void;
  send(force?: boolean): void;
  clear(): void;
  /** Stop (or resume) keeping non-anonymous events in localStorage. */
  store(key: string): void;
}

const PAYLOAD = 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4';
/** Statuses that will not get better by retrying: the events are dropped. */
const FATAL = [400, 401, 403, 410, 422];
/** Most attempts of one GET event (its failures can't be told from outages): 10 span about 2.5 minutes of backoff. */
export const GET_TRIES = 10;
/** Key of the failed-attempt count in the stored copy of an event (never sent). */
const TRIES = '~n';

export function createQueue(o: QueueOptions): Queue {
  let items: Item[] = [];
  let key = '';
  let timer: ReturnType<typeof setTimeout> | 0 = 0;
  let fails = 0;
  let inflight = 0;
  // Set from pagehide until pageshow: requests the unloading document reports as failed are in the browser's hands.
  let gone = false;

  const persist = (): void => {
    if (!key) return;
    const keep = items.filter((i) => !i.a && !i.g).map((i) => (i.n ? Object.assign({ [TRIES]: '' + i.n }, i.p) : i.p));
    local(key, keep.length ? JSON.stringify(keep) : null);
  };

  const drop = (i: Item, why: string): void => {
    items = items.filter((x) => x != i);
    console.warn('waymark: event ' + i.p.eid + ' dropped: ' + why);
  };

  /** The GET pixel URL of an event: base64url `ue_px`/`cx` instead of `ue_pr`/`co`. */
  const pixel = (params: Params, stm: string): string => {
    const p = Object.assign({}, params, { stm });
    if (p.ue_pr) p.ue_px = base64url(p.ue_pr);
    if (p.co) p.cx = base64url(p.co);
    delete p.ue_pr;
    delete p.co;
    return o.url + '/i?' + new URLSearchParams(p);
  };

  const deliver = (batch: Item[], keepalive: boolean, beacon: boolean): Promise<number> => {
    const stm = '' + Date.now();
    const anon = batch[0].a;
    if (o.get) {
      return new Promise((resolve) => {
        const img = new Image();
        img.onload = () => resolve(200);
        img.onerror = () => resolve(0);
        img.src = pixel(batch[0].p, stm);
      });
    }
    const events = batch.map((i): Params => Object.assign({}, i.p, { stm }));
    const body = JSON.stringify({ schema: PAYLOAD, data: events });
    // The page is going away: a beacon (text/plain, no preflight) is the one request browsers promise to send.
    // It can carry no SP-Anonymous header, so anonymous batches use fetch keepalive.
    if (beacon && !anon && navigator.sendBeacon && navigator.sendBeacon(o.url + o.path, body)) return Promise.resolve(200);
    const ctl = new AbortController();
    const t = setTimeout(() => ctl.abort(), o.timeout);
    const headers: Params = { 'Content-Type': 'application/json; charset=UTF-8' };
    if (anon) headers['SP-Anonymous'] = '*';
    return fetch(o.url + o.path, {
      method: 'POST',
      body,
      headers,
      credentials: anon ? 'omit' : 'include',
      keepalive,
      signal: ctl.signal,
    }).then(
      (r) => (clearTimeout(t), r.status),
      () => (clearTimeout(t), 0),
    );
  };

  /** Sends the next batch (or, when the page is hiding, every batch at once). */
  const send = (force = false, hide = false): void => {
    // Leaving while offline: nothing to hand over to the browser, the stored copy waits for the next page.
    while (!timer && (hide ? navigator.onLine : !inflight)) {
      const rest = items.filter((i) => !i.f);
      // GET: events that failed fewer times go first, so a rejected event does not hold up the others.
      if (o.get) rest.sort((a, b) => (a.n || 0) - (b.n || 0));
      if (!rest.length || (!force && !hide && rest.length < o.buffer)) break;
      // Over the URL limit of proxies and servers an event would be rejected on every attempt.
      const len = o.get ? pixel(rest[0].p, '' + Date.now()).length : 0;
      if (len > o.maxUrl) {
        drop(rest[0], 'its GET URL of ' + len + ' bytes is over maxGetBytes (' + o.maxUrl + '); send it by POST');
        continue;
      }
      const batch: Item[] = [];
      let size = 90;
      for (const i of rest) {
        const n = JSON.stringify(i.p).length + 24;
        if (batch.length && (o.get || i.a != rest[0].a || size + n > o.maxBytes)) break;
        batch.push(i);
        size += n;
      }
      // keepalive lets a request outlive the page; browsers allow 64 KB of keepalive bodies in flight.
      const keepalive = !o.get && size < 50000;
      batch.forEach((i) => ((i.f = true), (i.g = keepalive)));
      inflight++;
      deliver(batch, keepalive, gone && keepalive).then((status) => {
        inflight--;
        batch.forEach((i) => (i.f = false, i.g = i.g && gone));
        if ((status > 199 && status < 300) || FATAL.indexOf(status) >= 0) {
          items = items.filter((i) => batch.indexOf(i) < 0);
          fails = 0;
        } else {
          const i = batch[0];
          // A failed GET event is given up after GET_TRIES attempts made while online.
          if (o.get && navigator.onLine && (i.n = (i.n || 0) + 1) >= GET_TRIES && items.indexOf(i) >= 0)
            drop(i, 'the collector did not accept it in ' + GET_TRIES + ' GET attempts');
          if (!timer)
            timer = setTimeout(() => {
              timer = 0;
              send(true);
            }, Math.min(30000, 1000 * 2 ** fails++));
        }
        persist();
        send(force);
      });
      if (!hide) break;
    }
    persist();
  };

  const hidden = (): void => {
    if (document.visibilityState == 'hidden') send(true, true);
  };
  on(window, 'pagehide', () => {
    gone = true;
    send(true, true);
  });
  on(window, 'pageshow', () => (gone = false));
  on(document, 'visibilitychange', hidden);
  on(window, 'online', () => {
    if (timer) clearTimeout(timer);
    timer = 0;
    fails = 0;
    send(true);
  });

  const q: Queue = {
    add(p, a) {
      items.push({ p, a });
      if (items.length > o.maxItems) items.shift();
      send();
    },
    send,
    clear() {
      items = [];
      persist();
    },
    store(k) {
      if (key && !k) local(key, null);
      key = k;
      if (!k) return;
      try {
        const saved: unknown = JSON.parse((local(k) as string) || '[]');
        if (Array.isArray(saved)) {
          const known = items.map((i) => i.p.eid);
          for (const p of saved)
            if (p && typeof p.eid == 'string' && known.indexOf(p.eid) < 0) {
              const n = +p[TRIES] || 0;
              delete p[TRIES];
              items.push({ p, a: false, n });
            }
        }
      } catch {
        /* a damaged stored queue is dropped */
      }
      persist();
      send();
    },
  };
  q.store(o.key);
  return q;
}
