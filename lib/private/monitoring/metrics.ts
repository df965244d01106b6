/**
 * The Cloud Monitoring metric types and monitored resources the pipeline's dashboard and alert policies use, each as
 * Google documents it: kind, value type, the labels a filter may name, and the page it was checked against. The
 * dashboard and alert helpers build filters only through {@link metricFilter}, and {@link validateFilter} refuses a
 * filter naming a metric, resource or label that is not listed here, so a typo fails synth instead of charting nothing.
 *
 * Google's full list: https://cloud.google.com/monitoring/api/metrics_gcp (kinds and value types:
 * https://cloud.google.com/monitoring/api/v3/kinds-and-types; filter syntax: https://cloud.google.com/monitoring/api/v3/filters).
 */

export type MetricKind = 'GAUGE' | 'DELTA' | 'CUMULATIVE';
export type ValueType = 'BOOL' | 'INT64' | 'DOUBLE' | 'STRING' | 'DISTRIBUTION';

export interface MetricInfo {
  readonly resource: string;
  readonly kind: MetricKind;
  readonly value: ValueType;
  /** Labels of the metric (`metric.label.<key>`). */
  readonly labels: readonly string[];
  readonly source: string;
}

/** Monitored resource types and their labels (`resource.label.<key>`). https://cloud.google.com/monitoring/api/resources */
export const RESOURCES: Readonly<Record<string, { readonly labels: readonly string[]; readonly source: string }>> = {
  // https://cloud.google.com/monitoring/api/resources#tag_https_lb_rule (global external Application Load Balancer)
  https_lb_rule: {
    labels: ['project_id', 'backend_name', 'backend_scope', 'backend_scope_type', 'backend_target_name', 'backend_target_type', 'backend_type', 'forwarding_rule_name', 'matched_url_path_rule', 'region', 'target_proxy_name', 'url_map_name'],
    source: 'https://cloud.google.com/load-balancing/docs/metrics',
  },
  // https://cloud.google.com/monitoring/api/resources#tag_network_security_policy (Cloud Armor)
  network_security_policy: { labels: ['project_id', 'policy_name', 'location'], source: 'https://cloud.google.com/armor/docs/monitoring' },
  // https://cloud.google.com/monitoring/api/resources#tag_pubsub_topic
  pubsub_topic: { labels: ['project_id', 'topic_id'], source: 'https://cloud.google.com/pubsub/docs/monitoring' },
  // https://cloud.google.com/monitoring/api/resources#tag_pubsub_subscription
  pubsub_subscription: { labels: ['project_id', 'subscription_id'], source: 'https://cloud.google.com/pubsub/docs/monitoring' },
  // https://cloud.google.com/monitoring/api/resources#tag_dataflow_job
  dataflow_job: { labels: ['project_id', 'job_name', 'region'], source: 'https://cloud.google.com/dataflow/docs/guides/using-cloud-monitoring' },
  // https://cloud.google.com/monitoring/api/resources#tag_cloud_run_revision
  cloud_run_revision: { labels: ['project_id', 'service_name', 'revision_name', 'location', 'configuration_name'], source: 'https://cloud.google.com/run/docs/monitoring' },
  // https://cloud.google.com/monitoring/api/resources#tag_bigquery_dataset
  bigquery_dataset: { labels: ['project_id', 'dataset_id'], source: 'https://cloud.google.com/bigquery/docs/monitoring' },
  // https://cloud.google.com/monitoring/api/resources#tag_uptime_url
  uptime_url: { labels: ['project_id', 'host'], source: 'https://cloud.google.com/monitoring/uptime-checks/uptime-alerting' },
};

const LB_LABELS = ['protocol', 'response_code', 'response_code_class', 'proxy_continent', 'cache_result', 'client_country'];

/** The metric types used, with what Google documents about each. */
export const METRICS: Readonly<Record<string, MetricInfo>> = {
  // https://cloud.google.com/load-balancing/docs/metrics: https/request_count DELTA INT64 on https_lb_rule, labelled
  // by response_code_class (INT64: 100, 200, 300, 400, 500; 0 when no response)
  'loadbalancing.googleapis.com/https/request_count': { resource: 'https_lb_rule', kind: 'DELTA', value: 'INT64', labels: LB_LABELS, source: 'https://cloud.google.com/load-balancing/docs/metrics' },
  // same page: https/total_latencies DELTA DISTRIBUTION ms, client's first byte to proxy's last byte
  'loadbalancing.googleapis.com/https/total_latencies': { resource: 'https_lb_rule', kind: 'DELTA', value: 'DISTRIBUTION', labels: LB_LABELS, source: 'https://cloud.google.com/load-balancing/docs/metrics' },
  // https://cloud.google.com/armor/docs/monitoring: requests evaluated by a security policy; `blocked` is true for the
  // requests a rule denied or throttled (the rate-limit rules' 429s)
  'networksecurity.googleapis.com/https/request_count': { resource: 'network_security_policy', kind: 'DELTA', value: 'INT64', labels: ['blocked', 'backend_target_name', 'backend_target_type'], source: 'https://cloud.google.com/armor/docs/monitoring' },
  // https://cloud.google.com/pubsub/docs/monitoring and https://cloud.google.com/monitoring/api/metrics_gcp_p_z#gcp-pubsub
  // topic/send_request_count: publish requests (a request carries one or more messages), by response_class
  'pubsub.googleapis.com/topic/send_request_count': { resource: 'pubsub_topic', kind: 'DELTA', value: 'INT64', labels: ['response_class', 'response_code'], source: 'https://cloud.google.com/monitoring/api/metrics_gcp_p_z#gcp-pubsub' },
  'pubsub.googleapis.com/subscription/num_undelivered_messages': { resource: 'pubsub_subscription', kind: 'GAUGE', value: 'INT64', labels: [], source: 'https://cloud.google.com/pubsub/docs/monitoring#monitoring_the_backlog' },
  'pubsub.googleapis.com/subscription/oldest_unacked_message_age': { resource: 'pubsub_subscription', kind: 'GAUGE', value: 'INT64', labels: [], source: 'https://cloud.google.com/pubsub/docs/monitoring#monitoring_the_backlog' },
  // https://cloud.google.com/dataflow/docs/guides/using-cloud-monitoring (job metrics, seconds)
  'dataflow.googleapis.com/job/system_lag': { resource: 'dataflow_job', kind: 'GAUGE', value: 'INT64', labels: [], source: 'https://cloud.google.com/dataflow/docs/guides/using-cloud-monitoring' },
  // "data freshness" in the Dataflow UI: the age of the most recent data fully processed
  'dataflow.googleapis.com/job/data_watermark_age': { resource: 'dataflow_job', kind: 'GAUGE', value: 'INT64', labels: [], source: 'https://cloud.google.com/dataflow/docs/guides/using-cloud-monitoring' },
  'dataflow.googleapis.com/job/is_failed': { resource: 'dataflow_job', kind: 'GAUGE', value: 'INT64', labels: [], source: 'https://cloud.google.com/dataflow/docs/guides/using-cloud-monitoring' },
  // https://cloud.google.com/run/docs/monitoring: response_code_class is a STRING ("2xx", "4xx", "5xx")
  'run.googleapis.com/request_count': { resource: 'cloud_run_revision', kind: 'DELTA', value: 'INT64', labels: ['response_code', 'response_code_class', 'route'], source: 'https://cloud.google.com/run/docs/monitoring' },
  'run.googleapis.com/request_latencies': { resource: 'cloud_run_revision', kind: 'DELTA', value: 'DISTRIBUTION', labels: ['response_code', 'response_code_class', 'route'], source: 'https://cloud.google.com/run/docs/monitoring' },
  // https://cloud.google.com/bigquery/docs/monitoring: rows uploaded to a dataset's tables, labelled by table and api
  'bigquery.googleapis.com/storage/uploaded_row_count': { resource: 'bigquery_dataset', kind: 'DELTA', value: 'INT64', labels: ['api', 'table'], source: 'https://cloud.google.com/bigquery/docs/monitoring' },
  // https://cloud.google.com/monitoring/uptime-checks/uptime-alerting: one BOOL point per checker region and run
  'monitoring.googleapis.com/uptime_check/check_passed': { resource: 'uptime_url', kind: 'GAUGE', value: 'BOOL', labels: ['check_id', 'checker_location'], source: 'https://cloud.google.com/monitoring/uptime-checks/uptime-alerting' },
};

/**
 * A user-defined log-based metric (https://cloud.google.com/logging/docs/logs-based-metrics/counter-metrics): its type is
 * `logging.googleapis.com/user/<name>`, its resource the one of the log entries it counts, its labels those declared
 * in its descriptor.
 */
export function logBasedMetric(resource: string, labels: readonly string[]): MetricInfo {
  return { resource, kind: 'DELTA', value: 'INT64', labels, source: 'https://cloud.google.com/logging/docs/logs-based-metrics/counter-metrics' };
}

export interface FilterSpec {
  readonly metric: string;
  /** `resource.label.<key>` equality conditions. */
  readonly resource?: Readonly<Record<string, string | readonly string[]>>;
  /** `metric.label.<key>` conditions: a value (a number or boolean is written as its string), or a list (`one_of`). */
  readonly labels?: Readonly<Record<string, string | number | boolean | readonly string[]>>;
}

function quote(value: string): string {
  return JSON.stringify(value);
}

/** Values are always quoted, numbers and booleans too: the form the console writes (`metric.label."blocked"="true"`). */
function condition(selector: string, value: string | number | boolean | readonly string[]): string {
  if (Array.isArray(value)) return `${selector} = one_of(${value.map(quote).join(', ')})`;
  return `${selector} = ${quote(String(value))}`;
}

/**
 * A Monitoring filter (https://cloud.google.com/monitoring/api/v3/filters): `metric.type`, `resource.type` and label
 * conditions joined by AND; a list becomes `one_of(...)`.
 */
export function metricFilter(spec: FilterSpec, catalogue: Readonly<Record<string, MetricInfo>> = METRICS): string {
  const info = catalogue[spec.metric];
  if (!info) throw new Error(`unknown metric type ${spec.metric}`);
  const parts = [`metric.type = ${quote(spec.metric)}`, `resource.type = ${quote(info.resource)}`];
  for (const [k, v] of Object.entries(spec.resource ?? {})) parts.push(condition(`resource.label.${k}`, v));
  for (const [k, v] of Object.entries(spec.labels ?? {})) parts.push(condition(`metric.label.${k}`, v));
  return parts.join(' AND ');
}

/** The metric type a filter selects (its `metric.type = "..."` condition). */
export function filterMetricType(filter: string): string | undefined {
  return /metric\.type\s*=\s*"([^"]+)"/.exec(filter)?.[1];
}

/**
 * Problems of a filter against the catalogue: the metric type must be listed, `resource.type` must be the metric's
 * resource, and every `metric.label.K` / `resource.label.K` must be a documented label.
 */
export function validateFilter(filter: string, catalogue: Readonly<Record<string, MetricInfo>> = METRICS): string[] {
  const problems: string[] = [];
  const type = filterMetricType(filter);
  if (type === undefined) return [`filter has no metric.type condition: ${filter}`];
  const info = catalogue[type];
  if (!info) return [`metric type ${type} is not a documented metric of the catalogue`];
  const resource = /resource\.type\s*=\s*"([^"]+)"/.exec(filter)?.[1];
  if (resource === undefined) problems.push(`filter of ${type} has no resource.type condition`);
  else if (resource !== info.resource) problems.push(`${type} is written by resource type ${info.resource}, not ${resource}`);
  const resourceLabels = RESOURCES[info.resource]?.labels ?? [];
  for (const m of filter.matchAll(/\b(metric|resource)\.labels?\.([A-Za-z0-9_]+)/g)) {
    const known = m[1] === 'metric' ? info.labels : resourceLabels;
    if (!known.includes(m[2])) problems.push(`${m[1]} label ${m[2]} is not a label of ${m[1] === 'metric' ? type : info.resource}`);
  }
  if (/\bAND\s*$|^\s*AND\b|\bAND\s+AND\b/.test(filter)) problems.push(`filter has a dangling AND: ${filter}`);
  return problems;
}
