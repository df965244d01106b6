/**
 * The public types against the runtime. `npm run check` type-checks this file: a wrong command name or argument
 * for `window.waymark(...)` is a compile error (the @ts-expect-error lines fail the check if they stop erroring),
 * and METHODS must name every Tracker method, no more. At run time, a real tracker (with the few browser APIs
 * it touches at creation stubbed) must have exactly those methods, since `window.waymark('<name>', ...)`
 * dispatches to them by name.
 */
import { newTracker, type Tracker, type TrackerOptions, type WaymarkFunction } from '../../tracker';

/** Every method of the Tracker interface (the compiler rejects a missing or an unknown name). */
const METHODS: Record<keyof Tracker, true> = {
  trackPageView: true,
  trackStructEvent: true,
  trackSelfDescribingEvent: true,
  enableActivityTracking: true,
  disableActivityTracking: true,
  enableLinkClickTracking: true,
  addGlobalContexts: true,
  removeGlobalContexts: true,
  clearGlobalContexts: true,
  setUserId: true,
  enableAnonymousTracking: true,
  disableAnonymousTracking: true,
  optOut: true,
  optIn: true,
  flush: true,
  getDomainUserId: true,
  getPageViewId: true,
};

const g = globalThis as Record<string, unknown>;
const STUBBED = ['window', 'document', 'location', 'navigator', 'localStorage', 'history', 'screen', 'fetch', 'innerWidth', 'innerHeight', 'scrollX', 'scrollY'];
let sent: string[];
/** The browser APIs the tracker touches, as small stand-ins (cookies blocked, so state goes to localStorage). */
beforeEach(() => {
  jest.useFakeTimers();
  const store = new Map<string, string>();
  sent = [];
  Object.assign(g, {
    window: new EventTarget(),
    document: Object.assign(new EventTarget(), {
      cookie: '',
      referrer: '',
      title: 'Home',
      characterSet: 'UTF-8',
      visibilityState: 'visible',
      documentElement: { scrollWidth: 1000, scrollHeight: 3000 },
    }),
    location: { hostname: 'www.example.com', protocol: 'https:', href: 'https://www.example.com/' },
    navigator: { onLine: true, language: 'en', cookieEnabled: true },
    history: { pushState: () => undefined, replaceState: () => undefined },
    screen: { width: 1920, height: 1080, colorDepth: 24 },
    innerWidth: 1000,
    innerHeight: 800,
    scrollX: 0,
    scrollY: 0,
    localStorage: {
      getItem: (k: string) => store.get(k) ?? null,
      setItem: (k: string, v: string) => void store.set(k, v),
      removeItem: (k: string) => void store.delete(k),
    },
    fetch: (_url: string, init: RequestInit) => {
      sent.push(String(init.body));
      return new Promise(() => undefined);
    },
  });
});
afterEach(() => {
  jest.clearAllTimers();
  jest.useRealTimers();
  jest.restoreAllMocks();
  STUBBED.forEach((k) => delete g[k]);
});

test('a tracker has exactly the methods the Tracker type declares', () => {
  const t = newTracker('sp', 'c.example.com');
  const runtime = Object.keys(t).filter((k) => typeof (t as unknown as Record<string, unknown>)[k] == 'function');
  expect(runtime.sort()).toEqual(Object.keys(METHODS).sort());
  expect(Object.keys(t).sort()).toEqual(runtime);
});

test('commands the types accept run on the real window.waymark; the commands they reject are refused there too', () => {
  const errors: string[] = [];
  jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void errors.push(a.map(String).join(' ')));
  // sp.ts installs window.waymark when it loads: load it now, after the stand-ins.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  jest.isolateModules(() => require('../../tracker/sp'));
  const waymark = (g.window as { waymark: WaymarkFunction }).waymark;
  waymark('newTracker', 'sp', 'https://c.example.com', { appId: 'shop', spaPageViews: true, contexts: { session: true } });
  waymark('trackPageView');
  waymark('trackPageView:sp', { title: 'Products' });
  waymark('trackStructEvent', { category: 'c', action: 'a', value: 1 });
  waymark('trackSelfDescribingEvent', { event: { schema: 'iglu:a/b/jsonschema/1-0-0', data: {} } });
  waymark('enableActivityTracking', { minimumVisitLength: 10, heartbeatDelay: 10 });
  waymark('addGlobalContexts', [() => null]);
  waymark('setUserId', null);
  waymark('flush');
  expect(errors).toEqual([]);
  // One request on the wire at a time: the first page view went, the other events wait in the queue.
  expect(sent).toHaveLength(1);
  expect(JSON.parse(sent[0]).data[0]).toMatchObject({ e: 'pv', aid: 'shop', page: 'Home' });
  const queued = (JSON.parse((g.localStorage as Storage).getItem('waymark_queue_sp') || '[]') as Record<string, string>[]).map((p) => p.e);
  expect(queued).toEqual(['pv', 'se', 'ue']);

  // @ts-expect-error unknown command
  waymark('trackNothing');
  // @ts-expect-error structured events need an action
  waymark('trackStructEvent', { category: 'c' });
  // @ts-expect-error trackSelfDescribingEvent needs { event }
  waymark('trackSelfDescribingEvent', { schema: 'iglu:a/b/jsonschema/1-0-0', data: {} });
  expect(errors).toEqual([
    expect.stringContaining('unknown command "trackNothing"'),
    expect.stringContaining('trackStructEvent needs { category, action }'),
    expect.stringContaining('trackSelfDescribingEvent needs { event'),
  ]);
  // Checked by the types only: extra arguments (ignored at run time) and option values (the tracker would take
  // 'put' as POST).
  // @ts-expect-error flush takes no argument
  waymark('flush', true);
  // @ts-expect-error eventMethod is 'post' or 'get'
  const options: TrackerOptions = { eventMethod: 'put' };
  void options;
  expect(errors).toHaveLength(3);
});
