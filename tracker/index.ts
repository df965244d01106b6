/**
 * Waymark web tracker, ESM API for bundlers:
 *
 *   import { newTracker } from 'waymark/tracker';
 *   const t = newTracker('sp', 'https://c.example.com', { appId: 'shop', spaPageViews: true });
 *   t.trackPageView();
 *
 * Sites without a bundler use the IIFE build `sp.js` through the async loader snippet (see ./snippet).
 */
export { newTracker } from './tracker';
export { loaderSnippet } from './snippet';
export { VERSION } from './version';
export type * from './types';
