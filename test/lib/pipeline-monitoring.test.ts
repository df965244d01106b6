/**
 * PipelineMonitoring: the dashboard JSON validated against the Dashboard resource's documented shape
 * (https://cloud.google.com/monitoring/api/ref_v3/rest/v1/projects.dashboards) and the documented metric types
 * (lib/private/monitoring/metrics.ts, each with its source), the alert policies with their defaults and props, the
 * uptime check, and the e2e_latency view. Planted defects show the validators can fail.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Construct } from 'constructs';
import { Testing } from 'cdktf';
import { buildApp, WaymarkEnvironmentStack } from '../../examples/app';
import { ENVIRONMENTS } from '../../examples/environments';
import { STABLE_ASSET_HASHES_CONTEXT } from '../../lib/private/assets';
import { GoogleBetaProvider } from '@cdktf/provider-google-beta/lib/provider';
import { ClickstreamPipeline } from '../../lib/clickstream-pipeline';
import { Enrichment } from '../../lib/enrichment';
import { CollectorBackend } from '../../lib/collector-backend';
import { MonitoredEnricher, PipelineMonitoring, PipelineMonitoringProps } from '../../lib/pipeline-monitoring';
import { ALIGNERS, Dashboard, REDUCERS, validateDashboard } from '../../lib/private/monitoring/dashboard';
import { AlertSpec, validateAlert } from '../../lib/private/monitoring/alerts';
import { METRICS, metricFilter, RESOURCES, validateFilter } from '../../lib/private/monitoring/metrics';
import { synth } from '../helpers/synth';

const TABLES = {
  events: { project: 'acme-analytics', datasetId: 'waymark', tableId: 'events' },
  bad: { project: 'acme-analytics', datasetId: 'waymark', tableId: 'bad_rows' },
};

const BASE: PipelineMonitoringProps = {
  projectId: 'acme-analytics',
  collector: { urlMapName: 'waymark-collector-urlmap', securityPolicyName: 'waymark-collector-armor', healthCheckHost: 'c.example.com' },
  rawTopicName: 'waymark-raw',
  enrichSubscriptionName: 'waymark-enrich',
  otherSubscriptionNames: ['waymark-raw-archive'],
  enricher: MonitoredEnricher.dataflow('waymark-enrich', 'europe-west1'),
  eventsTable: TABLES.events,
  badRowsTables: [TABLES.bad],
  notificationChannels: ['projects/acme-analytics/notificationChannels/123'],
};

function make(props: Partial<PipelineMonitoringProps> = {}) {
  let monitoring!: PipelineMonitoring;
  const s = synth((scope: Construct) => {
    monitoring = new PipelineMonitoring(scope, 'monitoring', { ...BASE, ...props });
  });
  return { s, monitoring };
}

const dashboardOf = (s: ReturnType<typeof make>['s']): Dashboard => JSON.parse(s.only('google_monitoring_dashboard').dashboard_json);
const policies = (s: ReturnType<typeof make>['s']) => Object.values<any>(s.resources('google_monitoring_alert_policy'));
const filtersOf = (d: Dashboard): string[] =>
  d.mosaicLayout.tiles.flatMap((t) => (t.widget.xyChart?.dataSets ?? []).flatMap((ds) => {
    const q = ds.timeSeriesQuery;
    return q.timeSeriesFilter ? [q.timeSeriesFilter.filter] : q.timeSeriesFilterRatio ? [q.timeSeriesFilterRatio.numerator.filter, q.timeSeriesFilterRatio.denominator.filter] : [];
  }));
const titles = (d: Dashboard): string[] => d.mosaicLayout.tiles.map((t) => t.widget.title);

describe('PipelineMonitoring', () => {
  const dataflow = make();
  const serverless = make({ enricher: MonitoredEnricher.serverless('waymark-enricher', 'europe-west1') });

  test('snapshot (locks Terraform addresses)', () => {
    expect(dataflow.s.text).toMatchSnapshot();
  });

  test('the synthesized dashboard_json is valid against the documented Dashboard shape (both enricher kinds)', () => {
    expect(validateDashboard(dashboardOf(dataflow.s))).toEqual([]);
    expect(validateDashboard(dashboardOf(serverless.s), { ...METRICS, [`logging.googleapis.com/user/waymark-bad-rows`]: { resource: 'cloud_run_revision', kind: 'DELTA', value: 'INT64', labels: ['failure_type'], source: '' } })).toEqual([]);
  });

  test('the dashboard has every chart the issue asks for (Dataflow path)', () => {
    const d = dashboardOf(dataflow.s);
    expect(titles(d)).toEqual(expect.arrayContaining([
      'Requests per second by backend and region',
      '4xx and 5xx responses per second by backend and region',
      'Latency p50 and p99 by backend and region (ms)',
      'Cloud Armor: requests blocked or throttled per second',
      'Subscription backlog (undelivered messages)',
      'Oldest unacknowledged message age',
      'System lag and data freshness (s)',
      'Rows written per minute by table',
      'Bad rows per minute',
      'Bad-row ratio (bad rows / all rows written)',
      'End-to-end latency and bad rows by failure type',
    ]));
    const types = new Set(filtersOf(d).map((f) => /metric\.type = "([^"]+)"/.exec(f)![1]));
    expect([...types].sort()).toEqual([
      'bigquery.googleapis.com/storage/uploaded_row_count', 'dataflow.googleapis.com/job/data_watermark_age', 'dataflow.googleapis.com/job/system_lag',
      'loadbalancing.googleapis.com/https/request_count', 'loadbalancing.googleapis.com/https/total_latencies', 'networksecurity.googleapis.com/https/request_count',
      'pubsub.googleapis.com/subscription/num_undelivered_messages', 'pubsub.googleapis.com/subscription/oldest_unacked_message_age', 'pubsub.googleapis.com/topic/send_request_count',
    ]);
    // Per backend and region: grouped by the load balancer's backend service and scope.
    const latency = d.mosaicLayout.tiles.find((t) => t.widget.title.startsWith('Latency'))!.widget.xyChart!.dataSets;
    expect(latency.map((x) => x.timeSeriesQuery.timeSeriesFilter!.aggregation.crossSeriesReducer)).toEqual(['REDUCE_PERCENTILE_50', 'REDUCE_PERCENTILE_99']);
    expect(latency[0].timeSeriesQuery.timeSeriesFilter!.aggregation.groupByFields).toEqual(['resource.label.backend_target_name', 'resource.label.backend_scope']);
    // Monitoring's legend placeholders reach Monitoring as `${...}`: Terraform's escape `$${` in dashboard_json.
    expect(latency[1].legendTemplate).toBe('p99 $${resource.labels.backend_target_name} $${resource.labels.backend_scope}');
    expect(filtersOf(d)).toContain('metric.type = "pubsub.googleapis.com/subscription/num_undelivered_messages" AND resource.type = "pubsub_subscription" AND resource.label.subscription_id = one_of("waymark-enrich", "waymark-raw-archive")');
  });

  test('serverless enricher: Cloud Run request rate, errors and latency, and a log-based bad-row metric by failure type', () => {
    const d = dashboardOf(serverless.s);
    expect(titles(d)).toEqual(expect.arrayContaining(['Enricher requests per second by response class', 'Enricher latency p50 and p99 (ms)', 'Bad rows per minute by failure type']));
    expect(titles(d)).not.toContain('System lag and data freshness (s)');
    const metric = serverless.s.only('google_logging_metric');
    expect(metric.filter).toBe('resource.type="cloud_run_revision" AND resource.labels.service_name="waymark-enricher" AND jsonPayload.failure_type:*');
    expect(metric.label_extractors).toEqual({ failure_type: 'EXTRACT(jsonPayload.failure_type)' });
    expect(metric.metric_descriptor).toMatchObject({ metric_kind: 'DELTA', value_type: 'INT64' });
    const ids = policies(serverless.s).map((p) => p.display_name);
    expect(ids).toContain('waymark: serverless enricher 5xx above 5 %');
    expect(ids.some((n) => n.includes('Dataflow'))).toBe(false);
    expect(dataflow.s.resources('google_logging_metric')).toEqual({});
  });

  test('alert policies: seven by default on the Dataflow path, each with its runbook and the notification channels', () => {
    const all = policies(dataflow.s);
    expect(all.map((p) => p.display_name).sort()).toEqual([
      'waymark: Dataflow enrichment job failed',
      'waymark: Dataflow enrichment job not running for 10 minutes',
      'waymark: bad rows above 5 %',
      'waymark: collector /health failing',
      'waymark: collector 5xx above 1 %',
      'waymark: enrich backlog older than 10 minutes',
      'waymark: no events for 30 minutes',
    ]);
    for (const p of all) {
      expect(p.notification_channels).toEqual(['projects/acme-analytics/notificationChannels/123']);
      expect(p.documentation.content).toMatch(/Runbook: docs\/operations\.md/);
      expect(p.conditions).toHaveLength(1);
    }
  });

  test('alert conditions: thresholds and filters as documented', () => {
    const by = (name: string) => policies(dataflow.s).find((p) => p.display_name.includes(name))!.conditions[0];
    const five = by('5xx').condition_threshold;
    expect(five.filter).toBe('metric.type = "loadbalancing.googleapis.com/https/request_count" AND resource.type = "https_lb_rule" AND resource.label.url_map_name = "waymark-collector-urlmap" AND metric.label.response_code_class = "500"');
    expect(five.denominator_filter).toBe('metric.type = "loadbalancing.googleapis.com/https/request_count" AND resource.type = "https_lb_rule" AND resource.label.url_map_name = "waymark-collector-urlmap"');
    expect(five).toMatchObject({ comparison: 'COMPARISON_GT', threshold_value: 0.01, duration: '300s' });
    expect(by('no events').condition_absent).toMatchObject({ duration: '1800s' });
    expect(by('backlog').condition_threshold).toMatchObject({ threshold_value: 600, comparison: 'COMPARISON_GT' });
    expect(by('bad rows').condition_threshold).toMatchObject({ threshold_value: 0.05, duration: '900s' });
    expect(by('bad rows').condition_threshold.denominator_filter).toContain('metric.label.table = one_of("events", "bad_rows")');
    expect(by('failed').condition_threshold.filter).toContain('metric.type = "dataflow.googleapis.com/job/is_failed"');
    expect(by('not running').condition_absent.filter).toContain('resource.label.job_name = "waymark-enrich"');
    const up = by('/health').condition_threshold;
    expect(up.filter).toMatch(/^metric\.type = "monitoring\.googleapis\.com\/uptime_check\/check_passed" AND resource\.type = "uptime_url" AND metric\.label\.check_id = "\$\{google_monitoring_uptime_check_config\.[^.]+\.uptime_check_id\}"$/);
    expect(up.aggregations[0]).toEqual({ alignment_period: '1200s', per_series_aligner: 'ALIGN_NEXT_OLDER', cross_series_reducer: 'REDUCE_COUNT_FALSE', group_by_fields: ['resource.label.host'] });
    expect(up.threshold_value).toBe(1);
  });

  test('each alert is tunable and can be turned off', () => {
    const { s } = make({ alerts: { collector5xxRatio: { percent: 2.5, minutes: 10 }, noEvents: false, enrichBacklogAge: { minutes: 30 }, badRowRatio: false, enricherFailed: false, enricherNotRunning: false, uptime: { failingRegions: 2 } } });
    const all = policies(s);
    expect(all.map((p) => p.display_name).sort()).toEqual(['waymark: collector /health failing', 'waymark: collector 5xx above 2.5 %', 'waymark: enrich backlog older than 30 minutes']);
    const five = all.find((p) => p.display_name.includes('5xx')).conditions[0].condition_threshold;
    expect(five).toMatchObject({ threshold_value: 0.025, duration: '600s' });
    expect(all.find((p) => p.display_name.includes('/health')).conditions[0].condition_threshold.threshold_value).toBe(2);
  });

  test('uptime check: /health over HTTPS on the collector host from three regions; off with uptimeCheck: false', () => {
    const u = dataflow.s.only('google_monitoring_uptime_check_config');
    expect(u).toMatchObject({
      selected_regions: ['USA', 'EUROPE', 'ASIA_PACIFIC'],
      period: '60s',
      monitored_resource: { type: 'uptime_url', labels: { host: 'c.example.com', project_id: 'acme-analytics' } },
      http_check: { path: '/health', port: 443, use_ssl: true, validate_ssl: true },
    });
    const off = make({ uptimeCheck: false }).s;
    expect(off.resources('google_monitoring_uptime_check_config')).toEqual({});
    expect(policies(off).some((p) => p.display_name.includes('/health'))).toBe(false);
    expect(() => make({ uptimeCheck: { regions: ['USA', 'EUROPE'] } })).toThrow(/PipelineMonitoring: prop 'uptimeCheck' regions must name at least 3/);
  });

  test('e2e_latency view: collector_tstamp to load_tstamp per minute, over the last 7 days of partitions', () => {
    const view = Object.values<any>(dataflow.s.resources('google_bigquery_table')).find((t) => t.table_id === 'e2e_latency');
    expect(view.dataset_id).toBe('waymark');
    expect(view.view.query).toContain('TIMESTAMP_DIFF(COALESCE(load_tstamp, etl_tstamp), collector_tstamp, MILLISECOND) AS ms');
    expect(view.view.query).toContain('FROM `acme-analytics.waymark.events`');
    expect(view.view.query).toContain('WHERE collector_tstamp >= TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL 7 DAY)');
    expect(view.view.query).toContain('APPROX_QUANTILES(ms, 100)[OFFSET(99)] AS p99_ms');
    expect(make({ latencyView: false }).s.resources('google_bigquery_table')).toEqual({});
  });

  // A BigQuery subscription in an error state (table not found, permission denied, schema mismatch) does not deliver to
  // its dead-letter topic: its messages stay in the backlog for message_retention_duration
  // (https://cloud.google.com/pubsub/docs/bigquery-troubleshooting). Only the backlog's age shows it.
  test('BigQuery subscriptions: an alert per stuck subscription on its oldest unacked message, with the error-state runbook', () => {
    const { s } = make({ enricher: MonitoredEnricher.serverless('waymark-enricher', 'europe-west1'), bigQuerySubscriptionNames: ['waymark-enriched-bigquery', 'waymark-enrich-bad-bigquery'] });
    const p = policies(s).find((x) => x.display_name === 'waymark: BigQuery subscription backlog older than 10 minutes');
    expect(p).toBeDefined();
    const c = p.conditions[0].condition_threshold;
    expect(c.filter).toBe('metric.type = "pubsub.googleapis.com/subscription/oldest_unacked_message_age" AND resource.type = "pubsub_subscription" AND resource.label.subscription_id = one_of("waymark-enriched-bigquery", "waymark-enrich-bad-bigquery")');
    expect(c).toMatchObject({ comparison: 'COMPARISON_GT', threshold_value: 600, duration: '300s' });
    expect(c.aggregations[0]).toEqual({ alignment_period: '60s', per_series_aligner: 'ALIGN_MAX', cross_series_reducer: 'REDUCE_MAX', group_by_fields: ['resource.label.subscription_id'] });
    expect(p.severity).toBe('CRITICAL');
    const runbook: string = p.documentation.content;
    for (const cause of ['NOT_FOUND', 'PERMISSION_DENIED', 'SCHEMA_MISMATCH', 'roles/bigquery.dataEditor', 'gcloud pubsub subscriptions describe', 'Pub/Sub console', 'dead-letter']) expect(runbook).toContain(cause);
    expect(runbook).toMatch(/Runbook: docs\/operations\.md \(alert `bigquery-subscription-backlog-age`\)/);
    // Charted with the other subscriptions.
    const charted = filtersOf(dashboardOf(s)).filter((f) => f.includes('oldest_unacked_message_age'));
    expect(charted).toEqual([expect.stringContaining('one_of("waymark-enrich", "waymark-raw-archive", "waymark-enriched-bigquery", "waymark-enrich-bad-bigquery")')]);
    expect(validateAlert(make({ bigQuerySubscriptionNames: ['x-bq'] }).monitoring.alertSpecs.find((a) => a.id === 'bigquery-subscription-backlog-age')!)).toEqual([]);
  });

  test('BigQuery subscription alert: tunable, off with false, absent without BigQuery subscriptions', () => {
    const names = { bigQuerySubscriptionNames: ['waymark-enriched-bigquery'] };
    const tuned = policies(make({ ...names, alerts: { bigQuerySubscriptionBacklogAge: { minutes: 30 } } }).s).find((x) => x.display_name.includes('BigQuery subscription'));
    expect(tuned.conditions[0].condition_threshold).toMatchObject({ threshold_value: 1800, filter: expect.stringContaining('resource.label.subscription_id = "waymark-enriched-bigquery"') });
    expect(policies(make({ ...names, alerts: { bigQuerySubscriptionBacklogAge: false } }).s).some((x) => x.display_name.includes('BigQuery subscription'))).toBe(false);
    expect(policies(make().s).some((x) => x.display_name.includes('BigQuery subscription'))).toBe(false);
    expect(() => make({ ...names, alerts: { bigQuerySubscriptionBacklogAge: { minutes: 0 } } })).toThrow(/prop 'alerts.bigQuerySubscriptionBacklogAge.minutes'/);
  });

  test('bad props fail with the prop named', () => {
    expect(() => make({ alerts: { badRowRatio: { percent: 150 } } })).toThrow(/prop 'alerts.badRowRatio.percent' must be between 0 and 100/);
    expect(() => make({ alerts: { noEvents: { minutes: 1 } } })).toThrow(/prop 'alerts.noEvents.minutes'/);
    expect(() => make({ badRowsTables: [] })).toThrow(/prop 'badRowsTables'/);
    expect(() => make({ enricher: { kind: 'lambda' } as never })).toThrow(/prop 'enricher' must be MonitoredEnricher/);
  });
});

describe('the dashboard validator catches planted defects', () => {
  const good = (): any => JSON.parse(make().s.only('google_monitoring_dashboard').dashboard_json);
  const firstFilter = (d: any) => d.mosaicLayout.tiles.find((t: any) => t.widget.xyChart).widget.xyChart.dataSets[0].timeSeriesQuery.timeSeriesFilter;

  const defects: Array<[string, (d: any) => void, RegExp]> = [
    ['a misspelt metric type', (d) => { firstFilter(d).filter = firstFilter(d).filter.replace('https/request_count', 'https/requests_count'); }, /not a documented metric/],
    ['the wrong resource type', (d) => { firstFilter(d).filter = firstFilter(d).filter.replace('"https_lb_rule"', '"http_load_balancer"'); }, /written by resource type https_lb_rule, not http_load_balancer/],
    ['an undocumented label', (d) => { firstFilter(d).filter += ' AND resource.label.backend_service = "x"'; }, /resource label backend_service is not a label of https_lb_rule/],
    ['an aligner that does not exist', (d) => { firstFilter(d).aggregation.perSeriesAligner = 'ALIGN_AVERAGE'; }, /ALIGN_AVERAGE is not an Aligner/],
    ['ALIGN_MAX on a DELTA metric', (d) => { firstFilter(d).aggregation.perSeriesAligner = 'ALIGN_MAX'; }, /ALIGN_MAX is not valid for a DELTA INT64 metric/],
    ['a reducer with ALIGN_NONE', (d) => { firstFilter(d).aggregation.perSeriesAligner = 'ALIGN_NONE'; }, /needs a perSeriesAligner other than ALIGN_NONE/],
    ['a BOOL reducer on a rate (DOUBLE)', (d) => { firstFilter(d).aggregation.crossSeriesReducer = 'REDUCE_COUNT_TRUE'; }, /REDUCE_COUNT_TRUE is not valid for DOUBLE values/],
    ['groupByFields without a reducer', (d) => { delete firstFilter(d).aggregation.crossSeriesReducer; }, /groupByFields without a crossSeriesReducer/],
    ['an alignment period under a minute', (d) => { firstFilter(d).aggregation.alignmentPeriod = '30s'; }, /alignmentPeriod must be a duration of at least 60 seconds/],
    ['a tile wider than the grid', (d) => { d.mosaicLayout.tiles[1].xPos = 40; }, /exceeds the 48 columns/],
    ['overlapping tiles', (d) => { d.mosaicLayout.tiles[2].yPos = d.mosaicLayout.tiles[1].yPos; d.mosaicLayout.tiles[2].xPos = 0; }, /overlaps/],
    ['a widget with two contents', (d) => { d.mosaicLayout.tiles[1].widget.text = { content: 'x', format: 'MARKDOWN' }; }, /exactly one content field/],
    ['an unknown plot type', (d) => { d.mosaicLayout.tiles[1].widget.xyChart.dataSets[0].plotType = 'BARS'; }, /plotType BARS is not a PlotType/],
    ['timeSeriesQuery with no query', (d) => { delete d.mosaicLayout.tiles[1].widget.xyChart.dataSets[0].timeSeriesQuery.timeSeriesFilter; }, /must have exactly one of timeSeriesFilter/],
    ['columns above the documented 48', (d) => { d.mosaicLayout.columns = 64; }, /columns must be 1\.\.48/],
    ['a misnamed layout', (d) => { d.mosaicLayouts = d.mosaicLayout; delete d.mosaicLayout; }, /unknown field mosaicLayouts/],
  ];
  test.each(defects)('%s', (_name, plant, message) => {
    const d = good();
    expect(validateDashboard(d)).toEqual([]);
    plant(d);
    expect(validateDashboard(d).join('\n')).toMatch(message);
  });

  test('the construct refuses to synthesize an invalid dashboard or alert (a planted unknown metric)', () => {
    const saved = METRICS['dataflow.googleapis.com/job/system_lag'];
    delete (METRICS as Record<string, unknown>)['dataflow.googleapis.com/job/system_lag'];
    try {
      expect(() => make()).toThrow(/unknown metric type dataflow.googleapis.com\/job\/system_lag/);
    } finally {
      (METRICS as Record<string, unknown>)['dataflow.googleapis.com/job/system_lag'] = saved;
    }
  });
});

describe('catalogue and filter properties', () => {
  test('every documented metric names a documented resource, with a source URL on Google\'s docs', () => {
    for (const [type, info] of Object.entries(METRICS)) {
      expect({ type, resource: RESOURCES[info.resource] !== undefined }).toEqual({ type, resource: true });
      expect(info.source).toMatch(/^https:\/\/cloud\.google\.com\//);
    }
  });

  test('property: metricFilter of any documented metric and any of its labels validates; an unknown label never does', () => {
    let seed = 7;
    const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    const types = Object.keys(METRICS);
    for (let i = 0; i < 300; i++) {
      const type = types[rand(types.length)];
      const info = METRICS[type];
      const rl = RESOURCES[info.resource].labels;
      const resource: Record<string, string | string[]> = {};
      const labels: Record<string, string | number | boolean> = {};
      if (rl.length) resource[rl[rand(rl.length)]] = rand(2) ? 'x' : ['a', 'b'];
      if (info.labels.length) labels[info.labels[rand(info.labels.length)]] = [true, 500, 'v'][rand(3)];
      const f = metricFilter({ metric: type, resource, labels });
      expect({ f, problems: validateFilter(f) }).toEqual({ f, problems: [] });
      expect(validateFilter(`${f} AND metric.label.not_a_label_${i} = "x"`).length).toBe(1);
    }
  });

  test('aligner and reducer lists are the documented enums (no duplicates, the ones used are in them)', () => {
    expect(new Set(ALIGNERS).size).toBe(ALIGNERS.length);
    expect(new Set(REDUCERS).size).toBe(REDUCERS.length);
    expect(ALIGNERS).toEqual(expect.arrayContaining(['ALIGN_RATE', 'ALIGN_DELTA', 'ALIGN_MAX', 'ALIGN_SUM', 'ALIGN_NEXT_OLDER', 'ALIGN_PERCENTILE_99']));
    expect(REDUCERS).toEqual(expect.arrayContaining(['REDUCE_SUM', 'REDUCE_MAX', 'REDUCE_COUNT_FALSE', 'REDUCE_PERCENTILE_99']));
  });

  test('alert validator catches a ratio whose parts are aligned differently and a bad absence duration', () => {
    const base: AlertSpec = {
      id: 'x', displayName: 'x', severity: 'WARNING', runbook: 'do something',
      condition: {
        kind: 'threshold', displayName: 'x', comparison: 'COMPARISON_GT', threshold: 0.1, durationSeconds: 60,
        filter: metricFilter({ metric: 'run.googleapis.com/request_count' }), aggregation: { alignmentPeriod: '300s', perSeriesAligner: 'ALIGN_RATE', crossSeriesReducer: 'REDUCE_SUM' },
        denominator: { filter: metricFilter({ metric: 'run.googleapis.com/request_count' }), aggregation: { alignmentPeriod: '300s', perSeriesAligner: 'ALIGN_RATE', crossSeriesReducer: 'REDUCE_SUM' } },
      },
    };
    expect(validateAlert(base)).toEqual([]);
    expect(validateAlert({ ...base, condition: { ...base.condition, denominator: { ...(base.condition as any).denominator, aggregation: { alignmentPeriod: '60s', perSeriesAligner: 'ALIGN_RATE', crossSeriesReducer: 'REDUCE_SUM' } } } as any }).join()).toMatch(/same alignmentPeriod/);
    expect(validateAlert({ ...base, condition: { kind: 'absent', displayName: 'x', filter: base.condition.filter, aggregation: base.condition.aggregation, durationSeconds: 90 } }).join()).toMatch(/whole number of minutes, at least 2/);
    expect(validateAlert({ ...base, runbook: ' ' }).join()).toMatch(/runbook line is required/);
  });
});

describe('ClickstreamPipeline creates the monitoring by default', () => {
  const build = (monitoring?: false) => synth((scope: Construct) => {
    new GoogleBetaProvider(scope, 'google-beta', { project: 'acme-analytics', region: 'europe-west1' });
    new ClickstreamPipeline(scope, 'clickstream', {
      region: 'europe-west1',
      projectId: 'acme-analytics',
      collector: { domains: ['c.example.com'], backends: [CollectorBackend.cloudRun({ regions: ['europe-west1'] })] },
      ...(monitoring === false ? { monitoring } : { monitoring: { notificationChannels: ['projects/acme-analytics/notificationChannels/9'] } }),
    });
  });

  test('dashboard wired to the pipeline\'s own resources; seven alerts; the uptime check on the first domain', () => {
    const s = build();
    const d: Dashboard = JSON.parse(s.only('google_monitoring_dashboard').dashboard_json);
    expect(validateDashboard(d)).toEqual([]);
    const filters = filtersOf(d).join('\n');
    expect(filters).toMatch(/resource\.label\.url_map_name = "\$\{google_compute_url_map\.[^}]+\.name\}"/);
    expect(filters).toMatch(/resource\.label\.job_name = "\$\{google_dataflow_flex_template_job\.[^}]+\.name\}"/);
    expect(filters).toMatch(/resource\.label\.policy_name = "\$\{google_compute_security_policy\.[^}]+\.name\}"/);
    expect(policies(s)).toHaveLength(7);
    expect(s.only('google_monitoring_uptime_check_config').monitored_resource.labels.host).toBe('c.example.com');
    expect(Object.values<any>(s.resources('google_project_service')).map((r) => r.service)).toContain('monitoring.googleapis.com');
  });

  test('a pixel-only pipeline: load balancer charts and the 5xx alert on the pixel\'s URL map, no uptime check', () => {
    const s = synth((scope: Construct) => {
      new GoogleBetaProvider(scope, 'google-beta', { project: 'acme-analytics', region: 'europe-west1' });
      new ClickstreamPipeline(scope, 'clickstream', { region: 'europe-west1', projectId: 'acme-analytics', pixelCollector: { domains: ['p.example.com'] } });
    });
    const d: Dashboard = JSON.parse(s.only('google_monitoring_dashboard').dashboard_json);
    expect(validateDashboard(d)).toEqual([]);
    expect(titles(d)).toContain('Requests per second by backend and region');
    expect(titles(d)).not.toContain('Cloud Armor: requests blocked or throttled per second');
    expect(policies(s).map((p) => p.display_name)).toContain('waymark: collector 5xx above 1 %');
    expect(s.resources('google_monitoring_uptime_check_config')).toEqual({});
    expect(policies(s)).toHaveLength(6);
  });

  test('the serverless path: the BigQuery subscriptions ServerlessEnricher made are alerted on (events and bad rows)', () => {
    const s = synth((scope: Construct) => {
      new GoogleBetaProvider(scope, 'google-beta', { project: 'acme-analytics', region: 'europe-west1' });
      new ClickstreamPipeline(scope, 'clickstream', {
        region: 'europe-west1',
        projectId: 'acme-analytics',
        collector: { domains: ['c.example.com'], backends: [CollectorBackend.cloudRun({ regions: ['europe-west1'] })] },
        enrichment: Enrichment.serverless(),
      });
    });
    const subscriptions = Object.entries<any>(s.resources('google_pubsub_subscription')).filter(([, r]) => r.bigquery_config);
    expect(subscriptions).toHaveLength(2);
    const p = policies(s).find((x) => x.display_name.includes('BigQuery subscription backlog'));
    expect(p).toBeDefined();
    const filter: string = p.conditions[0].condition_threshold.filter;
    for (const [address] of subscriptions) expect(filter).toContain(`\${google_pubsub_subscription.${address}.name}`);
    expect(policies(s)).toHaveLength(7);
    expect(policies(build()).some((x) => x.display_name.includes('BigQuery subscription'))).toBe(false);
  });

  test('monitoring: false creates none of it', () => {
    const s = build(false);
    expect(s.resources('google_monitoring_dashboard')).toEqual({});
    expect(s.resources('google_monitoring_alert_policy')).toEqual({});
    expect(Object.values<any>(s.resources('google_project_service')).map((r) => r.service)).not.toContain('monitoring.googleapis.com');
  });
});

describe('the prod example stack', () => {
  test('has the dashboard, at least six alert policies notifying its e-mail channel, and the uptime check', () => {
    const app = Testing.app({ context: { [STABLE_ASSET_HASHES_CONTEXT]: true } });
    buildApp(app, ENVIRONMENTS.filter((e) => e.name === 'prod'));
    const json = JSON.parse(Testing.synth(app.node.findChild('waymark-prod') as WaymarkEnvironmentStack));
    const r = json.resource;
    expect(Object.keys(r.google_monitoring_dashboard)).toHaveLength(1);
    expect(validateDashboard(JSON.parse(Object.values<any>(r.google_monitoring_dashboard)[0].dashboard_json))).toEqual([]);
    const channel = Object.entries<any>(r.google_monitoring_notification_channel);
    expect(channel).toHaveLength(1);
    expect(channel[0][1]).toMatchObject({ type: 'email', labels: { email_address: 'oncall@example.com' } });
    const alerts = Object.values<any>(r.google_monitoring_alert_policy);
    expect(alerts.length).toBeGreaterThanOrEqual(6);
    for (const a of alerts) expect(a.notification_channels).toEqual([`\${google_monitoring_notification_channel.${channel[0][0]}.id}`]);
    expect(Object.values<any>(r.google_monitoring_uptime_check_config)[0].monitored_resource.labels.host).toBe('c.example.com');
  });
});

describe('docs/operations.md', () => {
  test('has a runbook row for every alert the construct can create, with the same default', () => {
    const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'operations.md'), 'utf8');
    const specs = [...make().monitoring.alertSpecs, ...make({ enricher: MonitoredEnricher.serverless('waymark-enricher', 'europe-west1'), bigQuerySubscriptionNames: ['waymark-enriched-bigquery'] }).monitoring.alertSpecs];
    const ids = [...new Set(specs.map((s) => s.id))];
    expect(ids).toHaveLength(9);
    for (const id of ids) {
      const row = doc.split('\n').find((l) => l.startsWith(`| \`${id}\``));
      expect({ id, documented: row !== undefined }).toEqual({ id, documented: true });
    }
    expect(doc).toMatch(/\| `collector-5xx-ratio` .*above 1 %.*5 minutes/);
    expect(doc).toMatch(/\| `no-events` .*30 minutes/);
    expect(doc).toMatch(/\| `bad-row-ratio` .*above 5 %.*15 minutes/);
    expect(doc).toMatch(/\| `bigquery-subscription-backlog-age` .*older than 10 minutes.*gcloud pubsub subscriptions describe.*NOT_FOUND.*PERMISSION_DENIED.*SCHEMA_MISMATCH/);
  });
});
