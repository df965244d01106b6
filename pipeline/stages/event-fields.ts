/**
 * Stage: the event's own fields, once its protocol and schemas are good: the collector's fields (time, user agent,
 * IP, network user id, the referring page of a pixel), the ETL's, what the event is (`event`, `event_vendor`,
 * `event_name`, ...) and `derived_tstamp`.
 */
import { ResolvedConfig } from '../config';
import { preview } from '../es5';
import { normaliseIp } from '../ip';
import { formatTimestamp } from '../time';
import { V_ETL } from '../version';
import { C, EventState, EventType } from './event';
import { P_IP, P_NUID, P_TNUID, P_UA } from './protocol';
import { SNOWPLOW_VENDOR } from './schemas';

/** The vendor of structured events in Snowplow's enriched events (event_name `event`). */
export const STRUCT_VENDOR = 'com.google.analytics';

/** Writes the event's fields; `now` is the ETL time and `nowText` its text. */
export function setEventFields(s: EventState, config: ResolvedConfig, now: number, nowText: string): void {
  const r = s.vals;
  const event = s.event;
  const pv = s.pv;
  const collectorTstamp = event.collectorTstamp !== null ? event.collectorTstamp : now;
  const collectorText = formatTimestamp(collectorTstamp);
  r[C.collector_tstamp] = collectorText;
  r[C.etl_tstamp] = nowText;
  if (config.loadTstamp === 'etl') r[C.load_tstamp] = nowText;
  r[C.v_etl] = V_ETL;
  if (event.collector !== null) r[C.v_collector] = event.collector;
  const eventType = s.eventType as EventType;
  r[C.event] = eventType.event;
  const unstruct = s.unstruct;
  if (unstruct !== null) {
    r[C.event_vendor] = unstruct.info.key.vendor;
    r[C.event_name] = unstruct.info.key.name;
    r[C.event_format] = unstruct.info.key.format;
    r[C.event_version] = unstruct.info.key.version;
  } else {
    // As Snowplow Enrich (SchemaEnrichment.scala): a structured event is com.google.analytics/event/jsonschema/1-0-0.
    r[C.event_vendor] = eventType.event === 'struct' ? STRUCT_VENDOR : SNOWPLOW_VENDOR;
    r[C.event_name] = eventType.name;
    r[C.event_format] = 'jsonschema';
    r[C.event_version] = '1-0-0';
  }
  const ua = pv[P_UA] || event.userAgent;
  if (ua) r[C.useragent] = ua;
  const ip = pv[P_IP] || event.ipAddress;
  if (ip) {
    const clean = normaliseIp(ip);
    if (clean !== null) r[C.user_ipaddress] = clean;
    else if (!config.enrichments.ipAnonymisation) r[C.user_ipaddress] = preview(ip, 128);
  }
  const nuid = pv[P_TNUID] || pv[P_NUID] || event.networkUserId;
  if (nuid) r[C.network_userid] = nuid;
  if (r[C.page_url] === undefined && event.refererUri !== null) r[C.page_url] = event.refererUri;

  // derived_tstamp: the device clock corrected by the collector's, unless the tracker set a true timestamp; as
  // Enrich's EventEnrichments.getDerivedTimestamp, only when the event was created before it was sent.
  let derived = collectorTstamp;
  if (s.trueTstamp >= 0) derived = s.trueTstamp;
  else if (s.created >= 0 && s.sent >= 0 && s.created < s.sent) derived = collectorTstamp - (s.sent - s.created);
  const derivedText = derived === collectorTstamp ? collectorText : formatTimestamp(derived);
  r[C.derived_tstamp] = derivedText !== null ? derivedText : collectorText;
}
