/**
 * One event per `build*` export of Snowplow's Node tracker (`@snowplow/node-tracker` 4.8.0), plus self-describing
 * events with the schemas of the mobile trackers and plugins that cannot run here, and what each must enrich into.
 * The column names are BigQuery Loader's (`unstruct_event_<vendor>_<name>_<model>`, properties in snake_case).
 */
import * as snowplow from '@snowplow/node-tracker';

export interface NodeEvent {
  /** The builder (or what the event stands for). */
  readonly name: string;
  /** Tracks the event with `dtm` as its device timestamp (which tells the rows apart). */
  readonly track: (t: snowplow.Tracker, dtm: number) => void;
  /** Columns the good row must have (toMatchObject). */
  readonly expected: Record<string, unknown>;
}

const SP = 'iglu:com.snowplowanalytics.snowplow';
const MOBILE = 'iglu:com.snowplowanalytics.mobile';
const SCREEN_ID = '2b9d6a4e-8c1f-4e3a-9b7d-5f0e1c2a3b4d';
const SESSION_ID = '8c6f4b0e-1d2a-4c3b-9e8f-7a6b5c4d3e2f';

export const NODE_EVENTS: readonly NodeEvent[] = [
  {
    name: 'buildPageView',
    track: (t, dtm) => t.track(snowplow.buildPageView({ pageUrl: 'https://shop.example.com/p/mug?utm_source=news&utm_medium=email', pageTitle: 'Mug', referrer: 'https://www.bing.com/search?q=mug' }), undefined, dtm),
    expected: { event: 'page_view', event_name: 'page_view', page_urlhost: 'shop.example.com', page_urlpath: '/p/mug', page_title: 'Mug', mkt_source: 'news', mkt_medium: 'email', refr_medium: 'search', refr_source: 'Bing', refr_term: 'mug' },
  },
  {
    name: 'buildPagePing',
    track: (t, dtm) => t.track(snowplow.buildPagePing({ pageUrl: 'https://shop.example.com/p/mug', minXOffset: 1, maxXOffset: 10, minYOffset: 5, maxYOffset: 820 }), undefined, dtm),
    expected: { event: 'page_ping', event_name: 'page_ping', pp_xoffset_min: 1, pp_xoffset_max: 10, pp_yoffset_min: 5, pp_yoffset_max: 820 },
  },
  {
    name: 'buildStructEvent',
    track: (t, dtm) => t.track(snowplow.buildStructEvent({ category: 'shop', action: 'add', label: 'mug', property: 'qty', value: 2 }), undefined, dtm),
    expected: { event: 'struct', event_vendor: 'com.google.analytics', event_name: 'event', se_category: 'shop', se_action: 'add', se_label: 'mug', se_property: 'qty', se_value: 2 },
  },
  {
    name: 'buildEcommerceTransaction',
    track: (t, dtm) => t.track(snowplow.buildEcommerceTransaction({ orderId: 'o-1', total: 37.5, affiliation: 'web', tax: 5.99, shipping: 4.9, city: 'Berlin', state: 'BE', country: 'DE', currency: 'EUR' }), undefined, dtm),
    expected: { event: 'transaction', tr_orderid: 'o-1', tr_total: '37.5', tr_tax: '5.99', tr_shipping: '4.9', tr_affiliation: 'web', tr_city: 'Berlin', tr_country: 'DE', tr_currency: 'EUR' },
  },
  {
    name: 'buildEcommerceTransactionItem',
    track: (t, dtm) => t.track(snowplow.buildEcommerceTransactionItem({ orderId: 'o-1', sku: 'MUG-1', name: 'Mug', category: 'mugs', price: 12.5, quantity: 3, currency: 'EUR' }), undefined, dtm),
    expected: { event: 'transaction_item', ti_orderid: 'o-1', ti_sku: 'MUG-1', ti_name: 'Mug', ti_category: 'mugs', ti_price: '12.5', ti_quantity: 3, ti_currency: 'EUR' },
  },
  {
    name: 'buildSelfDescribingEvent',
    track: (t, dtm) => t.track(snowplow.buildSelfDescribingEvent({ event: { schema: `${SP}/timing/jsonschema/1-0-0`, data: { category: 'load', variable: 'map', timing: 350, label: 'tiles' } } }), undefined, dtm),
    expected: { event: 'unstruct', event_name: 'timing', unstruct_event_com_snowplowanalytics_snowplow_timing_1: { category: 'load', variable: 'map', timing: 350, label: 'tiles' } },
  },
  {
    name: 'buildScreenView',
    track: (t, dtm) => t.track(snowplow.buildScreenView({ name: 'Checkout', id: SCREEN_ID }), undefined, dtm),
    expected: { event: 'unstruct', event_vendor: 'com.snowplowanalytics.snowplow', event_name: 'screen_view', event_version: '1-0-0', unstruct_event_com_snowplowanalytics_snowplow_screen_view_1: { name: 'Checkout', id: SCREEN_ID } },
  },
  {
    name: 'buildLinkClick',
    track: (t, dtm) => t.track(snowplow.buildLinkClick({ targetUrl: 'https://shop.example.com/pricing', elementId: 'cta', elementClasses: ['btn'], elementTarget: '_blank', elementContent: 'Pricing' }), undefined, dtm),
    expected: { event_name: 'link_click', unstruct_event_com_snowplowanalytics_snowplow_link_click_1: { target_url: 'https://shop.example.com/pricing', element_id: 'cta', element_classes: ['btn'], element_target: '_blank', element_content: 'Pricing' } },
  },
  {
    name: 'buildAdImpression',
    track: (t, dtm) => t.track(snowplow.buildAdImpression({ impressionId: 'imp-1', costModel: 'cpm', cost: 0.5, targetUrl: 'https://ads.example.com/x', bannerId: 'b-1', zoneId: 'z-1', advertiserId: 'adv-1', campaignId: 'c-1' }), undefined, dtm),
    expected: { event_name: 'ad_impression', unstruct_event_com_snowplowanalytics_snowplow_ad_impression_1: { impression_id: 'imp-1', cost_model: 'cpm', cost: 0.5, target_url: 'https://ads.example.com/x', banner_id: 'b-1', zone_id: 'z-1', advertiser_id: 'adv-1', campaign_id: 'c-1' } },
  },
  {
    name: 'buildAdClick',
    track: (t, dtm) => t.track(snowplow.buildAdClick({ targetUrl: 'https://ads.example.com/x', clickId: 'clk-1', costModel: 'cpc', cost: 0.3, bannerId: 'b-1', zoneId: 'z-1', impressionId: 'imp-1', advertiserId: 'adv-1', campaignId: 'c-1' }), undefined, dtm),
    expected: { event_name: 'ad_click', unstruct_event_com_snowplowanalytics_snowplow_ad_click_1: { target_url: 'https://ads.example.com/x', click_id: 'clk-1', cost_model: 'cpc', cost: 0.3, banner_id: 'b-1', zone_id: 'z-1', impression_id: 'imp-1', advertiser_id: 'adv-1', campaign_id: 'c-1' } },
  },
  {
    name: 'buildAdConversion',
    track: (t, dtm) => t.track(snowplow.buildAdConversion({ conversionId: 'cv-1', costModel: 'cpa', cost: 10, category: 'signup', action: 'done', property: 'plan', initialValue: 99, advertiserId: 'adv-1', campaignId: 'c-1' }), undefined, dtm),
    expected: { event_name: 'ad_conversion', unstruct_event_com_snowplowanalytics_snowplow_ad_conversion_1: { conversion_id: 'cv-1', cost_model: 'cpa', cost: 10, category: 'signup', action: 'done', property: 'plan', initial_value: 99, advertiser_id: 'adv-1', campaign_id: 'c-1' } },
  },
  {
    name: 'buildSocialInteraction',
    track: (t, dtm) => t.track(snowplow.buildSocialInteraction({ action: 'like', network: 'facebook', target: 'post-42' }), undefined, dtm),
    expected: { event_name: 'social_interaction', unstruct_event_com_snowplowanalytics_snowplow_social_interaction_1: { action: 'like', network: 'facebook', target: 'post-42' } },
  },
  {
    name: 'buildAddToCart',
    track: (t, dtm) => t.track(snowplow.buildAddToCart({ sku: 'MUG-1', name: 'Mug', category: 'mugs', unitPrice: 12.5, quantity: 2, currency: 'EUR' }), undefined, dtm),
    expected: { event_name: 'add_to_cart', unstruct_event_com_snowplowanalytics_snowplow_add_to_cart_1: { sku: 'MUG-1', name: 'Mug', category: 'mugs', unit_price: 12.5, quantity: 2, currency: 'EUR' } },
  },
  {
    name: 'buildRemoveFromCart',
    track: (t, dtm) => t.track(snowplow.buildRemoveFromCart({ sku: 'MUG-1', name: 'Mug', category: 'mugs', unitPrice: 12.5, quantity: 1, currency: 'EUR' }), undefined, dtm),
    expected: { event_name: 'remove_from_cart', unstruct_event_com_snowplowanalytics_snowplow_remove_from_cart_1: { sku: 'MUG-1', unit_price: 12.5, quantity: 1, currency: 'EUR' } },
  },
  {
    name: 'buildFormFocusOrChange (change_form)',
    track: (t, dtm) => t.track(snowplow.buildFormFocusOrChange({ schema: 'change_form', formId: 'signup', elementId: 'email', nodeName: 'INPUT', type: 'email', elementClasses: ['field'], value: 'a@example.com' }), undefined, dtm),
    expected: { event_name: 'change_form', unstruct_event_com_snowplowanalytics_snowplow_change_form_1: { form_id: 'signup', element_id: 'email', node_name: 'INPUT', type: 'email', element_classes: ['field'], value: 'a@example.com' } },
  },
  {
    name: 'buildFormFocusOrChange (focus_form)',
    track: (t, dtm) => t.track(snowplow.buildFormFocusOrChange({ schema: 'focus_form', formId: 'signup', elementId: 'name', nodeName: 'TEXTAREA', value: null }), undefined, dtm),
    expected: { event_name: 'focus_form', unstruct_event_com_snowplowanalytics_snowplow_focus_form_1: { form_id: 'signup', element_id: 'name', node_name: 'TEXTAREA' } },
  },
  {
    name: 'buildFormSubmission',
    track: (t, dtm) => t.track(snowplow.buildFormSubmission({ formId: 'signup', formClasses: ['wide'], elements: [{ name: 'email', value: 'a@example.com', nodeName: 'INPUT', type: 'email' }, { name: 'plan', value: 'pro', nodeName: 'SELECT' }] }), undefined, dtm),
    expected: { event_name: 'submit_form', unstruct_event_com_snowplowanalytics_snowplow_submit_form_1: { form_id: 'signup', form_classes: ['wide'], elements: [{ name: 'email', value: 'a@example.com', node_name: 'INPUT', type: 'email' }, { name: 'plan', value: 'pro', node_name: 'SELECT' }] } },
  },
  {
    name: 'buildSiteSearch',
    track: (t, dtm) => t.track(snowplow.buildSiteSearch({ terms: ['blue', 'mug'], filters: { colour: 'blue', inStock: true }, totalResults: 14, pageResults: 10 }), undefined, dtm),
    expected: { event_name: 'site_search', unstruct_event_com_snowplowanalytics_snowplow_site_search_1: { terms: ['blue', 'mug'], total_results: 14, page_results: 10 } },
  },
  {
    name: 'buildConsentGranted',
    track: (t, dtm) => {
      const c = snowplow.buildConsentGranted({ id: 'doc-7', version: '2.1', name: 'Privacy policy', description: 'Analytics', expiry: '2027-01-01T00:00:00Z' });
      t.track(c.event, c.context, dtm);
    },
    expected: {
      event_name: 'consent_granted', unstruct_event_com_snowplowanalytics_snowplow_consent_granted_1: { expiry: '2027-01-01T00:00:00Z' },
      contexts_com_snowplowanalytics_snowplow_consent_document_1: [{ id: 'doc-7', version: '2.1', name: 'Privacy policy', description: 'Analytics' }],
    },
  },
  {
    name: 'buildConsentWithdrawn',
    track: (t, dtm) => {
      const c = snowplow.buildConsentWithdrawn({ all: false, id: 'doc-7', version: '2.1', name: 'Privacy policy' });
      t.track(c.event, c.context, dtm);
    },
    expected: {
      event_name: 'consent_withdrawn', unstruct_event_com_snowplowanalytics_snowplow_consent_withdrawn_1: { all: false },
      contexts_com_snowplowanalytics_snowplow_consent_document_1: [{ id: 'doc-7', version: '2.1', name: 'Privacy policy' }],
    },
  },
  // The mobile trackers' standard events and entities (their schemas; docs.snowplow.io mobile trackers "Tracking events").
  {
    name: 'mobile screen_view with the mobile entities',
    track: (t, dtm) => t.track(snowplow.buildSelfDescribingEvent({ event: { schema: `${MOBILE}/screen_view/jsonschema/1-0-0`, data: { name: 'Home', id: SCREEN_ID, type: 'feed', transitionType: 'push' } } }), [
      { schema: `${MOBILE}/application/jsonschema/1-0-0`, data: { version: '5.2.0', build: '520' } },
      { schema: `${SP}/mobile_context/jsonschema/1-0-3`, data: { osType: 'ios', osVersion: '17.4', deviceManufacturer: 'Apple', deviceModel: 'iPhone15,2', networkType: 'wifi', batteryLevel: 80, batteryState: 'charging', appAvailableMemory: 1024 } },
      { schema: `${SP}/client_session/jsonschema/1-0-2`, data: { userId: 'b3a6c9f2-4d1e-4f8a-9c7b-2e5d8f1a3c6b', sessionId: SESSION_ID, sessionIndex: 4, previousSessionId: null, storageMechanism: 'SQLITE', firstEventId: 'c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f', eventIndex: 2 } },
      { schema: `${MOBILE}/screen/jsonschema/1-0-0`, data: { name: 'Home', id: SCREEN_ID, type: 'feed' } },
      { schema: `${MOBILE}/application_lifecycle/jsonschema/1-0-0`, data: { isVisible: true, index: 1 } },
      { schema: `${SP}/geolocation_context/jsonschema/1-1-0`, data: { latitude: 52.52, longitude: 13.405, altitude: 34, latitudeLongitudeAccuracy: 5 } },
      { schema: `${SP}/gdpr/jsonschema/1-0-0`, data: { basisForProcessing: 'consent', documentId: 'doc-7', documentVersion: '2.1' } },
      { schema: `${MOBILE}/deep_link/jsonschema/1-0-0`, data: { url: 'shop://p/mug', referrer: 'https://t.co/x' } },
    ], dtm),
    expected: {
      event_vendor: 'com.snowplowanalytics.mobile', event_name: 'screen_view',
      unstruct_event_com_snowplowanalytics_mobile_screen_view_1: { name: 'Home', id: SCREEN_ID, type: 'feed', transition_type: 'push' },
      contexts_com_snowplowanalytics_mobile_application_1: [{ version: '5.2.0', build: '520' }],
      contexts_com_snowplowanalytics_snowplow_mobile_context_1: [{ os_type: 'ios', os_version: '17.4', device_manufacturer: 'Apple', device_model: 'iPhone15,2', network_type: 'wifi', battery_level: 80, battery_state: 'charging', app_available_memory: 1024 }],
      contexts_com_snowplowanalytics_snowplow_client_session_1: [{ session_id: SESSION_ID, session_index: 4, storage_mechanism: 'SQLITE', event_index: 2 }],
      contexts_com_snowplowanalytics_mobile_screen_1: [{ name: 'Home', id: SCREEN_ID }],
      contexts_com_snowplowanalytics_mobile_application_lifecycle_1: [{ is_visible: true, index: 1 }],
      contexts_com_snowplowanalytics_snowplow_geolocation_context_1: [{ latitude: 52.52, longitude: 13.405 }],
      contexts_com_snowplowanalytics_snowplow_gdpr_1: [{ basis_for_processing: 'consent', document_id: 'doc-7' }],
      contexts_com_snowplowanalytics_mobile_deep_link_1: [{ url: 'shop://p/mug' }],
    },
  },
  {
    name: 'mobile screen_end',
    track: (t, dtm) => t.track(snowplow.buildSelfDescribingEvent({ event: { schema: `${MOBILE}/screen_end/jsonschema/1-0-0`, data: {} } }), [{ schema: `${MOBILE}/screen/jsonschema/1-0-0`, data: { name: 'Home', id: SCREEN_ID } }], dtm),
    expected: { event_name: 'screen_end', contexts_com_snowplowanalytics_mobile_screen_1: [{ name: 'Home' }] },
  },
  {
    name: 'mobile scroll_changed',
    track: (t, dtm) => t.track(snowplow.buildSelfDescribingEvent({ event: { schema: `${MOBILE}/scroll_changed/jsonschema/1-0-0`, data: { y_offset: 400, view_height: 800, content_height: 3000 } } }), undefined, dtm),
    expected: { event_name: 'scroll_changed', unstruct_event_com_snowplowanalytics_mobile_scroll_changed_1: { y_offset: 400, view_height: 800, content_height: 3000 } },
  },
  {
    name: 'mobile list_item_view',
    track: (t, dtm) => t.track(snowplow.buildSelfDescribingEvent({ event: { schema: `${MOBILE}/list_item_view/jsonschema/1-0-0`, data: { index: 3, items_count: 20 } } }), undefined, dtm),
    expected: { event_name: 'list_item_view', unstruct_event_com_snowplowanalytics_mobile_list_item_view_1: { index: 3, items_count: 20 } },
  },
  {
    name: 'mobile application_install',
    track: (t, dtm) => t.track(snowplow.buildSelfDescribingEvent({ event: { schema: `${MOBILE}/application_install/jsonschema/1-0-0`, data: {} } }), undefined, dtm),
    expected: { event_name: 'application_install', event_vendor: 'com.snowplowanalytics.mobile' },
  },
  {
    name: 'mobile application_foreground',
    track: (t, dtm) => t.track(snowplow.buildSelfDescribingEvent({ event: { schema: `${SP}/application_foreground/jsonschema/1-0-0`, data: { foregroundIndex: 2 } } }), undefined, dtm),
    expected: { event_name: 'application_foreground', unstruct_event_com_snowplowanalytics_snowplow_application_foreground_1: { foreground_index: 2 } },
  },
  {
    name: 'mobile application_background',
    track: (t, dtm) => t.track(snowplow.buildSelfDescribingEvent({ event: { schema: `${SP}/application_background/jsonschema/1-0-0`, data: { backgroundIndex: 1 } } }), undefined, dtm),
    expected: { event_name: 'application_background', unstruct_event_com_snowplowanalytics_snowplow_application_background_1: { background_index: 1 } },
  },
  {
    name: 'mobile deep_link_received',
    track: (t, dtm) => t.track(snowplow.buildSelfDescribingEvent({ event: { schema: `${MOBILE}/deep_link_received/jsonschema/1-0-0`, data: { url: 'shop://p/mug', referrer: 'https://t.co/x' } } }), undefined, dtm),
    expected: { event_name: 'deep_link_received', unstruct_event_com_snowplowanalytics_mobile_deep_link_received_1: { url: 'shop://p/mug', referrer: 'https://t.co/x' } },
  },
  {
    name: 'mobile message_notification',
    track: (t, dtm) => t.track(snowplow.buildSelfDescribingEvent({ event: { schema: `${MOBILE}/message_notification/jsonschema/1-0-0`, data: { title: 'Sale', body: 'Mugs -20%', trigger: 'push', action: 'open' } } }), undefined, dtm),
    expected: { event_name: 'message_notification', unstruct_event_com_snowplowanalytics_mobile_message_notification_1: { title: 'Sale', body: 'Mugs -20%', trigger: 'push', action: 'open' } },
  },
  {
    name: 'application_error',
    track: (t, dtm) => t.track(snowplow.buildSelfDescribingEvent({ event: { schema: `${SP}/application_error/jsonschema/1-0-2`, data: { programmingLanguage: 'SWIFT', message: 'Index out of range', exceptionName: 'NSRangeException', isFatal: true, lineNumber: 42, stackTrace: 'at main' } } }), undefined, dtm),
    expected: { event_name: 'application_error', unstruct_event_com_snowplowanalytics_snowplow_application_error_1: { programming_language: 'SWIFT', message: 'Index out of range', exception_name: 'NSRangeException', is_fatal: true, line_number: 42 } },
  },
  {
    name: 'web_vitals',
    track: (t, dtm) => t.track(snowplow.buildSelfDescribingEvent({ event: { schema: `${SP}/web_vitals/jsonschema/1-0-0`, data: { cls: 0.02, fcp: 900, fid: 12, inp: 80, lcp: 1800, navigationType: 'navigate', ttfb: 200 } } }), undefined, dtm),
    expected: { event_name: 'web_vitals', unstruct_event_com_snowplowanalytics_snowplow_web_vitals_1: { cls: 0.02, fcp: 900, lcp: 1800, inp: 80, navigation_type: 'navigate' } },
  },
  {
    name: 'consent_preferences and cmp_visible (enhanced consent)',
    track: (t, dtm) => t.track(snowplow.buildSelfDescribingEvent({ event: { schema: `${SP}/consent_preferences/jsonschema/1-0-0`, data: { eventType: 'allow_selected', basisForProcessing: 'consent', consentUrl: 'https://shop.example.com/privacy', consentVersion: '3', consentScopes: ['analytics'], domainsApplied: ['shop.example.com'], gdprApplies: true } } }), undefined, dtm),
    expected: { event_name: 'consent_preferences', unstruct_event_com_snowplowanalytics_snowplow_consent_preferences_1: { event_type: 'allow_selected', consent_scopes: ['analytics'], gdpr_applies: true } },
  },
  {
    name: 'cmp_visible',
    track: (t, dtm) => t.track(snowplow.buildSelfDescribingEvent({ event: { schema: `${SP}/cmp_visible/jsonschema/1-0-0`, data: { elapsedTime: 1200 } } }), undefined, dtm),
    expected: { event_name: 'cmp_visible', unstruct_event_com_snowplowanalytics_snowplow_cmp_visible_1: { elapsed_time: 1200 } },
  },
];
