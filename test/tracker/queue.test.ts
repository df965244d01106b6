/**
 * The outgoing queue's logic (batching, splitting, retries, the stored copy) in Node, with the few browser APIs
 * it touches provided by small stand-ins: fetch answers as each test decides, localStorage is a Map.
 * Timers are Jest's fake timers in every test (time moves only when a test advances it), and the ones a test
 * leaves behind (backoff, the connection timeout of a request never answered) are cleared after it.
 */
import { createQueue, GET_TRIES, QueueOptions } from '../../tracker/queue';

type Answer = number | 'network-error';
interface Sent {
  url: string;
  init: RequestInit;
  body: { schema: string; data: Record<string, string>[] };
  answer(a: Answer): Promise<void>;
}

let sent: Sent[];
let store: Map<string, string>;
let beacons: { url: string; body: string }[];
let beaconAccepts: boolean;
/** GET pixel requests: the image's URL, and how the test answers it (load or error). */
let images: { src: string; answered: boolean; answer(ok: boolean): Promise<void> }[];
const g = globalThis as Record<string, unknown>;

beforeEach(() => {
  jest.useFakeTimers();
  sent = [];
  store = new Map();
  beacons = [];
  beaconAccepts = false;
  images = [];
  g.Image = class {
    onload: (() => void) | null = null;
    onerror: (() => void) | null = null;
    set src(src: string) {
      const img = { src, answered: false, answer: async (ok: boolean) => {
        img.answered = true;
        (ok ? this.onload : this.onerror)?.();
        await settle();
      } };
      images.push(img);
    }
  };
  g.navigator = { onLine: true, sendBeacon: (url: string, body: string) => beaconAccepts && beacons.push({ url, body }) > 0 };
  g.window = new EventTarget();
  g.document = Object.assign(new EventTarget(), { visibilityState: 'visible' });
  g.localStorage = {
    getItem: (k: string) => (store.has(k) ? store.get(k) : null),
    setItem: (k: string, v: string) => void store.set(k, v),
    removeItem: (k: string) => void store.delete(k),
  };
  g.fetch = (url: string, init: RequestInit) =>
    new Promise((resolve, reject) => {
      sent.push({
        url,
        init,
        body: JSON.parse(String(init.body)),
        answer: async (a) => {
          if (a == 'network-error') reject(new TypeError('Failed to fetch'));
          else resolve({ status: a } as Response);
          await settle();
        },
      });
    });
});
afterEach(() => {
  jest.clearAllTimers();
  jest.useRealTimers();
  jest.restoreAllMocks();
  for (const k of ['window', 'document', 'localStorage', 'fetch', 'navigator', 'Image']) delete g[k];
});

const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};
const opts = (o: Partial<QueueOptions> = {}): QueueOptions => ({
  url: 'https://c.example',
  get: false,
  path: '/com.snowplowanalytics.snowplow/tp2',
  buffer: 1,
  maxBytes: 40000,
  maxUrl: 8000,
  maxItems: 1000,
  timeout: 5000,
  key: 'q',
  ...o,
});
const ev = (n: number, extra: Record<string, string> = {}): Record<string, string> => ({ e: 'se', eid: 'e' + n, ...extra });
const stored = (): string[] => (JSON.parse(store.get('q') || '[]') as { eid: string }[]).map((p) => p.eid);
const eids = (s: Sent): string[] => s.body.data.map((p) => p.eid);

test('one request at a time; the stored copy drops events once the collector answered', async () => {
  const q = createQueue(opts());
  q.add(ev(1), false);
  q.add(ev(2), false);
  expect(sent).toHaveLength(1);
  const [first] = sent;
  expect(first.url).toBe('https://c.example/com.snowplowanalytics.snowplow/tp2');
  expect(first.body.schema).toBe('iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4');
  expect(first.init).toMatchObject({ method: 'POST', keepalive: true, credentials: 'include' });
  expect(first.init.headers).toEqual({ 'Content-Type': 'application/json; charset=UTF-8' });
  expect(first.body.data[0].stm).toMatch(/^\d{13}$/);
  // On the wire with keepalive: left out of the stored copy (the browser completes it even if the page goes).
  expect(stored()).toEqual(['e2']);
  await first.answer(200);
  expect(sent).toHaveLength(2);
  expect(eids(sent[1])).toEqual(['e2']);
  await sent[1].answer(200);
  expect(store.has('q')).toBe(false);
});

test('bufferSize holds events until full; flush sends early; batches split at maxPostBytes', async () => {
  const q = createQueue(opts({ buffer: 3, maxBytes: 600 }));
  q.add(ev(1), false);
  q.add(ev(2), false);
  expect(sent).toHaveLength(0);
  expect(stored()).toEqual(['e1', 'e2']);
  q.add(ev(3), false);
  expect(eids(sent[0])).toEqual(['e1', 'e2', 'e3']);
  await sent[0].answer(200);
  const big = 'x'.repeat(250);
  q.add(ev(4, { v: big }), false);
  q.send(true);
  q.add(ev(5, { v: big }), false);
  q.add(ev(6, { v: big }), false);
  expect(eids(sent[1])).toEqual(['e4']);
  await sent[1].answer(200);
  q.send(true);
  // 600 bytes hold one of these events with the envelope, not two.
  expect(eids(sent[2])).toEqual(['e5']);
  await sent[2].answer(200);
  expect(eids(sent[3])).toEqual(['e6']);
});

test('failures are retried with exponential backoff and nothing is lost; 4xx that cannot succeed are dropped', async () => {
  const q = createQueue(opts());
  q.add(ev(1), false);
  await sent[0].answer('network-error');
  expect(stored()).toEqual(['e1']);
  q.add(ev(2), false);
  expect(sent).toHaveLength(1); // backing off: no request before the timer
  jest.advanceTimersByTime(999);
  expect(sent).toHaveLength(1);
  jest.advanceTimersByTime(1);
  expect(eids(sent[1])).toEqual(['e1', 'e2']);
  await sent[1].answer(503);
  jest.advanceTimersByTime(1999);
  expect(sent).toHaveLength(2);
  jest.advanceTimersByTime(1);
  expect(sent).toHaveLength(3);
  await sent[2].answer(400); // a malformed request will never succeed
  expect(store.has('q')).toBe(false);
  q.add(ev(3), false);
  expect(eids(sent[3])).toEqual(['e3']); // the backoff was reset
});

test('a request that gets no answer is abandoned after the connection timeout and retried', async () => {
  const q = createQueue(opts({ timeout: 3000 }));
  q.add(ev(1), false);
  const signal = sent[0].init.signal as AbortSignal;
  jest.advanceTimersByTime(3000);
  expect(signal.aborted).toBe(true);
  await sent[0].answer('network-error');
  jest.advanceTimersByTime(1000);
  expect(eids(sent[1])).toEqual(['e1']);
});

test('the stored queue is picked up by the next page; anonymous events are never stored', async () => {
  store.set('q', JSON.stringify([ev(1), ev(2), { broken: true }]));
  const q = createQueue(opts());
  expect(eids(sent[0])).toEqual(['e1', 'e2']);
  q.add(ev(3), true);
  await sent[0].answer('network-error');
  expect(stored()).toEqual(['e1', 'e2']);
  // Anonymous and identified events never share a request: the header applies to a whole request.
  jest.advanceTimersByTime(1000);
  expect(eids(sent[1])).toEqual(['e1', 'e2']);
  await sent[1].answer(200);
  expect(eids(sent[2])).toEqual(['e3']);
  expect(sent[2].init.headers).toEqual({ 'Content-Type': 'application/json; charset=UTF-8', 'SP-Anonymous': '*' });
  expect(sent[2].init.credentials).toBe('omit');
});

test('a damaged stored queue is ignored', () => {
  store.set('q', '{not json');
  createQueue(opts());
  expect(sent).toHaveLength(0);
  expect(store.has('q')).toBe(false);
});

test('the queue keeps at most maxItems events, dropping the oldest', async () => {
  const q = createQueue(opts({ buffer: 10, maxItems: 3 }));
  for (let i = 1; i <= 5; i++) q.add(ev(i), false);
  expect(stored()).toEqual(['e3', 'e4', 'e5']);
});

test('page hide sends everything at once, ignoring bufferSize', async () => {
  const q = createQueue(opts({ buffer: 10, maxBytes: 300 }));
  for (let i = 1; i <= 3; i++) q.add(ev(i, { v: 'x'.repeat(150) }), false);
  expect(sent).toHaveLength(0);
  (g.window as EventTarget).dispatchEvent(new Event('pagehide'));
  expect(sent.map(eids)).toEqual([['e1'], ['e2'], ['e3']]);
  expect(store.has('q')).toBe(false);
  // The page lives on (bfcache) and one request failed: its event is stored again.
  (g.window as EventTarget).dispatchEvent(new Event('pageshow'));
  await sent[1].answer('network-error');
  expect(stored()).toEqual(['e2']);
});

test('when the page goes away, identified batches go as beacons; anonymous ones (need a header) by fetch', () => {
  beaconAccepts = true;
  const q = createQueue(opts({ buffer: 10 }));
  q.add(ev(1), false);
  q.add(ev(2), false);
  q.add(ev(3), true);
  (g.window as EventTarget).dispatchEvent(new Event('pagehide'));
  expect(beacons).toHaveLength(1);
  expect(beacons[0].url).toBe('https://c.example/com.snowplowanalytics.snowplow/tp2');
  expect(JSON.parse(beacons[0].body).data.map((p: { eid: string }) => p.eid)).toEqual(['e1', 'e2']);
  expect(sent.map(eids)).toEqual([['e3']]);
  expect(sent[0].init.headers).toMatchObject({ 'SP-Anonymous': '*' });
  expect(store.has('q')).toBe(false);
});

test('leaving the page while offline keeps the events stored for the next page', () => {
  beaconAccepts = true;
  (g.navigator as { onLine: boolean }).onLine = false;
  const q = createQueue(opts({ buffer: 10 }));
  q.add(ev(1), false);
  (g.window as EventTarget).dispatchEvent(new Event('pagehide'));
  expect(beacons).toEqual([]);
  expect(sent).toEqual([]);
  expect(stored()).toEqual(['e1']);
});

describe('GET mode', () => {
  const query = (src: string): Record<string, string> => Object.fromEntries(new URL(src).searchParams);
  const b64 = (s: string): string => Buffer.from(s).toString('base64url');

  test('one image request per event on /i with base64url ue_px and cx; the stored copy drops it once loaded', async () => {
    const q = createQueue(opts({ get: true }));
    const ue = JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0', data: { é: '?&=' } });
    const co = JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0', data: [] });
    q.add(ev(1, { e: 'ue', ue_pr: ue, co }), false);
    q.add(ev(2), false);
    expect(images).toHaveLength(1);
    expect(sent).toEqual([]);
    const url = new URL(images[0].src);
    expect(url.origin + url.pathname).toBe('https://c.example/i');
    expect(query(images[0].src)).toEqual({ e: 'ue', eid: 'e1', ue_px: b64(ue), cx: b64(co), stm: expect.stringMatching(/^\d{13}$/) });
    expect(stored()).toEqual(['e1', 'e2']); // an image request does not outlive the page: kept until it loaded
    await images[0].answer(true);
    expect(query(images[1].src)).toMatchObject({ e: 'se', eid: 'e2' });
    await images[1].answer(true);
    expect(store.has('q')).toBe(false);
  });

  test('an event whose URL is over maxUrl is dropped with a warning and the next one goes', () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const q = createQueue(opts({ get: true, maxUrl: 600 }));
    q.add(ev(1, { v: 'x'.repeat(600) }), false);
    expect(images).toEqual([]);
    expect(store.has('q')).toBe(false);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toMatch(/^waymark: event e1 dropped: its GET URL of \d+ bytes is over maxGetBytes \(600\)/);
    q.add(ev(2, { v: 'x'.repeat(500) }), false);
    expect(images.map((i) => query(i.src).eid)).toEqual(['e2']);
  });

  test('a rejected event does not hold up the others and is given up after GET_TRIES attempts', async () => {
      const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const q = createQueue(opts({ get: true }));
    q.add(ev(1), false); // the collector rejects this one (an image error, like a 400)
    await images[0].answer(false);
    expect(JSON.parse(store.get('q')!)).toEqual([{ '~n': '1', e: 'se', eid: 'e1' }]);
    q.add(ev(2), false);
    expect(images).toHaveLength(1); // backing off
    // The collector answers e2 and rejects e1 every time; time passes until the queue is empty.
    for (let k = 0; k < 100 && store.has('q'); k++) {
      const last = images[images.length - 1];
      if (last.answered) jest.advanceTimersByTime(30000);
      else await last.answer(query(last.src).eid == 'e2');
    }
    const order = images.map((i) => query(i.src).eid);
    expect(order.slice(0, 3)).toEqual(['e1', 'e2', 'e1']); // e2 went at the first retry, ahead of e1
    expect(order.filter((e) => e == 'e1')).toHaveLength(GET_TRIES);
    expect(order.filter((e) => e == 'e2')).toHaveLength(1);
    expect(images.every((i) => !('~n' in query(i.src)))).toBe(true);
    expect(store.has('q')).toBe(false);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toBe(`waymark: event e1 dropped: the collector did not accept it in ${GET_TRIES} GET attempts`);
    // Nothing is left to retry, and new events go at once.
    jest.advanceTimersByTime(60000);
    expect(images).toHaveLength(order.length);
    q.add(ev(3), false);
    expect(query(images[images.length - 1].src).eid).toBe('e3');
  });

  test('the attempt count carries over to the next page; attempts while offline do not count', async () => {
      jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    store.set('q', JSON.stringify([{ '~n': String(GET_TRIES - 1), ...ev(1) }]));
    const nav = g.navigator as { onLine: boolean };
    nav.onLine = false;
    createQueue(opts({ get: true }));
    expect(query(images[0].src)).toEqual({ e: 'se', eid: 'e1', stm: expect.any(String) });
    await images[0].answer(false);
    expect(JSON.parse(store.get('q')!)).toEqual([{ '~n': String(GET_TRIES - 1), e: 'se', eid: 'e1' }]);
    nav.onLine = true;
    jest.advanceTimersByTime(1000);
    await images[1].answer(false); // the last attempt
    expect(store.has('q')).toBe(false);
    jest.advanceTimersByTime(60000);
    expect(images).toHaveLength(2);
  });
});
