/**
 * The field-by-field expectations on the rows of the demo scenario, shared by the in-process and Pub/Sub tests:
 * both modes run the same shipped UDF, so they must produce the same rows.
 */
import { DemoResult, GoodEvent, UUID } from './support';
import { paramsOf } from '../helpers/payload';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function contextOf(e: GoodEvent, column: string): any[] {
  const v = e.event[column];
  expect(Array.isArray(v)).toBe(true);
  return v as any[];
}

export function expectDemoRows(r: DemoResult, base: string, port: number): void {
  // The page view: URL components, ids, enrichments, versions, and its two entities.
  const pv = r.pageView;
  expect(pv.eventType).toBe('page_view');
  expect(pv.schema).toBe('iglu:com.snowplowanalytics.snowplow/page_view/jsonschema/1-0-0');
  expect(pv.contexts).toEqual(['contexts_com_snowplowanalytics_snowplow_client_session_1', 'contexts_com_snowplowanalytics_snowplow_web_page_1']);
  expect(pv.event).toMatchObject({
    app_id: 'waymark-demo',
    platform: 'web',
    event: 'page_view',
    event_vendor: 'com.snowplowanalytics.snowplow',
    event_name: 'page_view',
    event_format: 'jsonschema',
    event_version: '1-0-0',
    name_tracker: 'sp',
    page_url: r.pageUrl,
    page_title: 'Waymark demo shop',
    page_urlscheme: 'http',
    page_urlhost: '127.0.0.1',
    page_urlport: port,
    page_urlpath: '/',
    page_urlquery: 'pings=1,1',
    domain_sessionidx: 1,
    user_ipaddress: '127.0.0.x',
    br_lang: 'en-US',
  });
  expect(pv.event.page_urlfragment).toBeUndefined();
  for (const id of ['event_id', 'domain_userid', 'domain_sessionid', 'network_userid']) expect([id, pv.event[id]]).toEqual([id, expect.stringMatching(UUID)]);
  for (const t of ['collector_tstamp', 'dvce_created_tstamp', 'dvce_sent_tstamp', 'derived_tstamp', 'etl_tstamp']) expect([t, pv.event[t]]).toEqual([t, expect.stringMatching(ISO)]);
  expect(pv.event.v_collector).toMatch(/^waymark-collector\/\d+\.\d+\.\d+/);
  expect(pv.event.v_etl).toMatch(/^waymark-enrich-\d+\.\d+\.\d+/);
  expect(pv.event.v_tracker).toMatch(/^js-/);
  expect(pv.event.useragent).toMatch(/Chrome\//);
  expect(pv.event.event_fingerprint).toMatch(/^[0-9a-f]{32}$/); // MD5 by default
  const [webPage] = contextOf(pv, 'contexts_com_snowplowanalytics_snowplow_web_page_1');
  expect(webPage).toEqual({ id: expect.stringMatching(UUID) });
  const sessions = contextOf(pv, 'contexts_com_snowplowanalytics_snowplow_client_session_1');
  expect(sessions).toHaveLength(1);
  expect(sessions[0]).toMatchObject({
    user_id: pv.event.domain_userid,
    session_id: pv.event.domain_sessionid,
    session_index: 1,
    event_index: 1,
    first_event_id: pv.event.event_id,
  });
  // The first session has no previous one (null, or left out as BigQuery NULL).
  expect(sessions[0].previous_session_id ?? null).toBeNull();

  // Page ping: the same page view (web_page id), scroll offsets.
  expect(r.ping.event).toMatchObject({ event: 'page_ping', event_name: 'page_ping', page_url: r.pageUrl, domain_sessionid: pv.event.domain_sessionid });
  expect(contextOf(r.ping, 'contexts_com_snowplowanalytics_snowplow_web_page_1')).toEqual([webPage]);
  for (const k of ['pp_xoffset_min', 'pp_xoffset_max', 'pp_yoffset_min', 'pp_yoffset_max']) expect([k, typeof r.ping.event[k]]).toEqual([k, 'number']);

  // The self-describing event and its entity, with snake_cased property names.
  expect(r.buttonClick).toMatchObject({ eventType: 'unstruct', eventName: 'button_click', schema: 'iglu:io.waymark.example/button_click/jsonschema/1-0-1' });
  expect(r.buttonClick.contexts).toContain('contexts_io_waymark_example_product_1');
  expect(r.buttonClick.event.unstruct_event_io_waymark_example_button_click_1).toEqual({ button_id: 'add-to-basket', label: 'Add to basket', position: 0 });
  expect(r.buttonClick.event.contexts_io_waymark_example_product_1).toEqual([{ sku: 'WM-001', name: 'Waymark mug', price: 9.5, currency: 'EUR' }]);

  // The structured event.
  expect(r.structEvent.event).toMatchObject({ event: 'struct', se_category: 'product', se_action: 'like', se_label: 'WM-001', se_value: 1 });

  // The link click (Snowplow's link_click schema) and the page view of the page it led to, in the same session.
  expect(r.linkClick.schema).toBe('iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1');
  expect(r.linkClick.event.unstruct_event_com_snowplowanalytics_snowplow_link_click_1).toMatchObject({ target_url: `${base}/about.html`, element_id: 'next-page' });
  const second = r.secondPageView.event;
  expect(second).toMatchObject({
    page_urlpath: '/about.html',
    page_title: 'About the Waymark demo',
    page_referrer: r.pageUrl,
    refr_urlpath: '/',
    refr_medium: 'internal',
    domain_userid: pv.event.domain_userid,
    domain_sessionid: pv.event.domain_sessionid,
    domain_sessionidx: 1,
  });
  expect(contextOf(r.secondPageView, 'contexts_com_snowplowanalytics_snowplow_web_page_1')[0].id).not.toBe(webPage.id);

  // Every good row: one browser, one cookie, one session; no event twice.
  const ids = r.good.map((g) => g.event.event_id);
  expect(new Set(ids).size).toBe(ids.length);
  expect(new Set(r.good.map((g) => g.event.network_userid))).toEqual(new Set([pv.event.network_userid]));
  expect(new Set(r.good.map((g) => g.event.domain_sessionid))).toEqual(new Set([pv.event.domain_sessionid]));
  const names = r.good.map((g) => g.eventName);
  expect(names.filter((n) => n === 'page_view')).toHaveLength(2);
  expect(names.filter((n) => n === 'button_click')).toHaveLength(1);
  expect(names.filter((n) => n === 'link_click')).toHaveLength(1);
  expect(names.filter((n) => n === 'event')).toHaveLength(1);
  expect(names.filter((n) => n === 'page_ping').length).toBeGreaterThanOrEqual(1);
  expect(names.filter((n) => !['page_view', 'button_click', 'link_click', 'event', 'page_ping'].includes(n))).toEqual([]);

  // The invalid event: exactly one bad row, saying what is wrong, with the payload kept for replay.
  expect(r.bad).toHaveLength(1);
  const bad = r.invalid;
  expect(bad).toMatchObject({ type: 'schema_violations', processor: 'waymark-enrich' });
  expect(bad.errors).toEqual([
    'iglu:io.waymark.example/button_click/jsonschema/1-0-1 field ue_pr at $ (required): missing required property "buttonId"',
    'iglu:io.waymark.example/button_click/jsonschema/1-0-1 field ue_pr at $.position (minimum): expected a number >= 0, found number -1',
  ]);
  expect(bad.badRow.schema).toBe('iglu:io.waymark/bad_row/jsonschema/1-0-0');
  expect(bad.badRow.data.failure.messages[0]).toEqual({
    field: 'ue_pr',
    schemaKey: 'iglu:io.waymark.example/button_click/jsonschema/1-0-1',
    path: '$',
    keyword: 'required',
    message: 'missing required property "buttonId"',
  });
  const original = bad.badRow.data.payload;
  expect(original.schema).toBe('iglu:io.waymark/collector_payload/jsonschema/1-0-1');
  expect(paramsOf(original)).toMatchObject({ e: 'ue', aid: 'waymark-demo', url: r.pageUrl, sid: pv.event.domain_sessionid });
  expect(JSON.parse(paramsOf(original).ue_pr).data).toEqual({ schema: 'iglu:io.waymark.example/button_click/jsonschema/1-0-1', data: { label: 'Broken button', position: -1 } });
}
