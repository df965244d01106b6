/**
 * The page and scenario of the browser compatibility suite: a shop page with a link, a form and a button, the
 * tracker bundle built from browser-entry.ts, and what a visitor does there.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Page } from 'playwright-core';

const HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Compat shop</title><script src="/compat-tracker.js"></script></head>
<body style="height: 3000px">
  <h1>Compat shop</h1>
  <a id="docs" class="nav main" href="#docs-section">Docs</a>
  <form id="signup" class="wide" onsubmit="event.preventDefault()">
    <input id="email" name="email" type="email" class="field">
    <select id="plan" name="plan"><option value="free">free</option><option value="pro">pro</option></select>
    <input id="send" type="submit" value="Sign up">
  </form>
  <button id="buy" class="cta big">Buy now</button>
  <div id="docs-section">Docs</div>
</body></html>
`;

/** Builds the tracker bundle and writes the page into a new folder (the local bundle's site folder). */
export async function makeSite(): Promise<{ dir: string; remove(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'waymark-compat-site-'));
  const out = await build({ entryPoints: [join(__dirname, 'browser-entry.ts')], bundle: true, format: 'iife', platform: 'browser', target: 'es2017', write: false, logLevel: 'silent' });
  writeFileSync(join(dir, 'compat-tracker.js'), out.outputFiles[0].text);
  writeFileSync(join(dir, 'compat.html'), HTML);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

const PRODUCT = { id: 'MUG-1', name: 'Blue mug', category: 'kitchen/mugs', price: 12.5, currency: 'EUR', brand: 'Acme', variant: 'blue', quantity: 2, size: 'L', list_price: 15, inventory_status: 'in stock', position: 1 };
export const ECOMMERCE = { PRODUCT };

/** Starts the tracker in the page and tracks every API event (the interactions come from the test). */
export async function trackApiEvents(page: Page, collector: string, method: 'post' | 'get'): Promise<void> {
  await page.evaluate(({ collector, method, product }) => {
    const w = window as any;
    document.cookie = '_ga=GA1.1.1234567890.1700000000; path=/';
    document.cookie = '_ga_ABC123=GS1.1.1700000000.1.1.1700000100.0.0.0; path=/';
    w.spStart(collector, method);
    const sp = w.sp;
    sp.enableActivityTracking({ minimumVisitLength: 1, heartbeatDelay: 1 });
    sp.enableLinkClickTracking({ pseudoClicks: true, trackContent: true });
    sp.enableFormTracking();
    sp.enableButtonClickTracking();
    sp.setPageType({ type: 'product', language: 'en', locale: 'en-GB' });
    sp.setEcommerceUser({ id: 'user-9', is_guest: false, email: 'a@example.com' });
    sp.setUserId('user-9');
    sp.trackPageView({ title: 'Compat shop' });
    sp.trackStructEvent({ category: 'shop', action: 'like', label: 'mug', property: 'hearts', value: 3 });
    sp.trackSelfDescribingEvent({ event: { schema: 'iglu:com.snowplowanalytics.snowplow/web_vitals/jsonschema/1-0-0', data: { lcp: 1200.5, cls: 0.01, navigationType: 'navigate' } } });
    sp.trackSiteSearch({ terms: ['blue', 'mug'], filters: { colour: 'blue' }, totalResults: 14, pageResults: 10 });
    sp.trackSocialInteraction({ action: 'share', network: 'mastodon', target: 'mug' });
    sp.trackTiming({ category: 'load', variable: 'hero', timing: 321, label: 'img' });
    sp.trackLinkClick({ targetUrl: 'https://shop.example.com/manual', elementId: 'manual' });
    sp.trackButtonClick({ label: 'Manual button', id: 'manual-btn' });
    sp.trackProductView(product);
    sp.trackAddToCart({ products: [product], total_value: 25, currency: 'EUR' });
    sp.trackRemoveFromCart({ products: [product], total_value: 0, currency: 'EUR' });
    sp.trackProductListView({ products: [product], name: 'recommended' });
    sp.trackProductListClick({ product, name: 'recommended' });
    sp.trackPromotionView({ id: 'promo-1', name: 'Summer', product_ids: ['MUG-1'], position: 1, creative_id: 'banner-a', type: 'banner', slot: 'top' });
    sp.trackPromotionClick({ id: 'promo-1', name: 'Summer' });
    sp.trackCheckoutStep({ step: 2, shipping_postcode: '10115', billing_postcode: '10115', shipping_full_address: 'Street 1, Berlin', delivery_provider: 'dhl', delivery_method: 'express', coupon_code: 'SUMMER', account_type: 'guest', payment_method: 'card', proof_of_payment: 'invoice', marketing_opt_in: true });
    sp.trackTransaction({ transaction_id: 'T-1', revenue: 25, currency: 'EUR', payment_method: 'card', total_quantity: 2, tax: 4, shipping: 3.5, discount_code: 'SUMMER', discount_amount: 2, credit_order: false, products: [product] });
    sp.trackRefund({ transaction_id: 'T-1', currency: 'EUR', refund_amount: 12.5, refund_reason: 'broken', products: [product] });
    sp.trackTransactionError({ error_code: 'E42', error_shortcode: 'declined', error_description: 'Card declined', error_type: 'hard', resolution: 'retry', transaction: { transaction_id: 'T-2', revenue: 25, currency: 'EUR', payment_method: 'card', total_quantity: 2 } });
  }, { collector, method, product: PRODUCT });
}

/** What a visitor does: follows the in-page link, fills and submits the form, clicks the button. */
export async function interact(page: Page): Promise<void> {
  await page.click('#docs');
  await page.focus('#email');
  await page.fill('#email', 'a@example.com');
  await page.selectOption('#plan', 'pro');
  await page.click('#send');
  await page.click('#buy');
}
