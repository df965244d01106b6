/** Public types of the Waymark web tracker (shared by the ESM API and the async `window.waymark(...)` queue). */

/** A self-describing JSON: an Iglu schema key and data valid against that schema. */
export interface SelfDescribingJson<T = Record<string, unknown>> {
  /** `iglu:<vendor>/<name>/jsonschema/<M-R-A>` */
  readonly schema: string;
  readonly data: T;
}

/** What a generated global context receives: the event's tp2 parameters built so far (`e`, `eid`, `ue_pr`, ...). */
export type EventParams = Readonly<Record<string, string>>;

/** A global context: a static entity, or a function called for every event that returns zero, one or more entities. */
export type GlobalContext =
  | SelfDescribingJson
  | ((event: EventParams) => SelfDescribingJson | SelfDescribingJson[] | null | undefined);

/** Options of `newTracker`. Every option is optional. */
export interface TrackerOptions {
  /** Application id, sent as `aid`. @default undefined (not sent) */
  readonly appId?: string;
  /** Platform, sent as `p`. @default 'web' */
  readonly platform?: string;
  /** `post` batches events as JSON (payload_data 1-0-4); `get` sends one event per 1x1 image request to `/i`.
   *  @default 'post' */
  readonly eventMethod?: 'post' | 'get';
  /** Path of POST requests on the collector (a collector may map a custom two-segment path onto tp2 to dodge
   *  ad-blocker lists). @default '/com.snowplowanalytics.snowplow/tp2' */
  readonly postPath?: string;
  /** Events to buffer before a request is sent (`flush()` and page hide send earlier). @default 1 */
  readonly bufferSize?: number;
  /** Upper bound of a POST body in bytes; larger batches are split (a single bigger event goes alone).
   *  @default 40000 */
  readonly maxPostBytes?: number;
  /** Longest URL of a GET request (`eventMethod: 'get'`), in bytes; a longer event is dropped with a console
   *  warning, since servers and proxies would reject it on every attempt. The default fits the 8 KB request line
   *  of common servers and proxies (nginx, Apache); Waymark's collector takes 20 KB (`WAYMARK_MAX_URL_BYTES`).
   *  @default 8000 */
  readonly maxGetBytes?: number;
  /** Most events kept in the outgoing queue (localStorage and memory); the oldest are dropped beyond it.
   *  @default 1000 */
  readonly maxQueueSize?: number;
  /** Milliseconds before a request that got no answer is abandoned and retried. @default 5000 */
  readonly connectionTimeout?: number;
  /** Prefix of the first-party cookie names (`<prefix>id.<hash>`, `<prefix>ses.<hash>`). @default '_sp_' */
  readonly cookieName?: string;
  /** Cookie domain, e.g. `.example.com` to share ids across subdomains. @default undefined (host-only cookie) */
  readonly cookieDomain?: string;
  /** Lifetime of the id cookie, seconds. @default 63072000 (two years) */
  readonly cookieLifetime?: number;
  /** SameSite attribute of the cookies (`None` requires a secure page). @default 'Lax' */
  readonly cookieSameSite?: 'Lax' | 'Strict' | 'None';
  /** Secure attribute of the cookies. @default true on https pages, false otherwise */
  readonly cookieSecure?: boolean;
  /** Session timeout, seconds without events after which the next event starts a new session. @default 1800 */
  readonly sessionCookieTimeout?: number;
  /** Where identity state lives: `cookie` (falls back to localStorage when cookies can't be written),
   *  `localStorage`, or `none` (memory only: a new visitor on every page load). @default 'cookie' */
  readonly stateStorage?: 'cookie' | 'localStorage' | 'none';
  /** Start in anonymous mode: no cookies or storage, no user ids, `SP-Anonymous: *` on POST requests.
   *  @default false */
  readonly anonymousTracking?: boolean;
  /** Send nothing when the browser signals Do Not Track (`navigator.doNotTrack == '1'`) or Global Privacy
   *  Control. @default false */
  readonly respectDoNotTrack?: boolean;
  /** Track a page view automatically whenever a single-page app changes the URL (history.pushState,
   *  replaceState, popstate/back/forward). @default false */
  readonly spaPageViews?: boolean;
  /** Built-in entities attached to every event. */
  readonly contexts?: {
    /** `web_page` 1-0-0 with the page view id. @default true */
    readonly webPage?: boolean;
    /** `client_session` 1-0-2 (not in anonymous mode). @default false */
    readonly session?: boolean;
  };
}

/** Options of `trackPageView`. */
export interface PageViewEvent {
  /** Page title. @default document.title */
  readonly title?: string;
  /** Entities for this event only. */
  readonly context?: readonly SelfDescribingJson[];
}

/** A structured event (`e=se`). */
export interface StructEvent {
  readonly category: string;
  readonly action: string;
  readonly label?: string;
  readonly property?: string;
  readonly value?: number;
  readonly context?: readonly SelfDescribingJson[];
}

/** A self-describing event (`e=ue`). */
export interface SelfDescribingEvent {
  readonly event: SelfDescribingJson;
  readonly context?: readonly SelfDescribingJson[];
}

/** Options of `enableActivityTracking`: page pings (`e=pp`) with scroll offsets while the user is active. */
export interface ActivityTrackingOptions {
  /** Seconds after a page view before the first ping (sent only if the user was active since). */
  readonly minimumVisitLength: number;
  /** Seconds between later pings (each sent only if the user was active during the interval). */
  readonly heartbeatDelay: number;
}

/** Options of `enableLinkClickTracking`. */
export interface LinkClickTrackingOptions {
  /** Also send the link's innerHTML as `elementContent`. @default false */
  readonly trackContent?: boolean;
  /** Track only links for which this returns true. @default every link */
  readonly filter?: (link: HTMLAnchorElement | HTMLAreaElement) => boolean;
  /** Entities attached to every link click. */
  readonly context?: readonly SelfDescribingJson[];
}

/** A tracker, as returned by `newTracker` (ESM) or addressed by namespace through `window.waymark`. */
export interface Tracker {
  /** Tracks a page view; starts a new page view id (the `web_page` entity) and restarts page pings. */
  trackPageView(event?: PageViewEvent): void;
  /** Tracks a structured event; `category` and `action` are required. */
  trackStructEvent(event: StructEvent): void;
  /** Tracks a self-describing event with optional entities. */
  trackSelfDescribingEvent(event: SelfDescribingEvent): void;
  /** Sends page pings while the user is active (mouse, keys, touch, scroll). */
  enableActivityTracking(options: ActivityTrackingOptions): void;
  /** Stops page pings. */
  disableActivityTracking(): void;
  /** Tracks clicks (and middle clicks) on links as `link_click` 1-0-1 self-describing events. */
  enableLinkClickTracking(options?: LinkClickTrackingOptions): void;
  /** Adds entities (static or generated per event) to every following event. */
  addGlobalContexts(contexts: readonly GlobalContext[]): void;
  /** Removes global contexts previously added (compared by identity). */
  removeGlobalContexts(contexts: readonly GlobalContext[]): void;
  /** Removes every global context. */
  clearGlobalContexts(): void;
  /** Sets the business user id (`uid`) of following events; null or undefined clears it. */
  setUserId(userId?: string | null): void;
  /** Anonymous mode: deletes the tracker's cookies and stored state, stops sending user and session ids, and
   *  marks POST requests with `SP-Anonymous: *` so the collector sets no cookie and drops the IP. */
  enableAnonymousTracking(): void;
  /** Leaves anonymous mode: following events carry a (new) domain user id and session again. */
  disableAnonymousTracking(): void;
  /** Stops all tracking (remembered in localStorage), drops queued events and deletes the tracker's cookies. */
  optOut(): void;
  /** Reverses `optOut`. */
  optIn(): void;
  /** Sends every queued event now, regardless of `bufferSize`. */
  flush(): void;
  /** The current domain user id (`duid`), or undefined in anonymous mode or before the first event. */
  getDomainUserId(): string | undefined;
  /** The id of the current page view (the `web_page` entity). */
  getPageViewId(): string;
}

/** Commands accepted by `window.waymark(...)`: `newTracker` plus every Tracker method by name. */
export type Commands = {
  newTracker: [namespace: string, collectorUrl: string, options?: TrackerOptions];
} & { [K in keyof Tracker]: Parameters<Tracker[K]> };

/** The global `window.waymark` function. A command may be suffixed `:ns1;ns2` to address some trackers only. */
export interface WaymarkFunction {
  <K extends keyof Commands>(command: K | `${K}:${string}`, ...args: Commands[K]): void;
  /** Commands queued by the loader snippet before the script arrived. */
  q?: unknown[][];
}
