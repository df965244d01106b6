/**
 * Compatibility: Snowplow's browser tracker (`@snowplow/browser-tracker` 4.6.8) in real Chromium with the plugins
 * that run in a page (snowplow-ecommerce, site tracking, form tracking, link clicks, button clicks, timezone, GA
 * cookies, client hints, performance timing, performance navigation timing) and the tracker's own entities
 * (web page, session, browser, application), POST and GET, against the shipped local bundle (collector bundle and
 * the shipped UDF built for the built-in schemas only). Every event is a good row with its fields; none is bad.
 * The error-tracking plugin is left out: its last release (4.3.1) requires the browser tracker ~4.3.1.
 */
import type { Browser } from 'playwright-core';
import { getJson, launchChromium, LocalInstance, sleep, startLocalBundle, UUID, waitFor } from '../local/support';
import { buildRuntimeBundle } from '../helpers/bundles';
import { ECOMMERCE, interact, makeSite, trackApiEvents } from './browser-page';

type Row = Record<string, any>;

const SP = 'com.snowplowanalytics.snowplow';
const ACTIONS = ['product_view', 'add_to_cart', 'remove_from_cart', 'list_view', 'list_click', 'promo_view', 'promo_click', 'checkout_step', 'transaction', 'refund', 'trns_error'];
const product = {
  id: 'MUG-1', name: 'Blue mug', category: 'kitchen/mugs', price: 12.5, currency: 'EUR', brand: 'Acme', variant: 'blue', quantity: 2, size: 'L', list_price: 15, inventory_status: 'in stock', position: 1,
};

let site: { dir: string; remove(): void };
let local: LocalInstance;
let browser: Browser;
beforeAll(async () => {
  site = await makeSite();
  local = await startLocalBundle([], { WAYMARK_LOCAL_UDF: await buildRuntimeBundle('udf'), WAYMARK_LOCAL_SITE: site.dir });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await local?.proc.killGroup();
  site?.remove();
});

it('the page uses the product the assertions expect', () => {
  expect(ECOMMERCE.PRODUCT).toEqual(product);
});

describe.each(['post', 'get'] as const)('browser tracker over %s', (method) => {
  let good: Row[];
  let bad: unknown[];
  const named = (name: string): Row[] => good.filter((r) => r.event_name === name);
  const one = (name: string, pick: (r: Row) => boolean = () => true): Row => {
    const found = named(name).filter(pick);
    expect({ name, count: found.length }).toEqual({ name, count: 1 });
    return found[0];
  };
  const action = (type: string): Row => one('snowplow_ecommerce_action', (r) => r.unstruct_event_com_snowplowanalytics_snowplow_ecommerce_snowplow_ecommerce_action_1.type === type);

  beforeAll(async () => {
    await getJson(`${local.base}/micro/reset`, { method: 'POST' });
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${local.base}/compat.html`);
      await trackApiEvents(page, local.base, method);
      await interact(page);
      // Page pings need activity within a heartbeat (1 s here).
      await waitFor('a page ping', async () => {
        await page.mouse.move(100 + Math.random() * 300, 100 + Math.random() * 300);
        await page.mouse.wheel(0, 60);
        await sleep(200);
        // A ping after the page scrolled (an early one may carry zero offsets, which the tracker leaves out).
        return (await getJson<Array<{ event: Row }>>(`${local.base}/micro/good?event_type=page_ping`)).find((g) => g.event.pp_yoffset_max > 0);
      }, 30000);
      const wanted = ['page_view', 'event', 'web_vitals', 'site_search', 'social_interaction', 'timing', 'link_click', 'button_click', 'focus_form', 'change_form', 'submit_form', 'snowplow_ecommerce_action'];
      await waitFor('every event', async () => {
        const rows = (await getJson<Array<{ event: Row }>>(`${local.base}/micro/good`)).map((g) => g.event);
        const actions = rows.filter((r) => r.event_name === 'snowplow_ecommerce_action').length;
        return wanted.every((w) => rows.some((r) => r.event_name === w)) && actions >= ACTIONS.length && rows.filter((r) => r.event_name === 'change_form').length >= 2 && rows.filter((r) => r.event_name === 'button_click').length >= 2;
      }, 30000);
    } finally {
      await context.close();
    }
    good = (await getJson<Array<{ event: Row }>>(`${local.base}/micro/good`)).map((g) => g.event);
    bad = await getJson(`${local.base}/micro/bad`);
  });

  it('makes no bad row', () => {
    expect(bad).toEqual([]);
  });

  it('every row has the tracker\'s atomic fields and the entities of the tracker and its plugins', () => {
    // 1 page view, pings, 1 struct, 4 self-describing, 2 link and 2 button clicks, focus/change/submit, 11 ecommerce.
    expect(good.length).toBeGreaterThanOrEqual(27);
    for (const r of good) {
      expect(r).toMatchObject({
        app_id: 'web-shop', platform: 'web', name_tracker: 'sp', v_tracker: 'js-4.6.8', user_id: 'user-9',
        event_id: expect.stringMatching(UUID), domain_userid: expect.stringMatching(UUID), domain_sessionid: expect.stringMatching(UUID), domain_sessionidx: 1,
        network_userid: expect.stringMatching(UUID), page_urlpath: '/compat.html', useragent: expect.stringContaining('Chrome'),
        br_viewwidth: 1280, br_viewheight: 720, dvce_screenwidth: 1280, doc_charset: 'UTF-8', br_lang: 'en-US',
        // Timezone plugin (tz), ga-cookies, client hints, performance timing plugins; the tracker's own entities.
        os_timezone: expect.any(String),
        contexts_com_snowplowanalytics_snowplow_web_page_1: [{ id: expect.stringMatching(UUID) }],
        contexts_com_snowplowanalytics_snowplow_client_session_1: [{ session_id: r.domain_sessionid, session_index: 1, user_id: r.domain_userid, storage_mechanism: 'COOKIE_1', event_index: expect.any(Number) }],
        contexts_com_snowplowanalytics_snowplow_browser_context_2: [{ viewport: '1280x720', resolution: expect.stringMatching(/^\d+x\d+$/), cookies_enabled: true, browser_language: 'en-US', document_language: 'en' }],
        contexts_com_snowplowanalytics_snowplow_application_1: [{ version: '3.4.5' }],
        contexts_com_google_analytics_cookies_1: [{ _ga: 'GA1.1.1234567890.1700000000' }],
        contexts_org_ietf_http_client_hints_1: [{ is_mobile: false, brands: expect.arrayContaining([expect.objectContaining({ brand: 'Chromium' })]) }],
        contexts_org_w3_performancetiming_1: [expect.objectContaining({ navigation_start: expect.any(Number), response_end: expect.any(Number) })],
        contexts_org_w3_performancenavigationtiming_1: [expect.objectContaining({ type: 'navigate', next_hop_protocol: 'http/1.1', response_end: expect.any(Number) })],
        contexts_com_snowplowanalytics_snowplow_ecommerce_page_1: [{ type: 'product', language: 'en', locale: 'en-GB' }],
        contexts_com_snowplowanalytics_snowplow_ecommerce_user_1: [{ id: 'user-9', is_guest: false, email: 'a@example.com' }],
      });
    }
  });

  it('page view and page pings', () => {
    expect(one('page_view')).toMatchObject({ event: 'page_view', page_title: 'Compat shop', event_vendor: SP, event_version: '1-0-0', page_urlhost: '127.0.0.1', page_urlport: local.port, doc_height: expect.any(Number) });
    for (const ping of named('page_ping')) expect(ping).toMatchObject({ event: 'page_ping', event_vendor: SP, event_version: '1-0-0' });
    const scrolled = named('page_ping').find((p) => p.pp_yoffset_max !== undefined);
    expect(scrolled).toMatchObject({ pp_yoffset_max: expect.any(Number) });
    expect(scrolled!.pp_yoffset_max).toBeGreaterThan(0);
  });

  it('structured and self-describing events', () => {
    expect(one('event')).toMatchObject({ event: 'struct', event_vendor: 'com.google.analytics', se_category: 'shop', se_action: 'like', se_label: 'mug', se_property: 'hearts', se_value: 3 });
    expect(one('web_vitals')).toMatchObject({ event: 'unstruct', unstruct_event_com_snowplowanalytics_snowplow_web_vitals_1: { lcp: 1200.5, cls: 0.01, navigation_type: 'navigate' } });
  });

  it('site tracking: site search, social interaction, timing', () => {
    expect(one('site_search').unstruct_event_com_snowplowanalytics_snowplow_site_search_1).toMatchObject({ terms: ['blue', 'mug'], total_results: 14, page_results: 10 });
    expect(one('social_interaction').unstruct_event_com_snowplowanalytics_snowplow_social_interaction_1).toEqual({ action: 'share', network: 'mastodon', target: 'mug' });
    expect(one('timing').unstruct_event_com_snowplowanalytics_snowplow_timing_1).toEqual({ category: 'load', variable: 'hero', timing: 321, label: 'img' });
  });

  it('link clicks: automatic and manual', () => {
    const link = (r: Row): Row => r.unstruct_event_com_snowplowanalytics_snowplow_link_click_1;
    expect(link(one('link_click', (r) => link(r).element_id === 'docs'))).toMatchObject({
      element_id: 'docs', element_classes: ['nav', 'main'], target_url: `${local.base}/compat.html#docs-section`, element_content: 'Docs',
    });
    expect(link(one('link_click', (r) => link(r).element_id === 'manual'))).toEqual({ element_id: 'manual', target_url: 'https://shop.example.com/manual' });
  });

  it('button clicks: automatic and manual', () => {
    const button = (r: Row): Row => r.unstruct_event_com_snowplowanalytics_snowplow_button_click_1;
    expect(button(one('button_click', (r) => button(r).id === 'buy'))).toMatchObject({ id: 'buy', label: 'Buy now', classes: ['cta', 'big'] });
    expect(button(one('button_click', (r) => button(r).id === 'manual-btn'))).toEqual({ id: 'manual-btn', label: 'Manual button' });
  });

  it('form tracking: focus, change, submit', () => {
    const focus = named('focus_form').map((r) => r.unstruct_event_com_snowplowanalytics_snowplow_focus_form_1);
    expect(focus).toEqual(expect.arrayContaining([expect.objectContaining({ form_id: 'signup', element_id: 'email', node_name: 'INPUT', element_type: 'email', element_classes: ['field'] })]));
    const changes = named('change_form').map((r) => r.unstruct_event_com_snowplowanalytics_snowplow_change_form_1);
    expect(changes).toEqual(expect.arrayContaining([
      expect.objectContaining({ form_id: 'signup', element_id: 'email', node_name: 'INPUT', type: 'email', value: 'a@example.com' }),
      expect.objectContaining({ form_id: 'signup', element_id: 'plan', node_name: 'SELECT', value: 'pro' }),
    ]));
    const submit = one('submit_form').unstruct_event_com_snowplowanalytics_snowplow_submit_form_1;
    expect(submit).toMatchObject({ form_id: 'signup', form_classes: ['wide'] });
    expect(submit.elements).toEqual(expect.arrayContaining([
      expect.objectContaining({ name: 'email', value: 'a@example.com', node_name: 'INPUT', type: 'email' }),
      expect.objectContaining({ name: 'plan', value: 'pro', node_name: 'SELECT' }),
    ]));
  });

  it('snowplow-ecommerce: every action with its entities', () => {
    const EC = 'contexts_com_snowplowanalytics_snowplow_ecommerce_';
    for (const type of ACTIONS) expect(action(type)).toMatchObject({ event: 'unstruct', event_vendor: 'com.snowplowanalytics.snowplow.ecommerce', event_version: '1-0-2' });
    expect(action('product_view')[`${EC}product_1`]).toEqual([product]);
    expect(action('add_to_cart')).toMatchObject({ [`${EC}product_1`]: [product], [`${EC}cart_1`]: [{ total_value: 25, currency: 'EUR' }] });
    expect(action('remove_from_cart')).toMatchObject({ [`${EC}cart_1`]: [{ total_value: 0, currency: 'EUR' }] });
    expect(action('list_view')).toMatchObject({ unstruct_event_com_snowplowanalytics_snowplow_ecommerce_snowplow_ecommerce_action_1: { type: 'list_view', name: 'recommended' }, [`${EC}product_1`]: [product] });
    expect(action('list_click')).toMatchObject({ unstruct_event_com_snowplowanalytics_snowplow_ecommerce_snowplow_ecommerce_action_1: { type: 'list_click', name: 'recommended' } });
    expect(action('promo_view')[`${EC}promotion_1`]).toEqual([{ id: 'promo-1', name: 'Summer', product_ids: ['MUG-1'], position: 1, creative_id: 'banner-a', type: 'banner', slot: 'top' }]);
    expect(action('promo_click')[`${EC}promotion_1`]).toEqual([{ id: 'promo-1', name: 'Summer' }]);
    expect(action('checkout_step')[`${EC}checkout_step_1`]).toEqual([{
      step: 2, shipping_postcode: '10115', billing_postcode: '10115', shipping_full_address: 'Street 1, Berlin', delivery_provider: 'dhl', delivery_method: 'express', coupon_code: 'SUMMER', account_type: 'guest', payment_method: 'card', proof_of_payment: 'invoice', marketing_opt_in: true,
    }]);
    expect(action('transaction')[`${EC}transaction_1`]).toEqual([{ transaction_id: 'T-1', revenue: 25, currency: 'EUR', payment_method: 'card', total_quantity: 2, tax: 4, shipping: 3.5, discount_code: 'SUMMER', discount_amount: 2, credit_order: false }]);
    expect(action('refund')).toMatchObject({ [`${EC}refund_1`]: [{ transaction_id: 'T-1', currency: 'EUR', refund_amount: 12.5, refund_reason: 'broken' }], [`${EC}product_1`]: [product] });
    expect(action('trns_error')).toMatchObject({
      [`${EC}transaction_error_1`]: [{ error_code: 'E42', error_shortcode: 'declined', error_description: 'Card declined', error_type: 'hard', resolution: 'retry' }],
      [`${EC}transaction_1`]: [{ transaction_id: 'T-2', revenue: 25, currency: 'EUR', payment_method: 'card', total_quantity: 2 }],
    });
  });
});

describe('an event whose schema the deployment lacks', () => {
  it('is a bad row that says how to add the schema, in the message and on the events page', async () => {
    await getJson(`${local.base}/micro/reset`, { method: 'POST' });
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${local.base}/compat.html`);
      await page.evaluate((collector) => {
        const w = window as any;
        w.spStart(collector, 'post');
        w.sp.trackSelfDescribingEvent({ event: { schema: 'iglu:com.acme/checkout_started/jsonschema/1-0-0', data: { step: 1 } } });
      }, local.base);
      const bad = await waitFor('the bad row', async () => (await getJson<Array<{ type: string; errors: string[] }>>(`${local.base}/micro/bad`))[0]);
      expect(bad.type).toBe('schema_violations');
      expect(bad.errors).toEqual([
        'iglu:com.acme/checkout_started/jsonschema/1-0-0 field ue_pr at $ (resolution): schema iglu:com.acme/checkout_started/jsonschema/1-0-0 is not in the registry: ' +
          'add it to a schema folder (SchemaRegistry schemaFolders, or npm start -- --schemas DIR) or list it in the resolver config ' +
          '("schemas" of the SchemaRegistry resolver or npm start -- --resolver FILE, fetched from your Iglu registries; npx waymark schemas pull)',
      ]);
      await page.goto(`${local.base}/micro/ui`);
      await page.waitForSelector('tr.row.bad');
      expect(await page.textContent('tr.row.bad')).toContain('npm start -- --schemas DIR');
      expect(await page.textContent('tr.row.bad')).toContain('npx waymark schemas pull');
    } finally {
      await context.close();
    }
  });
});
