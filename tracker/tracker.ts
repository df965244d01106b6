/**
 * The tracker: builds tp2 events (page views, pings, structured and self-describing events, link clicks) with
 * Snowplow-compatible first-party identity, and hands them to the outgoing queue.
 *
 * Written as one closure with module-level helpers so that minification can rename every internal name.
 */
import { createQueue } from './queue';
import { clientSession, IdState, nextIdState } from './session';
import type {
  ActivityTrackingOptions,
  GlobalContext,
  LinkClickTrackingOptions,
  PageViewEvent,
  SelfDescribingEvent,
  SelfDescribingJson,
  StructEvent,
  Tracker,
  TrackerOptions,
} from './types';
import { local, on, readCookie, sha1, uuid, writeCookie } from './util';
import { VERSION } from './version';

type Params = Record<string, string>;

const IGLU = 'iglu:com.snowplowanalytics.snowplow/';
const sdj = (name: string, version: string, data: unknown): SelfDescribingJson =>
  ({ schema: IGLU + name + '/jsonschema/' + version, data }) as SelfDescribingJson;

const fail = (message: string): never => {
  throw new Error('waymark: ' + message);
};

/** Every history change (pushState, replaceState, popstate) calls these; history is patched once per page. */
const navListeners: (() => void)[] = [];
const onNavigate = (fn: () => void): void => {
  if (!navListeners.length) {
    const h = history;
    const fire = (): void => navListeners.forEach((l) => setTimeout(l));
    (['pushState', 'replaceState'] as const).forEach((m) => {
      const orig = h[m];
      h[m] = function (this: History, ...args: Parameters<History['pushState']>) {
        orig.apply(this, args);
        fire();
      };
    });
    on(window, 'popstate', fire);
  }
  navListeners.push(fn);
};

/**
 * Creates a tracker that sends to `collectorUrl` (`https://` is assumed when no scheme is given).
 * @throws when the namespace or collector URL is missing
 */
export function newTracker(namespace: string, collectorUrl: string, options: TrackerOptions = {}): Tracker {
  if (!namespace || typeof namespace != 'string') fail('newTracker(namespace, collectorUrl, options) needs a namespace');
  if (!collectorUrl || typeof collectorUrl != 'string')
    fail('newTracker("' + namespace + '", collectorUrl, options) needs the collector URL, e.g. "https://c.example.com"');
  const o = options;
  const ctx = o.contexts || {};
  const prefix = o.cookieName || '_sp_';
  // Snowplow's cookie name suffix: the first 4 hex digits of sha1(cookie domain or host + cookie path).
  const domain = o.cookieDomain && o.cookieDomain.replace(/^\*\./, '.').replace(/\.$/, '');
  const hash = sha1((domain || location.hostname) + '/').slice(0, 4);
  const idKey = prefix + 'id.' + hash;
  const sesKey = prefix + 'ses.' + hash;
  const optKey = prefix + 'optout.' + hash;
  const queueKey = 'waymark_queue_' + namespace;
  const sesTtl = o.sessionCookieTimeout == null ? 1800 : o.sessionCookieTimeout;
  const secure = o.cookieSecure == null ? location.protocol == 'https:' : o.cookieSecure;
  let storage = o.stateStorage || 'cookie';
  const memory: Params = {};

  const dnt =
    o.respectDoNotTrack &&
    (navigator.doNotTrack == '1' || (navigator as { globalPrivacyControl?: boolean }).globalPrivacyControl == true);
  let anonymous = !!o.anonymousTracking;
  let userId: string | undefined;
  let pageViewId = '';
  let lastUrl = '';
  let referrer = document.referrer;
  let globals: GlobalContext[] = [];
  let state: IdState | undefined;

  // --- state storage: cookies, or localStorage / memory with an `.expires` twin (Snowplow's localStorage layout)
  const put = (k: string, v: string | null, ttl = 0): void => {
    if (storage == 'cookie') writeCookie(k, v || '', v == null ? 0 : ttl, domain, o.cookieSameSite, secure);
    else if (storage == 'none') memory[k] = v == null ? '' : v + '|' + (Date.now() + ttl * 1000);
    else {
      local(k, v);
      local(k + '.expires', v == null ? null : '' + (Date.now() + ttl * 1000));
    }
  };
  const get = (k: string): string | undefined => {
    if (storage == 'cookie') return readCookie(k);
    const [v, exp] = storage == 'none' ? (memory[k] || '').split('|') : [local(k), local(k + '.expires')];
    return v && +(exp || 0) > Date.now() ? String(v) : undefined;
  };
  const forget = (): void => {
    put(idKey, null);
    put(sesKey, null);
    state = undefined;
  };
  const probe = (): void => {
    // Cookies may be disabled or blocked (sandboxed frames, privacy settings): fall back to localStorage.
    if (storage != 'cookie') return;
    put(sesKey + '.t', '1', 9);
    if (get(sesKey + '.t') != '1') storage = 'localStorage';
    else put(sesKey + '.t', null);
  };
  if (!anonymous) probe();

  const queue = createQueue({
    url: (collectorUrl.indexOf('//') < 0 ? 'https://' : '') + collectorUrl.replace(/\/+$/, ''),
    get: o.eventMethod == 'get',
    path: o.postPath || '/com.snowplowanalytics.snowplow/tp2',
    buffer: o.bufferSize || 1,
    maxBytes: o.maxPostBytes || 40000,
    maxUrl: o.maxGetBytes || 8000,
    maxItems: o.maxQueueSize || 1000,
    timeout: o.connectionTimeout || 5000,
    key: anonymous || storage == 'none' ? '' : queueKey,
  });

  const optedOut = (): boolean => !!dnt || local(optKey) == '1';

  /** Builds one event from its own params and entities, adds the common fields, and queues it. */
  const track = (params: Params, entities: readonly SelfDescribingJson[] = []): void => {
    if (optedOut()) return;
    const now = Date.now();
    const de = document.documentElement;
    const p: Params = Object.assign(
      {
        eid: uuid(),
        tv: 'js-waymark-' + VERSION,
        tna: namespace,
        p: o.platform || 'web',
        dtm: '' + now,
        url: location.href,
        page: document.title,
        refr: referrer,
        tz: Intl.DateTimeFormat().resolvedOptions().timeZone,
        lang: navigator.language,
        cs: document.characterSet,
        res: screen.width + 'x' + screen.height,
        cd: '' + screen.colorDepth,
        vp: innerWidth + 'x' + innerHeight,
        ds: de.scrollWidth + 'x' + de.scrollHeight,
        cookie: navigator.cookieEnabled ? '1' : '0',
      },
      params,
    );
    if (o.appId) p.aid = o.appId;
    const all = entities.slice();
    if (ctx.webPage != false) all.push(sdj('web_page', '1-0-0', { id: api.getPageViewId() }));
    if (!anonymous) {
      if (userId) p.uid = userId;
      state = nextIdState(get(idKey), !!get(sesKey), now, p.eid, uuid);
      put(idKey, state.join('.'), o.cookieLifetime == null ? 63072000 : o.cookieLifetime);
      put(sesKey, '*', sesTtl);
      p.duid = state[0];
      p.sid = state[5];
      p.vid = '' + state[2];
      if (ctx.session)
        all.push(sdj('client_session', '1-0-2', clientSession(state, storage == 'cookie' ? 'COOKIE_1' : 'LOCAL_STORAGE')));
    }
    for (const g of globals) {
      try {
        const r = typeof g == 'function' ? g(p) : g;
        if (r) all.push(...(Array.isArray(r) ? r : [r]));
      } catch (e) {
        console.error('waymark: a global context generator failed; the event is sent without it', e);
      }
    }
    if (all.length) p.co = JSON.stringify({ schema: IGLU + 'contexts/jsonschema/1-0-0', data: all });
    // Like Snowplow's trackers, send no empty parameters (no referrer, unknown time zone, ...).
    for (const k in p) if (p[k] == null || p[k] === '') delete p[k];
    queue.add(p, anonymous);
  };

  // --- activity tracking (page pings)
  let activity: ActivityTrackingOptions | undefined;
  let pingTimer: ReturnType<typeof setTimeout> | undefined;
  let lastActive = 0;
  let scroll: number[] = [];
  const resetScroll = (): void => {
    scroll = [scrollX, scrollX, scrollY, scrollY];
  };
  const active = (e: Event): void => {
    lastActive = Date.now();
    if (e.type == 'scroll') {
      scroll = [
        Math.min(scroll[0], scrollX),
        Math.max(scroll[1], scrollX),
        Math.min(scroll[2], scrollY),
        Math.max(scroll[3], scrollY),
      ];
    }
  };
  const armPings = (): void => {
    clearTimeout(pingTimer);
    resetScroll();
    if (!activity) return;
    let since = Date.now();
    const check = (): void => {
      if (lastActive > since) {
        const [mix, max, miy, may] = scroll.map((v) => '' + Math.round(v));
        track({ e: 'pp', pp_mix: mix, pp_max: max, pp_miy: miy, pp_may: may });
        resetScroll();
      }
      since = Date.now();
      pingTimer = setTimeout(check, activity!.heartbeatDelay * 1000);
    };
    pingTimer = setTimeout(check, activity.minimumVisitLength * 1000);
  };

  let linkTracking = false;
  const api: Tracker = {
    trackPageView(e: PageViewEvent = {}) {
      pageViewId = uuid();
      if (lastUrl) referrer = lastUrl;
      lastUrl = location.href;
      track({ e: 'pv', page: e.title || document.title }, e.context);
      armPings();
    },
    trackStructEvent(e: StructEvent) {
      if (!e || !e.category || !e.action) fail('trackStructEvent needs { category, action }');
      const p: Params = { e: 'se', se_ca: e.category, se_ac: e.action };
      if (e.label != null) p.se_la = e.label;
      if (e.property != null) p.se_pr = e.property;
      if (e.value != null) p.se_va = '' + e.value;
      track(p, e.context);
    },
    trackSelfDescribingEvent(e: SelfDescribingEvent) {
      const ev = e && e.event;
      if (!ev || !/^iglu:[^/]+\/[^/]+\/jsonschema\/\d+-\d+-\d+$/.test(ev.schema) || !ev.data || typeof ev.data != 'object')
        fail('trackSelfDescribingEvent needs { event: { schema: "iglu:vendor/name/jsonschema/1-0-0", data: {...} } }');
      track({ e: 'ue', ue_pr: JSON.stringify(sdj('unstruct_event', '1-0-0', ev)) }, e.context);
    },
    enableActivityTracking(a: ActivityTrackingOptions) {
      if (!a || !(a.minimumVisitLength >= 0) || !(a.heartbeatDelay > 0))
        fail('enableActivityTracking needs { minimumVisitLength: seconds >= 0, heartbeatDelay: seconds > 0 }');
      if (!activity) ['mousemove', 'mousedown', 'keydown', 'touchstart', 'wheel', 'scroll'].forEach((t) => on(document, t, active));
      activity = a;
      if (pageViewId) armPings();
    },
    disableActivityTracking() {
      activity = undefined;
      clearTimeout(pingTimer);
    },
    enableLinkClickTracking(l: LinkClickTrackingOptions = {}) {
      if (linkTracking) return;
      linkTracking = true;
      const click = (e: Event): void => {
        const t = e.target as Element;
        const a = t && t.closest && (t.closest('a[href],area[href]') as HTMLAnchorElement | null);
        if (!a || (e.type == 'auxclick' && (e as MouseEvent).button != 1) || (l.filter && !l.filter(a))) return;
        const href = typeof a.href == 'string' ? a.href : a.getAttribute('href') || '';
        const classes = Array.from(a.classList);
        api.trackSelfDescribingEvent({
          event: sdj('link_click', '1-0-1', {
            targetUrl: href,
            elementId: a.id || undefined,
            elementClasses: classes.length ? classes : undefined,
            elementTarget: a.target || undefined,
            elementContent: l.trackContent ? a.innerHTML : undefined,
          }),
          context: l.context,
        });
      };
      on(document, 'click', click);
      on(document, 'auxclick', click);
    },
    addGlobalContexts(c: readonly GlobalContext[]) {
      globals = globals.concat(c);
    },
    removeGlobalContexts(c: readonly GlobalContext[]) {
      globals = globals.filter((g) => c.indexOf(g) < 0);
    },
    clearGlobalContexts() {
      globals = [];
    },
    setUserId(id?: string | null) {
      userId = id == null ? undefined : '' + id;
    },
    enableAnonymousTracking() {
      anonymous = true;
      forget();
      queue.store('');
    },
    disableAnonymousTracking() {
      anonymous = false;
      probe();
      if (storage != 'none') queue.store(queueKey);
    },
    optOut() {
      local(optKey, '1');
      forget();
      queue.clear();
    },
    optIn() {
      local(optKey, null);
    },
    flush() {
      queue.send(true);
    },
    getDomainUserId() {
      return anonymous ? undefined : (state ? state[0] : (get(idKey) || '').split('.')[0]) || undefined;
    },
    getPageViewId() {
      return pageViewId || (pageViewId = uuid());
    },
  };
  if (o.spaPageViews) onNavigate(() => lastUrl && location.href != lastUrl && api.trackPageView());
  return api;
}
