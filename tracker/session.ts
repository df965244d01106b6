/**
 * Snowplow-compatible first-party identity state, as a pure function over the `_sp_id.<hash>` cookie value.
 *
 * The cookie value is ten dot-separated fields (the format Snowplow's JavaScript tracker v3/v4 writes, so a site
 * that switches trackers keeps its visitors and sessions):
 *   domainUserId . createTs . visitCount . nowTs . lastVisitTs . sessionId . previousSessionId
 *   . firstEventId . firstEventTsMs . eventIndex
 * `createTs`, `nowTs` and `lastVisitTs` are seconds since the epoch, `firstEventTsMs` is milliseconds. The session
 * itself is alive while the `_sp_ses.<hash>` marker (a cookie with the session timeout as lifetime) exists.
 */

/** Parsed identity state; the indexes match the cookie's fields. */
export type IdState = [
  domainUserId: string,
  createTs: number,
  visitCount: number,
  nowTs: number,
  lastVisitTs: number | '',
  sessionId: string,
  previousSessionId: string,
  firstEventId: string,
  firstEventTs: number | '',
  eventIndex: number,
];

/**
 * The identity state after one more event: reads `raw` (the cookie value, possibly absent or damaged), starts a
 * new session when `alive` is false (or there is none yet), records the session's first event and counts it.
 * @param now the event's device timestamp in ms; @param eid the event id; @param newId a UUID factory.
 */
export function nextIdState(raw: string | undefined, alive: boolean, now: number, eid: string, newId: () => string): IdState {
  const f = (raw || '').split('.').map((v) => (v == 'undefined' || v == 'null' ? '' : v));
  const num = (i: number, d: number): number => (/^\d+$/.test(f[i] || '') ? +f[i] : d);
  const s = Math.round(now / 1000);
  const st: IdState = [
    f[0] || newId(),
    num(1, s),
    num(2, 0),
    num(3, s),
    num(4, 0) || '',
    f[5] || '',
    f[6] || '',
    f[7] || '',
    num(8, 0) || '',
    num(9, 0),
  ];
  if (!alive || !st[5]) {
    // A new session: the old one becomes the previous, its last activity the last visit time.
    if (st[5]) st[4] = st[3];
    st[6] = st[5];
    st[2]++;
    st[5] = newId();
    st[7] = '';
    st[8] = '';
    st[9] = 0;
  }
  if (!st[9]) {
    st[7] = eid;
    st[8] = now;
  }
  st[9]++;
  st[3] = s;
  return st;
}

/** The tp2 `client_session` entity data (iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-2). */
export function clientSession(st: IdState, storage: 'COOKIE_1' | 'LOCAL_STORAGE') {
  return {
    userId: st[0],
    sessionId: st[5],
    sessionIndex: st[2],
    eventIndex: st[9],
    previousSessionId: st[6] || null,
    storageMechanism: storage,
    firstEventId: st[7] || null,
    firstEventTimestamp: st[8] ? new Date(st[8]).toISOString() : null,
  };
}
