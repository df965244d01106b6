/**
 * Operability for one pipeline: a Cloud Monitoring dashboard, alert policies with a runbook line each, an uptime check
 * of the collector's `/health` through its global IP, and the `e2e_latency` view (collector timestamp to BigQuery
 * insert). Every chart and condition is built from typed helpers (lib/private/monitoring) and checked against the
 * metric types and the Dashboard / AlertPolicy shapes Google documents before synth.
 */
import { Construct } from 'constructs';
import { BigqueryTable } from '@cdktf/provider-google/lib/bigquery-table';
import { DataGoogleClientConfig } from '@cdktf/provider-google/lib/data-google-client-config';
import { LoggingMetric } from '@cdktf/provider-google/lib/logging-metric';
import { MonitoringAlertPolicy } from '@cdktf/provider-google/lib/monitoring-alert-policy';
import { MonitoringDashboard } from '@cdktf/provider-google/lib/monitoring-dashboard';
import { MonitoringUptimeCheckConfig } from '@cdktf/provider-google/lib/monitoring-uptime-check-config';
import { AlertSpec, conditionBlock, validateAlert } from './private/monitoring/alerts';
import { Aggregation, chart, Dashboard, mosaic, ratioChart, section, text, validateDashboard, Widget } from './private/monitoring/dashboard';
import { logBasedMetric, metricFilter, MetricInfo, METRICS } from './private/monitoring/metrics';
import { constructLabels } from './private/labels';
import { resourceName } from './private/naming';
import { checkDomain, checkInteger, checkProjectId, checkRegion, PropError } from './private/validate';

const NAME = 'PipelineMonitoring';

/** The enrichment to watch: the Dataflow streaming job, or the serverless enricher (a Cloud Run service). */
export type MonitoredEnricher =
  | { readonly kind: 'dataflow'; readonly jobName: string; readonly region: string }
  | { readonly kind: 'serverless'; readonly serviceName: string; readonly region: string };

export const MonitoredEnricher = {
  /** A Dataflow streaming job, by its job name (`google_dataflow_flex_template_job.name`). */
  dataflow(jobName: string, region: string): MonitoredEnricher {
    return { kind: 'dataflow', jobName, region };
  },
  /** The serverless enricher, by its Cloud Run service name. */
  serverless(serviceName: string, region: string): MonitoredEnricher {
    return { kind: 'serverless', serviceName, region };
  },
};

/** A BigQuery table by its ids (a `BigqueryTable` is one). */
export interface MonitoredTable {
  readonly project: string;
  readonly datasetId: string;
  readonly tableId: string;
}

/** Checker regions of an uptime check (UptimeCheckRegion, https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.uptimeCheckConfigs#UptimeCheckRegion). */
export type UptimeRegion = 'USA' | 'EUROPE' | 'SOUTH_AMERICA' | 'ASIA_PACIFIC' | 'USA_OREGON' | 'USA_IOWA' | 'USA_VIRGINIA';
const UPTIME_REGIONS: readonly UptimeRegion[] = ['USA', 'EUROPE', 'SOUTH_AMERICA', 'ASIA_PACIFIC', 'USA_OREGON', 'USA_IOWA', 'USA_VIRGINIA'];

/** `false` turns an alert off; an object tunes it. */
export type AlertToggle<T> = false | T;

export interface PipelineAlerts {
  /** Share of the collector's responses that are 5xx. @default above 1 % for 5 minutes */
  readonly collector5xxRatio?: AlertToggle<{ readonly percent?: number; readonly minutes?: number }>;
  /**
   * No publish to the raw topic for this long. Set it above the longest quiet period of your traffic (nights of a
   * small site), or turn it off where silence is normal.
   * @default 30 minutes
   */
  readonly noEvents?: AlertToggle<{ readonly minutes?: number }>;
  /** Oldest unacknowledged message of the enrich subscription older than this, for 5 minutes. @default 10 minutes */
  readonly enrichBacklogAge?: AlertToggle<{ readonly minutes?: number }>;
  /** Bad rows as a share of all rows written (good + bad). @default above 5 % for 15 minutes */
  readonly badRowRatio?: AlertToggle<{ readonly percent?: number; readonly minutes?: number }>;
  /** Dataflow: the job failed. Serverless: see `enricherErrors`. @default on */
  readonly enricherFailed?: AlertToggle<Record<string, never>>;
  /** Dataflow: the job reported no system lag for this long (cancelled, drained or never started). @default 10 minutes */
  readonly enricherNotRunning?: AlertToggle<{ readonly minutes?: number }>;
  /** Serverless enricher: share of 5xx responses. @default above 5 % for 5 minutes */
  readonly enricherErrors?: AlertToggle<{ readonly percent?: number; readonly minutes?: number }>;
  /** The uptime check failing from more than this many checker regions at once. @default 1 (fires when 2 or more fail) */
  readonly uptime?: AlertToggle<{ readonly failingRegions?: number }>;
  /**
   * Oldest unacknowledged message of a BigQuery subscription (`bigQuerySubscriptionNames`) older than this, for 5
   * minutes: a BigQuery subscription in an error state does not dead-letter, its messages pile up in its backlog.
   * @default 10 minutes (only with `bigQuerySubscriptionNames`)
   */
  readonly bigQuerySubscriptionBacklogAge?: AlertToggle<{ readonly minutes?: number }>;
}

export interface PipelineMonitoringProps {
  /** The project of the dashboard, alerts and checks. @default the provider's project */
  readonly projectId?: string;
  /** Prefix of the names (dashboard title, uptime check, log-based metric). @default 'waymark' */
  readonly namePrefix?: string;
  /**
   * The global collector: its URL map (load balancer metrics), its Cloud Armor policy and the host whose `/health` the
   * uptime check requests (a domain of the collector, resolving to its global IP).
   * @default no collector charts, alerts or uptime check
   */
  readonly collector?: { readonly urlMapName: string; readonly securityPolicyName?: string; readonly healthCheckHost?: string };
  /** The raw topic's name. */
  readonly rawTopicName: string;
  /** The enrich subscription's name (backlog and oldest unacknowledged message). */
  readonly enrichSubscriptionName: string;
  /** Further subscriptions of the raw topic to chart (e.g. the archive's). @default none */
  readonly otherSubscriptionNames?: readonly string[];
  /**
   * BigQuery subscriptions that write the tables (the serverless path's events and bad-rows subscriptions): charted
   * with the others, and alerted on when their oldest unacknowledged message grows old (`alerts.bigQuerySubscriptionBacklogAge`).
   * @default none
   */
  readonly bigQuerySubscriptionNames?: readonly string[];
  readonly enricher: MonitoredEnricher;
  /** The events table (rows written; the `e2e_latency` view is created beside it). */
  readonly eventsTable: MonitoredTable;
  /** Tables of bad rows: the Dataflow dead-letter table, the serverless path's bad-rows table. */
  readonly badRowsTables: readonly MonitoredTable[];
  /**
   * Notification channels (`google_monitoring_notification_channel` ids: email, Pub/Sub, PagerDuty, ...) every
   * alert notifies.
   * @default none (incidents show in the console only)
   */
  readonly notificationChannels?: readonly string[];
  /** Tune or turn off each alert. @default every alert on, with the defaults documented on {@link PipelineAlerts} */
  readonly alerts?: PipelineAlerts;
  /** The uptime check of `/health`. @default every minute... see `periodSeconds`; from USA, EUROPE and ASIA_PACIFIC */
  readonly uptimeCheck?: false | { readonly regions?: readonly UptimeRegion[]; readonly periodSeconds?: 60 | 300 | 600 | 900; readonly path?: string };
  /** Create the `e2e_latency` view over the events table. @default true */
  readonly latencyView?: boolean;
  /** Days of events the `e2e_latency` view reads (by `collector_tstamp`, the partition column). @default 7 */
  readonly latencyLookbackDays?: number;
  /** Labels of the resources that take labels. @default none (plus managed-by: waymark) */
  readonly labels?: Readonly<Record<string, string>>;
}

const SOURCES = {
  dashboards: 'https://cloud.google.com/monitoring/api/ref_v3/rest/v1/projects.dashboards',
  alerts: 'https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.alertPolicies',
  uptime: 'https://cloud.google.com/monitoring/uptime-checks',
} as const;

const per = (seconds: number, aligner: Aggregation['perSeriesAligner'], reducer?: Aggregation['crossSeriesReducer'], groupBy?: readonly string[]): Aggregation => ({
  alignmentPeriod: `${seconds}s`,
  perSeriesAligner: aligner,
  ...(reducer ? { crossSeriesReducer: reducer } : {}),
  ...(groupBy && groupBy.length > 0 ? { groupByFields: groupBy } : {}),
});

/**
 * The operability layer of a pipeline: one dashboard, the alert policies, the uptime check and the end-to-end latency
 * view. `ClickstreamPipeline` creates one by default (`monitoring: false` opts out).
 *
 * ```ts
 * new PipelineMonitoring(stack, 'monitoring', {
 *   rawTopicName: 'waymark-raw', enrichSubscriptionName: 'waymark-enrich',
 *   enricher: MonitoredEnricher.dataflow('waymark-enrich', 'europe-west1'),
 *   eventsTable: warehouse.eventsTable, badRowsTables: [warehouse.deadLetterTable],
 *   notificationChannels: [oncall.id],
 * });
 * ```
 */
export class PipelineMonitoring extends Construct {
  public readonly dashboard: MonitoringDashboard;
  /** The dashboard as it is deployed (validated against the Dashboard resource's documented shape). */
  public readonly dashboardDefinition: Dashboard;
  /** The alert policies, by their key in {@link PipelineAlerts}. */
  public readonly alertPolicies: Readonly<Record<string, MonitoringAlertPolicy>>;
  /** What each alert policy checks and its runbook line. */
  public readonly alertSpecs: readonly AlertSpec[];
  public readonly uptimeCheck?: MonitoringUptimeCheckConfig;
  /** Bad rows per minute by failure type, from the serverless enricher's logs (absent on the Dataflow path). */
  public readonly badRowsMetric?: LoggingMetric;
  /**
   * `e2e_latency`: per minute, events and p50/p95/p99/max milliseconds from collector_tstamp to load_tstamp (the
   * BigQuery insert), and p50/p99 to etl_tstamp (the enrichment).
   */
  public readonly latencyView?: BigqueryTable;
  public readonly labels: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: PipelineMonitoringProps) {
    super(scope, id);
    validate(props);
    this.labels = constructLabels(NAME, props.labels);
    const project = props.projectId;
    const prefix = props.namePrefix ?? 'waymark';
    const catalogue: Record<string, MetricInfo> = { ...METRICS };
    let badRowsMetricType: string | undefined;

    if (props.enricher.kind === 'serverless') {
      // A log-based counter: the serverless enricher writes one structured log line per bad row with its failure_type.
      // https://cloud.google.com/logging/docs/logs-based-metrics/labels (label extractors)
      const metricName = resourceName([prefix, 'bad-rows'], 100);
      badRowsMetricType = `logging.googleapis.com/user/${metricName}`;
      this.badRowsMetric = new LoggingMetric(this, 'bad-rows-metric', {
        project,
        name: metricName,
        description: 'Bad rows written by the serverless enricher, by failure type',
        filter: [
          'resource.type="cloud_run_revision"',
          `resource.labels.service_name=${JSON.stringify(props.enricher.serviceName)}`,
          'jsonPayload.failure_type:*',
        ].join(' AND '),
        metricDescriptor: {
          metricKind: 'DELTA',
          valueType: 'INT64',
          unit: '1',
          labels: [{ key: 'failure_type', valueType: 'STRING', description: 'The bad row type (schema_violations, tracker_protocol_violations, ...)' }],
        },
        labelExtractors: { failure_type: 'EXTRACT(jsonPayload.failure_type)' },
      });
      catalogue[badRowsMetricType] = logBasedMetric('cloud_run_revision', ['failure_type']);
    }

    if (props.uptimeCheck !== false && props.collector?.healthCheckHost) {
      const u = props.uptimeCheck ?? {};
      const uptimeProject = project ?? new DataGoogleClientConfig(this, 'client').project;
      this.uptimeCheck = new MonitoringUptimeCheckConfig(this, 'uptime', {
        project,
        displayName: `${prefix} collector /health`,
        // "A check must run from at least 3 regions" (selectedRegions), https://cloud.google.com/monitoring/uptime-checks
        selectedRegions: [...(u.regions ?? ['USA', 'EUROPE', 'ASIA_PACIFIC'])],
        period: `${u.periodSeconds ?? 60}s`,
        timeout: '10s',
        monitoredResource: { type: 'uptime_url', labels: { project_id: uptimeProject, host: props.collector.healthCheckHost } },
        httpCheck: { path: u.path ?? '/health', port: 443, useSsl: true, validateSsl: true, requestMethod: 'GET', acceptedResponseStatusCodes: [{ statusClass: 'STATUS_CLASS_2XX' }] },
        userLabels: this.labels,
      });
    }

    this.alertSpecs = alertSpecs(props, this.uptimeCheck);
    const problems = this.alertSpecs.flatMap((spec) => validateAlert(spec, catalogue));
    if (problems.length > 0) throw new PropError(NAME, 'alerts', `would create invalid alert policies:\n  ${problems.join('\n  ')}`);
    const policies: Record<string, MonitoringAlertPolicy> = {};
    for (const spec of this.alertSpecs) {
      policies[spec.id] = new MonitoringAlertPolicy(this, `alert-${spec.id}`, {
        project,
        displayName: `${prefix}: ${spec.displayName}`,
        combiner: 'OR',
        enabled: true,
        severity: spec.severity,
        notificationChannels: [...(props.notificationChannels ?? [])],
        conditions: [conditionBlock(spec.condition)],
        documentation: { mimeType: 'text/markdown', subject: `${prefix}: ${spec.displayName}`, content: `${spec.runbook}\n\nRunbook: docs/operations.md (alert \`${spec.id}\`).` },
        alertStrategy: { autoClose: '1800s' },
        userLabels: this.labels,
      });
    }
    this.alertPolicies = policies;

    if (props.latencyView ?? true) {
      this.latencyView = new BigqueryTable(this, 'e2e-latency', {
        project: props.eventsTable.project,
        datasetId: props.eventsTable.datasetId,
        tableId: 'e2e_latency',
        description: 'End-to-end latency per minute: collector_tstamp (request received) to load_tstamp (row written by BigQuery)',
        view: { query: latencySql(props.eventsTable, props.latencyLookbackDays ?? 7), useLegacySql: false },
        deletionProtection: false,
        labels: this.labels,
      });
    }

    this.dashboardDefinition = dashboard(props, prefix, badRowsMetricType);
    const dashboardProblems = validateDashboard(JSON.parse(JSON.stringify(this.dashboardDefinition)), catalogue);
    if (dashboardProblems.length > 0) throw new PropError(NAME, 'enricher', `would create an invalid dashboard (${SOURCES.dashboards}):\n  ${dashboardProblems.join('\n  ')}`);
    // Legend templates (`${resource.labels.x}`) are Monitoring's, not Terraform's: `$${` is Terraform's escape for `${`.
    const json = JSON.stringify(this.dashboardDefinition).replace(/\$\{((?:resource|metric)\.labels?\.)/g, (_m, selector: string) => `$\${${selector}`);
    this.dashboard = new MonitoringDashboard(this, 'dashboard', { project, dashboardJson: json });
  }
}

function dashboard(props: PipelineMonitoringProps, prefix: string, badRowsMetricType: string | undefined): Dashboard {
  const widgets: Widget[] = [];
  const c = props.collector;
  if (c) {
    const lb = { url_map_name: c.urlMapName };
    const byBackend = ['resource.label.backend_target_name', 'resource.label.backend_scope'];
    widgets.push(section('Collector', 'Global load balancer: requests, errors and latency per backend and region'));
    widgets.push(chart('Requests per second by backend and region', [
      { filter: metricFilter({ metric: 'loadbalancing.googleapis.com/https/request_count', resource: lb }), aggregation: per(60, 'ALIGN_RATE', 'REDUCE_SUM', byBackend) },
    ], 'requests/s'));
    widgets.push(chart('4xx and 5xx responses per second by backend and region', [
      { filter: metricFilter({ metric: 'loadbalancing.googleapis.com/https/request_count', resource: lb, labels: { response_code_class: 400 } }), aggregation: per(60, 'ALIGN_RATE', 'REDUCE_SUM', byBackend), legend: '4xx ${resource.labels.backend_target_name} ${resource.labels.backend_scope}' },
      { filter: metricFilter({ metric: 'loadbalancing.googleapis.com/https/request_count', resource: lb, labels: { response_code_class: 500 } }), aggregation: per(60, 'ALIGN_RATE', 'REDUCE_SUM', byBackend), legend: '5xx ${resource.labels.backend_target_name} ${resource.labels.backend_scope}' },
    ], 'responses/s'));
    widgets.push(chart('Latency p50 and p99 by backend and region (ms)', [
      { filter: metricFilter({ metric: 'loadbalancing.googleapis.com/https/total_latencies', resource: lb }), aggregation: per(60, 'ALIGN_DELTA', 'REDUCE_PERCENTILE_50', byBackend), legend: 'p50 ${resource.labels.backend_target_name} ${resource.labels.backend_scope}' },
      { filter: metricFilter({ metric: 'loadbalancing.googleapis.com/https/total_latencies', resource: lb }), aggregation: per(60, 'ALIGN_DELTA', 'REDUCE_PERCENTILE_99', byBackend), legend: 'p99 ${resource.labels.backend_target_name} ${resource.labels.backend_scope}' },
    ], 'ms'));
    if (c.securityPolicyName) {
      widgets.push(chart('Cloud Armor: requests blocked or throttled per second', [
        { filter: metricFilter({ metric: 'networksecurity.googleapis.com/https/request_count', resource: { policy_name: c.securityPolicyName }, labels: { blocked: true } }), aggregation: per(60, 'ALIGN_RATE', 'REDUCE_SUM', ['metric.label.backend_target_name']) },
      ], 'requests/s'));
    }
  }

  const subscriptions = unique([props.enrichSubscriptionName, ...(props.otherSubscriptionNames ?? []), ...(props.bigQuerySubscriptionNames ?? [])]);
  widgets.push(section('Pub/Sub', 'Raw topic and its subscriptions'));
  widgets.push(chart('Publish requests per second to the raw topic', [
    { filter: metricFilter({ metric: 'pubsub.googleapis.com/topic/send_request_count', resource: { topic_id: props.rawTopicName } }), aggregation: per(60, 'ALIGN_RATE', 'REDUCE_SUM', ['metric.label.response_class']) },
  ], 'requests/s'));
  widgets.push(chart('Subscription backlog (undelivered messages)', [
    { filter: metricFilter({ metric: 'pubsub.googleapis.com/subscription/num_undelivered_messages', resource: { subscription_id: subscriptions } }), aggregation: per(60, 'ALIGN_MAX', 'REDUCE_MAX', ['resource.label.subscription_id']) },
  ], 'messages'));
  widgets.push(chart('Oldest unacknowledged message age', [
    { filter: metricFilter({ metric: 'pubsub.googleapis.com/subscription/oldest_unacked_message_age', resource: { subscription_id: subscriptions } }), aggregation: per(60, 'ALIGN_MAX', 'REDUCE_MAX', ['resource.label.subscription_id']) },
  ], 's'));

  const e = props.enricher;
  if (e.kind === 'dataflow') {
    widgets.push(section('Enrichment (Dataflow)', `Job ${e.jobName} in ${e.region}`));
    widgets.push(chart('System lag and data freshness (s)', [
      { filter: metricFilter({ metric: 'dataflow.googleapis.com/job/system_lag', resource: { job_name: e.jobName } }), aggregation: per(60, 'ALIGN_MAX'), legend: 'system lag' },
      { filter: metricFilter({ metric: 'dataflow.googleapis.com/job/data_watermark_age', resource: { job_name: e.jobName } }), aggregation: per(60, 'ALIGN_MAX'), legend: 'data freshness' },
    ], 's'));
  } else {
    const svc = { service_name: e.serviceName };
    widgets.push(section('Enrichment (serverless)', `Cloud Run service ${e.serviceName} in ${e.region}`));
    widgets.push(chart('Enricher requests per second by response class', [
      { filter: metricFilter({ metric: 'run.googleapis.com/request_count', resource: svc }), aggregation: per(60, 'ALIGN_RATE', 'REDUCE_SUM', ['metric.label.response_code_class']) },
    ], 'requests/s'));
    widgets.push(chart('Enricher latency p50 and p99 (ms)', [
      { filter: metricFilter({ metric: 'run.googleapis.com/request_latencies', resource: svc }), aggregation: per(60, 'ALIGN_DELTA', 'REDUCE_PERCENTILE_50'), legend: 'p50' },
      { filter: metricFilter({ metric: 'run.googleapis.com/request_latencies', resource: svc }), aggregation: per(60, 'ALIGN_DELTA', 'REDUCE_PERCENTILE_99'), legend: 'p99' },
    ], 'ms'));
  }

  const datasets = unique([props.eventsTable.datasetId, ...props.badRowsTables.map((t) => t.datasetId)]);
  const badTables = unique(props.badRowsTables.map((t) => t.tableId));
  const allTables = unique([props.eventsTable.tableId, ...badTables]);
  widgets.push(section('Warehouse', 'Rows written to BigQuery, bad rows and end-to-end latency'));
  widgets.push(chart('Rows written per minute by table', [
    { filter: metricFilter({ metric: 'bigquery.googleapis.com/storage/uploaded_row_count', resource: { dataset_id: datasets }, labels: { table: allTables } }), aggregation: per(60, 'ALIGN_SUM', 'REDUCE_SUM', ['metric.label.table']) },
  ], 'rows/min'));
  widgets.push(chart('Bad rows per minute', [
    { filter: metricFilter({ metric: 'bigquery.googleapis.com/storage/uploaded_row_count', resource: { dataset_id: datasets }, labels: { table: badTables } }), aggregation: per(60, 'ALIGN_SUM', 'REDUCE_SUM', ['metric.label.table']) },
  ], 'rows/min'));
  if (badRowsMetricType) {
    widgets.push(chart('Bad rows per minute by failure type', [
      { filter: metricFilter({ metric: badRowsMetricType }, { [badRowsMetricType]: logBasedMetric('cloud_run_revision', ['failure_type']) }), aggregation: per(60, 'ALIGN_SUM', 'REDUCE_SUM', ['metric.label.failure_type']), plotType: 'STACKED_BAR' },
    ], 'rows/min'));
  }
  widgets.push(ratioChart(
    'Bad-row ratio (bad rows / all rows written)',
    { filter: metricFilter({ metric: 'bigquery.googleapis.com/storage/uploaded_row_count', resource: { dataset_id: datasets }, labels: { table: badTables } }), aggregation: per(300, 'ALIGN_RATE', 'REDUCE_SUM') },
    { filter: metricFilter({ metric: 'bigquery.googleapis.com/storage/uploaded_row_count', resource: { dataset_id: datasets }, labels: { table: allTables } }), aggregation: per(300, 'ALIGN_RATE', 'REDUCE_SUM') },
    'ratio',
  ));
  const t = props.eventsTable;
  widgets.push(text('End-to-end latency and bad rows by failure type', [
    `Exact end-to-end latency per minute (collector_tstamp to the BigQuery insert, load_tstamp) is the view ${t.datasetId}.e2e_latency:`,
    '',
    '```',
    `SELECT minute, events, p50_ms, p99_ms FROM ${t.datasetId}.e2e_latency ORDER BY minute DESC LIMIT 60`,
    '```',
    '',
    e.kind === 'dataflow'
      ? 'Bad rows by failure type: `SELECT failure_type, COUNT(*) FROM bad_rows_parsed WHERE failure_tstamp > TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL 1 HOUR) GROUP BY 1` (Dataflow writes bad rows to BigQuery only; the type is in the row). The enricher\'s data freshness above bounds the latency inside the pipeline.'
      : 'Bad rows by failure type are charted above from the enricher\'s logs.',
  ].join('\n')));

  return mosaic(`${prefix}: clickstream pipeline`, widgets);
}

function alertSpecs(props: PipelineMonitoringProps, uptime: MonitoringUptimeCheckConfig | undefined): AlertSpec[] {
  const a = props.alerts ?? {};
  const specs: AlertSpec[] = [];
  const on = <T>(v: AlertToggle<T> | undefined): T | undefined => (v === false ? undefined : (v ?? ({} as T)));

  const c = props.collector;
  const five = on(a.collector5xxRatio);
  if (c && five) {
    const lb = { url_map_name: c.urlMapName };
    const pct = five.percent ?? 1;
    specs.push({
      id: 'collector-5xx-ratio',
      displayName: `collector 5xx above ${pct} %`,
      severity: 'CRITICAL',
      condition: {
        kind: 'threshold',
        displayName: `5xx responses / all responses > ${pct} %`,
        filter: metricFilter({ metric: 'loadbalancing.googleapis.com/https/request_count', resource: lb, labels: { response_code_class: 500 } }),
        aggregation: per(300, 'ALIGN_RATE', 'REDUCE_SUM'),
        denominator: { filter: metricFilter({ metric: 'loadbalancing.googleapis.com/https/request_count', resource: lb }), aggregation: per(300, 'ALIGN_RATE', 'REDUCE_SUM') },
        comparison: 'COMPARISON_GT',
        threshold: pct / 100,
        durationSeconds: (five.minutes ?? 5) * 60,
      },
      runbook: 'The collector answers 5xx: trackers retry, but events are at risk. Check the backend with the most 5xx on the dashboard, its logs (publish errors to Pub/Sub, crashes, out of memory) and its health; roll back a recent collector change.',
    });
  }

  const quiet = on(a.noEvents);
  if (quiet) {
    const minutes = quiet.minutes ?? 30;
    specs.push({
      id: 'no-events',
      displayName: `no events for ${minutes} minutes`,
      severity: 'CRITICAL',
      condition: {
        kind: 'absent',
        displayName: `no publish to the raw topic for ${minutes} minutes`,
        filter: metricFilter({ metric: 'pubsub.googleapis.com/topic/send_request_count', resource: { topic_id: props.rawTopicName } }),
        aggregation: per(60, 'ALIGN_SUM', 'REDUCE_SUM'),
        durationSeconds: minutes * 60,
      },
      runbook: 'Nothing reached the raw topic. Check the collector\'s request rate (no traffic: DNS, certificate, tracker deployment) and, with traffic, its publish errors (service account lost roles/pubsub.publisher, topic deleted).',
    });
  }

  const backlog = on(a.enrichBacklogAge);
  if (backlog) {
    const minutes = backlog.minutes ?? 10;
    specs.push({
      id: 'enrich-backlog-age',
      displayName: `enrich backlog older than ${minutes} minutes`,
      severity: 'WARNING',
      condition: {
        kind: 'threshold',
        displayName: `oldest unacked message on the enrich subscription > ${minutes} min`,
        filter: metricFilter({ metric: 'pubsub.googleapis.com/subscription/oldest_unacked_message_age', resource: { subscription_id: props.enrichSubscriptionName } }),
        aggregation: per(60, 'ALIGN_MAX', 'REDUCE_MAX'),
        comparison: 'COMPARISON_GT',
        threshold: minutes * 60,
        durationSeconds: 300,
      },
      runbook: 'Enrichment is falling behind. Look at the enricher charts: Dataflow at its maxWorkers (raise it), a stuck or failed job, BigQuery write errors; messages older than the subscription\'s retention are lost, so act before it.',
    });
  }

  const ratio = on(a.badRowRatio);
  if (ratio) {
    const pct = ratio.percent ?? 5;
    const datasets = unique([props.eventsTable.datasetId, ...props.badRowsTables.map((t) => t.datasetId)]);
    const bad = unique(props.badRowsTables.map((t) => t.tableId));
    specs.push({
      id: 'bad-row-ratio',
      displayName: `bad rows above ${pct} %`,
      severity: 'WARNING',
      condition: {
        kind: 'threshold',
        displayName: `bad rows / rows written > ${pct} %`,
        filter: metricFilter({ metric: 'bigquery.googleapis.com/storage/uploaded_row_count', resource: { dataset_id: datasets }, labels: { table: bad } }),
        aggregation: per(300, 'ALIGN_RATE', 'REDUCE_SUM'),
        denominator: {
          filter: metricFilter({ metric: 'bigquery.googleapis.com/storage/uploaded_row_count', resource: { dataset_id: datasets }, labels: { table: unique([props.eventsTable.tableId, ...bad]) } }),
          aggregation: per(300, 'ALIGN_RATE', 'REDUCE_SUM'),
        },
        comparison: 'COMPARISON_GT',
        threshold: pct / 100,
        durationSeconds: (ratio.minutes ?? 15) * 60,
      },
      runbook: 'Many events fail validation. Group them: `SELECT failure_type, schema_keys, ANY_VALUE(message_texts) FROM bad_rows_parsed WHERE failure_tstamp > TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL 1 HOUR) GROUP BY 1, 2`; fix the schema or the tracking, deploy, then replay with `npx waymark recover`.',
    });
  }

  const e = props.enricher;
  if (e.kind === 'dataflow') {
    if (on(a.enricherFailed)) {
      specs.push({
        id: 'enricher-failed',
        displayName: 'Dataflow enrichment job failed',
        severity: 'CRITICAL',
        condition: {
          kind: 'threshold',
          displayName: `Dataflow job ${e.jobName} is failed`,
          filter: metricFilter({ metric: 'dataflow.googleapis.com/job/is_failed', resource: { job_name: e.jobName } }),
          aggregation: per(60, 'ALIGN_MAX', 'REDUCE_MAX'),
          comparison: 'COMPARISON_GT',
          threshold: 0,
          durationSeconds: 0,
        },
        runbook: 'The streaming job failed: events pile up in the enrich subscription (nothing is lost within its retention). Read the job\'s error in the Dataflow console, fix it (permissions, a UDF that does not load, the template), then `cdktf deploy` relaunches the job.',
      });
    }
    const notRunning = on(a.enricherNotRunning);
    if (notRunning) {
      const minutes = notRunning.minutes ?? 10;
      specs.push({
        id: 'enricher-not-running',
        displayName: `Dataflow enrichment job not running for ${minutes} minutes`,
        severity: 'CRITICAL',
        condition: {
          kind: 'absent',
          displayName: `no system lag from job ${e.jobName} for ${minutes} minutes`,
          filter: metricFilter({ metric: 'dataflow.googleapis.com/job/system_lag', resource: { job_name: e.jobName } }),
          aggregation: per(60, 'ALIGN_MAX', 'REDUCE_MAX'),
          durationSeconds: minutes * 60,
        },
        runbook: 'The job reports nothing: it was cancelled or drained, is stuck starting, or was never launched. Check its state in the Dataflow console and relaunch with `cdktf deploy`; the enrich subscription keeps the events meanwhile.',
      });
    }
  } else {
    const errors = on(a.enricherErrors);
    if (errors) {
      const pct = errors.percent ?? 5;
      const svc = { service_name: e.serviceName };
      specs.push({
        id: 'enricher-errors',
        displayName: `serverless enricher 5xx above ${pct} %`,
        severity: 'CRITICAL',
        condition: {
          kind: 'threshold',
          displayName: `enricher 5xx responses / all > ${pct} %`,
          filter: metricFilter({ metric: 'run.googleapis.com/request_count', resource: svc, labels: { response_code_class: '5xx' } }),
          aggregation: per(300, 'ALIGN_RATE', 'REDUCE_SUM'),
          denominator: { filter: metricFilter({ metric: 'run.googleapis.com/request_count', resource: svc }), aggregation: per(300, 'ALIGN_RATE', 'REDUCE_SUM') },
          comparison: 'COMPARISON_GT',
          threshold: pct / 100,
          durationSeconds: (errors.minutes ?? 5) * 60,
        },
        runbook: 'The serverless enricher fails requests: Pub/Sub retries them, so the backlog grows. Read the Cloud Run service\'s logs (crashes, BigQuery errors), roll back its last revision if it is new.',
      });
    }
  }

  const bq = on(a.bigQuerySubscriptionBacklogAge);
  const bqNames = unique(props.bigQuerySubscriptionNames ?? []);
  if (bq && bqNames.length > 0) {
    const minutes = bq.minutes ?? 10;
    specs.push({
      id: 'bigquery-subscription-backlog-age',
      displayName: `BigQuery subscription backlog older than ${minutes} minutes`,
      severity: 'CRITICAL',
      condition: {
        kind: 'threshold',
        displayName: `oldest unacked message on a BigQuery subscription > ${minutes} min`,
        filter: metricFilter({ metric: 'pubsub.googleapis.com/subscription/oldest_unacked_message_age', resource: { subscription_id: bqNames.length === 1 ? bqNames[0] : bqNames } }),
        // One series per subscription, so the incident names the one that is stuck.
        aggregation: per(60, 'ALIGN_MAX', 'REDUCE_MAX', ['resource.label.subscription_id']),
        comparison: 'COMPARISON_GT',
        threshold: minutes * 60,
        durationSeconds: 300,
      },
      // A subscription in an error state (table not found, permission denied, schema mismatch) delivers nothing to its
      // dead-letter topic: the messages stay in the backlog for the retention (https://cloud.google.com/pubsub/docs/bigquery-troubleshooting).
      // Its state is BigQueryConfig.state (ACTIVE, PERMISSION_DENIED, NOT_FOUND, SCHEMA_MISMATCH, ...):
      // https://cloud.google.com/pubsub/docs/reference/rest/v1/projects.subscriptions (Subscription.state, BigQueryConfig.State)
      runbook: 'A BigQuery subscription is not writing its table: its messages pile up in its backlog, and a subscription in an error state sends nothing to a dead-letter topic. Look at its state: the subscription\'s page in the Pub/Sub console, or `gcloud pubsub subscriptions describe <subscription> --format="value(state,bigqueryConfig.state)"` (the subscription is named in the incident). NOT_FOUND: the table was deleted or renamed (restore it, or `cdktf deploy` recreates it). PERMISSION_DENIED: the Pub/Sub service agent lost `roles/bigquery.dataEditor` on the table or `roles/bigquery.metadataViewer` on the dataset, or the BigQuery API is disabled (`cdktf deploy` restores the grants). SCHEMA_MISMATCH: the table\'s schema no longer fits the messages (a column removed, its type or mode changed outside Waymark). Once fixed, the backlog drains by itself; messages older than the subscription\'s retention (7 days) are lost, so act before it.',
    });
  }

  const up = on(a.uptime);
  if (uptime && up) {
    const failing = up.failingRegions ?? 1;
    specs.push({
      id: 'uptime',
      displayName: 'collector /health failing',
      severity: 'CRITICAL',
      condition: {
        kind: 'threshold',
        displayName: `uptime check failing from more than ${failing} region${failing === 1 ? '' : 's'}`,
        // The documented uptime alert: count the failed checks per host over the regions (uptime-alerting page).
        filter: metricFilter({ metric: 'monitoring.googleapis.com/uptime_check/check_passed', labels: { check_id: uptime.uptimeCheckId } }),
        aggregation: per(1200, 'ALIGN_NEXT_OLDER', 'REDUCE_COUNT_FALSE', ['resource.label.host']),
        comparison: 'COMPARISON_GT',
        threshold: failing,
        durationSeconds: 60,
      },
      runbook: 'The collector\'s /health fails through the global IP from several regions: users cannot send events. Check the load balancer (certificate, forwarding rule), the backends\' health and Cloud Armor rules; a failure from one region only is the network, not the collector.',
    });
  }
  return specs;
}

function latencySql(t: MonitoredTable, lookbackDays: number): string {
  return [
    '-- End-to-end latency per minute: collector_tstamp (the collector received the request) to load_tstamp (BigQuery wrote',
    '-- the row, the column default); etl_tstamp (the enrichment time) stands in where load_tstamp is empty.',
    'WITH latency AS (',
    '  SELECT',
    '    TIMESTAMP_TRUNC(collector_tstamp, MINUTE) AS minute,',
    '    TIMESTAMP_DIFF(COALESCE(load_tstamp, etl_tstamp), collector_tstamp, MILLISECOND) AS ms,',
    '    load_tstamp IS NULL AS from_etl,',
    '    TIMESTAMP_DIFF(etl_tstamp, collector_tstamp, MILLISECOND) AS enrich_ms',
    `  FROM \`${t.project}.${t.datasetId}.${t.tableId}\``,
    `  WHERE collector_tstamp >= TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL ${lookbackDays} DAY)`,
    ')',
    'SELECT',
    '  minute,',
    '  COUNT(*) AS events,',
    '  APPROX_QUANTILES(ms, 100)[OFFSET(50)] AS p50_ms,',
    '  APPROX_QUANTILES(ms, 100)[OFFSET(95)] AS p95_ms,',
    '  APPROX_QUANTILES(ms, 100)[OFFSET(99)] AS p99_ms,',
    '  MAX(ms) AS max_ms,',
    // Measured in the enricher: collector_tstamp to etl_tstamp (when the enrichment ran), the share before BigQuery.
    '  APPROX_QUANTILES(enrich_ms, 100)[OFFSET(50)] AS p50_enrich_ms,',
    '  APPROX_QUANTILES(enrich_ms, 100)[OFFSET(99)] AS p99_enrich_ms,',
    '  COUNTIF(from_etl) AS events_without_load_tstamp',
    'FROM latency',
    'GROUP BY minute',
    '',
  ].join('\n');
}

function unique(values: readonly string[]): string[] {
  return values.filter((v, i) => values.indexOf(v) === i);
}

function validate(props: PipelineMonitoringProps): void {
  if (props.projectId !== undefined) checkProjectId(NAME, 'projectId', props.projectId);
  if (!props.enricher || (props.enricher.kind !== 'dataflow' && props.enricher.kind !== 'serverless')) {
    throw new PropError(NAME, 'enricher', "must be MonitoredEnricher.dataflow(jobName, region) or MonitoredEnricher.serverless(serviceName, region)");
  }
  checkRegion(NAME, 'enricher', props.enricher.region);
  if (props.badRowsTables.length === 0) throw new PropError(NAME, 'badRowsTables', 'must name at least one table of bad rows (the dead-letter table)');
  if (props.collector?.healthCheckHost !== undefined) checkDomain(NAME, 'collector', props.collector.healthCheckHost);
  const u = props.uptimeCheck;
  if (u) {
    const regions = u.regions ?? [];
    if (u.regions !== undefined && (regions.length < 3 || regions.some((r) => !UPTIME_REGIONS.includes(r)))) {
      throw new PropError(NAME, 'uptimeCheck', `regions must name at least 3 of ${UPTIME_REGIONS.join(', ')} (an uptime check runs from at least 3 regions, ${SOURCES.uptime})`);
    }
    if (u.path !== undefined && !u.path.startsWith('/')) throw new PropError(NAME, 'uptimeCheck', `path must start with '/', got '${u.path}'`);
  }
  const a = props.alerts ?? {};
  const minutes = (key: keyof PipelineAlerts, v: AlertToggle<{ minutes?: number }> | undefined, min: number, max: number): void => {
    if (v && v.minutes !== undefined) checkInteger(NAME, `alerts.${key}.minutes`, v.minutes, min, max);
  };
  const percent = (key: keyof PipelineAlerts, v: AlertToggle<{ percent?: number }> | undefined): void => {
    if (v && v.percent !== undefined && !(v.percent > 0 && v.percent < 100)) throw new PropError(NAME, `alerts.${key}.percent`, `must be between 0 and 100 (exclusive), got ${v.percent}`);
  };
  minutes('collector5xxRatio', a.collector5xxRatio, 1, 1440);
  percent('collector5xxRatio', a.collector5xxRatio);
  // Absence conditions: at least 2 minutes, at most a day (MetricAbsence.duration).
  minutes('noEvents', a.noEvents, 2, 1440);
  minutes('enrichBacklogAge', a.enrichBacklogAge, 1, 10080);
  minutes('badRowRatio', a.badRowRatio, 1, 1440);
  percent('badRowRatio', a.badRowRatio);
  minutes('enricherNotRunning', a.enricherNotRunning, 2, 1440);
  minutes('enricherErrors', a.enricherErrors, 1, 1440);
  minutes('bigQuerySubscriptionBacklogAge', a.bigQuerySubscriptionBacklogAge, 1, 10080);
  percent('enricherErrors', a.enricherErrors);
  if (a.uptime && a.uptime.failingRegions !== undefined) checkInteger(NAME, 'alerts.uptime.failingRegions', a.uptime.failingRegions, 0, 6);
  if (props.latencyLookbackDays !== undefined) checkInteger(NAME, 'latencyLookbackDays', props.latencyLookbackDays, 1, 3650);
}
