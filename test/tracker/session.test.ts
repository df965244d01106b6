/** The Snowplow-compatible identity state (`_sp_id.<hash>` cookie) as a pure function. */
import { clientSession, nextIdState } from '../../tracker/session';

const ids = (): (() => string) => {
  let n = 0;
  return () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
};
const T0 = 1_700_000_000_000;

test('a first event creates the visitor and the first session', () => {
  const st = nextIdState(undefined, false, T0, 'e1', ids());
  expect(st).toEqual([
    '00000000-0000-4000-8000-000000000001', 1_700_000_000, 1, 1_700_000_000, '', '00000000-0000-4000-8000-000000000002', '', 'e1', T0, 1,
  ]);
  expect(st.join('.').split('.')).toHaveLength(10);
});

test('while the session lives, events count up and keep the first event', () => {
  const gen = ids();
  const a = nextIdState(undefined, false, T0, 'e1', gen);
  const b = nextIdState(a.join('.'), true, T0 + 5000, 'e2', gen);
  expect(b).toEqual([a[0], a[1], 1, 1_700_000_005, '', a[5], '', 'e1', T0, 2]);
});

test('after the timeout a new session starts: visit count, previous session and last visit move on', () => {
  const gen = ids();
  const a = nextIdState(undefined, false, T0, 'e1', gen);
  const b = nextIdState(a.join('.'), true, T0 + 10_000, 'e2', gen);
  const c = nextIdState(b.join('.'), false, T0 + 3_600_000, 'e3', gen);
  expect(c).toEqual([a[0], a[1], 2, 1_700_003_600, 1_700_000_010, '00000000-0000-4000-8000-000000000003', a[5], 'e3', T0 + 3_600_000, 1]);
});

test('reads a cookie written by Snowplow JavaScript tracker v3', () => {
  // duid.createTs.visitCount.nowTs.lastVisitTs.sessionId.previousSessionId.firstEventId.firstEventTsMs.eventIndex
  const sp = 'b9e3c5a2-5d3e-4c5b-9a0e-1f2d3c4b5a69.1690000000.7.1700000000.1699000000.c1c2c3c4-0000-4000-8000-000000000001.p1p2p3p4-0000-4000-8000-000000000002.f1f2f3f4-0000-4000-8000-000000000003.1699999999000.12';
  const st = nextIdState(sp, true, T0, 'e', ids());
  expect(st).toEqual([
    'b9e3c5a2-5d3e-4c5b-9a0e-1f2d3c4b5a69', 1690000000, 7, 1_700_000_000, 1699000000,
    'c1c2c3c4-0000-4000-8000-000000000001', 'p1p2p3p4-0000-4000-8000-000000000002',
    'f1f2f3f4-0000-4000-8000-000000000003', 1699999999000, 13,
  ]);
  // Older v2 cookies have fewer fields and 'undefined' placeholders.
  const v2 = nextIdState('abcdef0123456789.1690000000.3.1690000500.1689000000.undefined', true, T0, 'e', ids());
  expect(v2.slice(0, 3)).toEqual(['abcdef0123456789', 1690000000, 4]);
  expect(v2[5]).toBe('00000000-0000-4000-8000-000000000001');
});

test('a damaged cookie does not break tracking', () => {
  const st = nextIdState('..x.y.z', true, T0, 'e1', ids());
  expect(st[0]).toBe('00000000-0000-4000-8000-000000000001');
  expect(st[1]).toBe(1_700_000_000);
  expect(st[2]).toBe(1);
  expect(st[9]).toBe(1);
});

test('client_session 1-0-2 entity', () => {
  const st = nextIdState(undefined, false, T0, 'e1', ids());
  expect(clientSession(st, 'LOCAL_STORAGE')).toEqual({
    userId: st[0],
    sessionId: st[5],
    sessionIndex: 1,
    eventIndex: 1,
    previousSessionId: null,
    storageMechanism: 'LOCAL_STORAGE',
    firstEventId: 'e1',
    firstEventTimestamp: new Date(T0).toISOString(),
  });
});
