/**
 * The public types: `npm run check` type-checks this file, so a wrong command name or argument for
 * `window.waymark(...)` is a compile error (the @ts-expect-error lines fail the check if they stop erroring).
 */
import type { Tracker, WaymarkFunction } from '../../tracker';

test('window.waymark commands are typed like the Tracker methods', () => {
  const calls: unknown[][] = [];
  const waymark = ((...args: unknown[]) => void calls.push(args)) as WaymarkFunction;
  waymark('newTracker', 'sp', 'https://c.example.com', { appId: 'shop', spaPageViews: true, contexts: { session: true } });
  waymark('trackPageView');
  waymark('trackPageView:sp', { title: 'Home' });
  waymark('trackStructEvent', { category: 'c', action: 'a', value: 1 });
  waymark('trackSelfDescribingEvent', { event: { schema: 'iglu:a/b/jsonschema/1-0-0', data: {} } });
  waymark('enableActivityTracking', { minimumVisitLength: 10, heartbeatDelay: 10 });
  waymark('addGlobalContexts', [() => null]);
  // @ts-expect-error unknown command
  waymark('trackNothing');
  // @ts-expect-error structured events need an action
  waymark('trackStructEvent', { category: 'c' });
  // @ts-expect-error options are checked
  waymark('newTracker', 'sp', 'https://c.example.com', { eventMethod: 'put' });
  expect(calls).toHaveLength(10);
  const methods: (keyof Tracker)[] = ['trackPageView', 'flush', 'optOut'];
  expect(methods).toHaveLength(3);
});
