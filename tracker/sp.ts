/**
 * Entry of the IIFE build `sp.js`: installs `window.waymark(command, ...args)` and replays the commands the
 * loader snippet queued before the script arrived. `newTracker` creates a tracker by namespace; any other command
 * is a Tracker method, called on every tracker, or on some when suffixed `:ns1;ns2` (e.g. `trackPageView:sp`).
 * A failing command is reported on the console and does not stop the others.
 */
import { newTracker } from './tracker';
import type { Tracker, WaymarkFunction } from './types';

const trackers: Record<string, Tracker> = {};
const w = window as unknown as { waymark?: WaymarkFunction };

const run = (args: ArrayLike<unknown>): void => {
  const [command, ...rest] = Array.from(args) as [string, ...unknown[]];
  try {
    const [name, only] = String(command).split(':');
    if (name == 'newTracker') {
      const [ns, url, opts] = rest as Parameters<typeof newTracker>;
      if (trackers[ns]) throw Error('tracker "' + ns + '" exists already');
      trackers[ns] = newTracker(ns, url, opts);
      return;
    }
    for (const ns of only ? only.split(';') : Object.keys(trackers)) {
      const t = trackers[ns] as unknown as Record<string, (...a: unknown[]) => void>;
      if (!t) throw Error('no tracker "' + ns + '"; create it first with waymark("newTracker", "' + ns + '", url)');
      if (typeof t[name] != 'function') throw Error('unknown command "' + name + '"');
      t[name](...rest);
    }
  } catch (e) {
    console.error('waymark(' + JSON.stringify(command) + '):', e instanceof Error ? e.message : e);
  }
};

const queued = (w.waymark && w.waymark.q) || [];
w.waymark = function () {
  // eslint-disable-next-line prefer-rest-params
  run(arguments);
} as WaymarkFunction;
queued.forEach(run);
