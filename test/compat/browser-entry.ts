/**
 * The page script of the browser compatibility suite: Snowplow's browser tracker 4.6.8 with the plugins that run in a
 * page, bundled by the test (esbuild IIFE) and exposed as `window.sp`. `window.spStart(collector, method)` creates the
 * tracker; the test then calls the tracking functions and drives the page like a visitor.
 */
import * as tracker from '@snowplow/browser-tracker';
import * as ecommerce from '@snowplow/browser-plugin-snowplow-ecommerce';
import * as site from '@snowplow/browser-plugin-site-tracking';
import * as forms from '@snowplow/browser-plugin-form-tracking';
import * as links from '@snowplow/browser-plugin-link-click-tracking';
import * as buttons from '@snowplow/browser-plugin-button-click-tracking';
import { TimezonePlugin } from '@snowplow/browser-plugin-timezone';
import { GaCookiesPlugin } from '@snowplow/browser-plugin-ga-cookies';
import { ClientHintsPlugin } from '@snowplow/browser-plugin-client-hints';
import { PerformanceTimingPlugin } from '@snowplow/browser-plugin-performance-timing';
import { PerformanceNavigationTimingPlugin } from '@snowplow/browser-plugin-performance-navigation-timing';

const w = window as unknown as Record<string, unknown>;
w.sp = { ...tracker, ...ecommerce, ...site, ...forms, ...links, ...buttons };
w.spStart = (collector: string, method: 'post' | 'get'): void => {
  tracker.newTracker('sp', collector, {
    appId: 'web-shop',
    appVersion: '3.4.5',
    eventMethod: method,
    bufferSize: 1,
    contexts: { webPage: true, session: true, browser: true },
    plugins: [
      ecommerce.SnowplowEcommercePlugin(), site.SiteTrackingPlugin(), forms.FormTrackingPlugin(), links.LinkClickTrackingPlugin(),
      buttons.ButtonClickTrackingPlugin(), TimezonePlugin(), GaCookiesPlugin({ ga4: true, ua: true }), ClientHintsPlugin(true),
      PerformanceTimingPlugin(), PerformanceNavigationTimingPlugin(),
    ],
  });
};
