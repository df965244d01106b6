/**
 * The warehouse: a BigQuery dataset with the `events` table (atomic columns plus one column per schema MODEL,
 * generated from the schema registry), the dead-letter table the Dataflow templates write failed rows to, and two
 * derived views: page views (with engaged time from page pings) and sessions.
 */
import { Construct } from 'constructs';
import { Token } from 'cdktf';
import { BigqueryDataset } from '@cdktf/provider-google/lib/bigquery-dataset';
import { BigqueryDatasetIamMember } from '@cdktf/provider-google/lib/bigquery-dataset-iam-member';
import { BigqueryTable } from '@cdktf/provider-google/lib/bigquery-table';
import { BigqueryTableIamMember } from '@cdktf/provider-google/lib/bigquery-table-iam-member';
import { DataGoogleBigqueryDefaultServiceAccount } from '@cdktf/provider-google/lib/data-google-bigquery-default-service-account';
import { KmsCryptoKeyIamMember } from '@cdktf/provider-google/lib/kms-crypto-key-iam-member';
import { selfDescribingColumnName } from '../pipeline/columns';
import type { Registry } from '../pipeline/registry/registry';
import { BigQueryField, DEAD_LETTER_FIELDS, eventsTableFields, findField, schemaJson } from './private/bigquery-schema';
import { badRowsViewSql } from './private/bad-rows-view';
import { constructLabels } from './private/labels';
import { BIGQUERY_ID, checkInteger, checkName, checkProjectId, checkRegion, PropError } from './private/validate';
import type { NewRegionsOption } from './private/regions';

const NAME = 'WarehouseSink';
const DAY_MS = 86_400_000;
const CLUSTERABLE = ['STRING', 'INTEGER', 'NUMERIC', 'BOOLEAN', 'TIMESTAMP', 'DATE'];
const MULTI_REGIONS = /^(US|EU)$/;
const KMS_KEY = /^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+$/;

/** Anything that holds a parsed schema registry: a {@link SchemaRegistry} construct, typically. */
export interface RegistrySource {
  readonly registry: Registry;
}

export interface WarehouseSinkProps extends NewRegionsOption {
  /** The schema registry whose MODELs become the self-describing columns. */
  readonly registry: RegistrySource;
  /** The project of the dataset. @default the provider's project */
  readonly projectId?: string;
  /** The dataset id. @default 'waymark' */
  readonly datasetId?: string;
  /** The dataset location: a region (`europe-west1`) or a multi-region (`US`, `EU`). @default 'US' */
  readonly location?: string;
  /**
   * A Cloud KMS key (`projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k>`) that encrypts the dataset's tables
   * (CMEK). BigQuery's encryption service account is granted encrypt/decrypt on that key only.
   * @default Google-managed encryption
   */
  readonly kmsKeyName?: string;
  /** The id of the events table. @default 'events' */
  readonly eventsTableId?: string;
  /** The id of the dead-letter table (failed rows with their payload and error). @default 'bad_rows' */
  readonly deadLetterTableId?: string;
  /** The TIMESTAMP column the events table is partitioned on, by day. @default 'collector_tstamp' */
  readonly partitionField?: string;
  /** Days after which a day's partition of the events and dead-letter tables is deleted. @default never */
  readonly partitionExpirationDays?: number;
  /**
   * Refuse queries on the events table that do not filter on the partition column. The views then need
   * `viewLookbackDays` (their queries filter the partition column only with it), or `views: false`.
   * @default false
   */
  readonly requirePartitionFilter?: boolean;
  /** Up to four top-level columns the events table is clustered by. @default ['app_id', 'event_name', 'domain_sessionid'] */
  readonly clustering?: readonly string[];
  /**
   * Protect the data: the tables refuse `terraform destroy` and the dataset is never emptied by Terraform.
   * Turn off only for throw-away environments.
   * @default true
   */
  readonly deletionProtection?: boolean;
  /** Create the `page_views` and `sessions` views. @default true */
  readonly views?: boolean;
  /**
   * Limit the views to events of the last N days (by the partition column), so that querying them reads only those
   * partitions. Without it the views read the whole events table (they de-duplicate by event_id, which a filter
   * on the view's own columns cannot prune). Required with `requirePartitionFilter` (unless `views: false`).
   * @default no limit
   */
  readonly viewLookbackDays?: number;
  /** The tracker's activity-tracking heartbeat (`heartbeatDelay`), in seconds: one page ping per window. @default 10 */
  readonly pagePingHeartbeatSeconds?: number;
  /** The tracker's `minimumVisitLength`, in seconds: engagement before the first page ping. @default 5 */
  readonly pagePingMinimumVisitSeconds?: number;
  /** Labels of every resource that takes labels. @default none (plus managed-by: waymark) */
  readonly labels?: Readonly<Record<string, string>>;
}

/**
 * A BigQuery dataset holding the `events` table, partitioned by day and clustered, whose schema is generated from
 * the schema registry: the atomic columns plus `unstruct_event_<vendor>_<name>_<model>` (RECORD) and
 * `contexts_<vendor>_<name>_<model>` (REPEATED RECORD) for every MODEL, named by the same function the enrichment
 * uses. Schema evolution: a new ADDITION updates its column in place, a new MODEL adds columns, and a change that
 * BigQuery cannot apply in place fails synth naming the schema file. Keep published schemas in the registry: removing
 * a MODEL would drop its columns, which BigQuery cannot do in place, so Terraform would have to replace the table,
 * and deletion protection refuses that.
 *
 * ```ts
 * const warehouse = new WarehouseSink(this, 'warehouse', { registry, location: 'EU' });
 * warehouse.grantRead('group:analysts@example.com');
 * ```
 */
export class WarehouseSink extends Construct {
  public readonly dataset: BigqueryDataset;
  public readonly eventsTable: BigqueryTable;
  /** Failed rows as the Dataflow templates write them: timestamp, payload, attributes, error, stack trace. */
  public readonly deadLetterTable: BigqueryTable;
  /** One row per page view with its engaged time (absent when `views` is false). */
  public readonly pageViewsView?: BigqueryTable;
  /** One row per session: start, end, page views, engaged time, landing page, referrer and campaign. */
  public readonly sessionsView?: BigqueryTable;
  /**
   * `bad_rows_parsed`: the dead-letter table's rows as columns (failure type, messages, schema keys, failure time,
   * original payload), for counting and selecting bad rows to replay (absent when `views` is false).
   */
  public readonly badRowsView?: BigqueryTable;
  /** The schema of the events table. */
  public readonly fields: readonly BigQueryField[];
  /** `project:dataset.table` of the events table, as the Dataflow templates take it. */
  public readonly eventsTableSpec: string;
  /** `project:dataset.table` of the dead-letter table. */
  public readonly deadLetterTableSpec: string;
  public readonly labels: Readonly<Record<string, string>>;

  private readonly grants = new Map<string, number>();

  constructor(scope: Construct, id: string, props: WarehouseSinkProps) {
    super(scope, id);
    validateProps(props);
    this.labels = constructLabels(NAME, props.labels);
    const project = props.projectId;
    const protect = props.deletionProtection ?? true;

    const { fields, problems } = eventsTableFields(props.registry.registry);
    if (problems.length > 0) {
      const lines = problems.map((p) => `${p.file}: ${p.message}`);
      throw new PropError(NAME, 'registry', `cannot be stored in BigQuery (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  ${lines.join('\n  ')}`);
    }
    this.fields = fields;
    const partitionField = props.partitionField ?? 'collector_tstamp';
    const clustering = props.clustering ?? ['app_id', 'event_name', 'domain_sessionid'];
    validateColumns(fields, partitionField, clustering);

    let keyGrant: KmsCryptoKeyIamMember | undefined;
    if (props.kmsKeyName !== undefined) {
      const bigquery = new DataGoogleBigqueryDefaultServiceAccount(this, 'bigquery-service-account', { project });
      keyGrant = new KmsCryptoKeyIamMember(this, 'bigquery-key-access', {
        cryptoKeyId: props.kmsKeyName,
        role: 'roles/cloudkms.cryptoKeyEncrypterDecrypter',
        member: bigquery.member,
      });
    }

    this.dataset = new BigqueryDataset(this, 'dataset', {
      project,
      datasetId: props.datasetId ?? 'waymark',
      location: props.location ?? 'US',
      description: 'Waymark clickstream: enriched events, failed rows and derived views',
      deleteContentsOnDestroy: !protect,
      defaultEncryptionConfiguration: props.kmsKeyName !== undefined ? { kmsKeyName: props.kmsKeyName } : undefined,
      labels: this.labels,
      dependsOn: keyGrant ? [keyGrant] : undefined,
    });

    const expirationMs = props.partitionExpirationDays !== undefined ? props.partitionExpirationDays * DAY_MS : undefined;
    this.eventsTable = new BigqueryTable(this, 'events', {
      project,
      datasetId: this.dataset.datasetId,
      tableId: props.eventsTableId ?? 'events',
      description: 'Enriched events: one row per event, atomic columns plus one column per schema MODEL (generated from the schema registry)',
      schema: schemaJson(fields),
      timePartitioning: { type: 'DAY', field: partitionField, expirationMs },
      requirePartitionFilter: props.requirePartitionFilter ?? false,
      clustering: [...clustering],
      deletionProtection: protect,
      labels: this.labels,
    });

    this.deadLetterTable = new BigqueryTable(this, 'dead-letter', {
      project,
      datasetId: this.dataset.datasetId,
      tableId: props.deadLetterTableId ?? 'bad_rows',
      description: DEAD_LETTER_DESCRIPTION,
      schema: schemaJson(DEAD_LETTER_FIELDS),
      timePartitioning: { type: 'DAY', field: 'timestamp', expirationMs },
      deletionProtection: protect,
      labels: this.labels,
    });

    this.eventsTableSpec = `${this.eventsTable.project}:${this.eventsTable.datasetId}.${this.eventsTable.tableId}`;
    this.deadLetterTableSpec = `${this.deadLetterTable.project}:${this.deadLetterTable.datasetId}.${this.deadLetterTable.tableId}`;

    if (props.views ?? true) {
      const heartbeat = props.pagePingHeartbeatSeconds ?? 10;
      const recent = props.viewLookbackDays === undefined ? '' : ` AND ${partitionField} >= TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL ${props.viewLookbackDays} DAY)`;
      const minimumVisit = props.pagePingMinimumVisitSeconds ?? 5;
      this.pageViewsView = new BigqueryTable(this, 'page-views', {
        project,
        datasetId: this.dataset.datasetId,
        tableId: 'page_views',
        description: `One row per page view, with engaged time from page pings (heartbeat ${heartbeat} s, minimum visit ${minimumVisit} s)`,
        view: { query: pageViewsSql(fields, sqlTable(this.eventsTable), recent, heartbeat, minimumVisit), useLegacySql: false },
        // A view holds no data: it can always be replaced.
        deletionProtection: false,
        labels: this.labels,
      });
      this.sessionsView = new BigqueryTable(this, 'sessions', {
        project,
        datasetId: this.dataset.datasetId,
        tableId: 'sessions',
        description: 'One row per session: start, end, page views, engaged time, landing page, referrer and campaign',
        view: { query: sessionsSql(fields, sqlTable(this.eventsTable), recent, sqlTable(this.pageViewsView)), useLegacySql: false },
        deletionProtection: false,
        labels: this.labels,
      });
      this.badRowsView = new BigqueryTable(this, 'bad-rows-parsed', {
        project,
        datasetId: this.dataset.datasetId,
        tableId: 'bad_rows_parsed',
        description: 'Failed events as columns: failure type, messages, schema keys, failure time and the original payload (replayable)',
        view: { query: badRowsViewSql([{ kind: 'dataflow-dead-letter', table: this.deadLetterTable }]), useLegacySql: false },
        deletionProtection: false,
        labels: this.labels,
      });
    }
  }

  /** Lets `member` read every table and view of the dataset (`roles/bigquery.dataViewer` on the dataset). */
  public grantRead(member: string): BigqueryDatasetIamMember {
    return new BigqueryDatasetIamMember(this, this.grantId('read'), {
      project: this.dataset.project,
      datasetId: this.dataset.datasetId,
      role: 'roles/bigquery.dataViewer',
      member,
    });
  }

  /**
   * Lets `member` write rows to the events and dead-letter tables (`roles/bigquery.dataEditor` on those tables
   * only) and read the dataset's metadata (`roles/bigquery.metadataViewer` on the dataset): what the streaming
   * enricher needs. With `deadLetter: false`, the events table only (a batch replay).
   *
   * The dataset-level read is not optional: Beam's `BigQueryIO.Write.validate` calls `datasets.get` before the
   * pipeline runs (PubSub_to_BigQuery_Flex keeps validation on its dead-letter writes, GCS_Text_to_BigQuery_Flex on
   * every write), and table-level grants do not cover `bigquery.datasets.get`, so without it the launch fails with
   * "Unable to confirm presence of dataset" (apache/beam sdks/java/io/google-cloud-platform BigQueryIO.java,
   * `validate`; https://cloud.google.com/bigquery/docs/access-control#bigquery.metadataViewer).
   */
  public grantWrite(member: string, options: { readonly deadLetter?: boolean } = {}): Array<BigqueryTableIamMember | BigqueryDatasetIamMember> {
    const n = this.grantId('write');
    const tables: Array<[string, BigqueryTable]> = [['events', this.eventsTable]];
    if (options.deadLetter ?? true) tables.push(['dead-letter', this.deadLetterTable]);
    return [
      ...tables.map(([name, table]) => new BigqueryTableIamMember(this, `${n}-${name}`, {
        project: table.project,
        datasetId: table.datasetId,
        tableId: table.tableId,
        role: 'roles/bigquery.dataEditor',
        member,
      })),
      new BigqueryDatasetIamMember(this, `${n}-dataset-metadata`, {
        project: this.dataset.project,
        datasetId: this.dataset.datasetId,
        role: 'roles/bigquery.metadataViewer',
        member,
      }),
    ];
  }

  private grantId(kind: string): string {
    const n = this.grants.get(kind) ?? 0;
    this.grants.set(kind, n + 1);
    return `${kind}-${n}`;
  }
}

/**
 * The dead-letter table's description. The templates write the UDF's exception message to errorMessage; Nashorn
 * (the templates' script engine) wraps it as `Error: <message> in <eval> at line number N at column number M`, so the
 * column is not the bad-row JSON itself.
 */
export const DEAD_LETTER_DESCRIPTION = 'Failed rows: the original message (payloadString, payloadBytes, attributes), errorMessage and the stack trace; replayable after a fix. '
  + 'In the Dataflow templates (Nashorn) errorMessage reads `Error: <bad-row JSON> in <eval> at line number N at column number M`: '
  + 'the bad-row JSON is the text of errorMessage from its first `{` to its last `}`.';

function sqlTable(table: BigqueryTable): string {
  return `\`${table.project}.${table.datasetId}.${table.tableId}\``;
}

/** The column holding the page view id (the web_page entity the tracker attaches to every event of a page view). */
export const WEB_PAGE_COLUMN = selfDescribingColumnName('contexts', 'com.snowplowanalytics.snowplow', 'web_page', '1');

const PAGE_VIEW_COLUMNS = [
  'event_id', 'app_id', 'platform', 'collector_tstamp', 'derived_tstamp',
  'domain_userid', 'domain_sessionid', 'domain_sessionidx', 'network_userid', 'user_id',
  'page_url', 'page_title', 'page_urlscheme', 'page_urlhost', 'page_urlpath', 'page_urlquery', 'page_urlfragment',
  'page_referrer', 'refr_urlhost', 'refr_medium', 'refr_source', 'refr_term',
  'mkt_medium', 'mkt_source', 'mkt_term', 'mkt_content', 'mkt_campaign', 'mkt_clickid', 'mkt_network',
  'geo_country', 'geo_region', 'geo_city', 'br_family', 'br_lang', 'os_family', 'dvce_type', 'dvce_ismobile',
  'br_viewwidth', 'br_viewheight', 'doc_width', 'doc_height',
];

const LANDING_COLUMNS = [
  'page_url', 'page_title', 'page_urlhost', 'page_urlpath', 'page_referrer', 'refr_urlhost', 'refr_medium', 'refr_source', 'refr_term',
  'mkt_medium', 'mkt_source', 'mkt_term', 'mkt_content', 'mkt_campaign', 'mkt_clickid', 'mkt_network',
  'geo_country', 'br_family', 'os_family', 'dvce_type',
];

/** Fails synth when a view would reference a column the events table lacks (the views are SQL text). */
function requireColumns(fields: readonly BigQueryField[], names: readonly string[], view: string): void {
  for (const name of names) {
    if (!findField(fields, name)) throw new PropError(NAME, 'registry', `lacks the column ${name} that the ${view} view needs`);
  }
}

function pageViewsSql(fields: readonly BigQueryField[], events: string, recent: string, heartbeat: number, minimumVisit: number): string {
  const web = findField(fields, WEB_PAGE_COLUMN);
  if (!web || web.type !== 'RECORD' || !web.fields?.some((f) => f.name === 'id')) {
    throw new PropError(NAME, 'registry', `lacks the ${WEB_PAGE_COLUMN} column with an id field (the built-in web_page schema), which the page_views view needs`);
  }
  requireColumns(fields, [...PAGE_VIEW_COLUMNS, 'event_name', 'pp_yoffset_max', 'pp_xoffset_max'], 'page_views');
  return [
    `-- Page views with engaged time: ${minimumVisit} s before the first page ping, ${heartbeat} s per further heartbeat window with a ping.`,
    'WITH events AS (',
    '  SELECT',
    `    ${PAGE_VIEW_COLUMNS.join(', ')},`,
    '    event_name, pp_yoffset_max, pp_xoffset_max,',
    `    ${WEB_PAGE_COLUMN}[SAFE_OFFSET(0)].id AS web_page_id,`,
    '    ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY collector_tstamp) AS duplicate_index',
    `  FROM ${events}`,
    `  WHERE event_name IN ('page_view', 'page_ping')${recent}`,
    '),',
    'pings AS (',
    '  SELECT',
    '    web_page_id AS page_view_id,',
    '    COUNT(*) AS page_pings,',
    `    COUNT(DISTINCT DIV(UNIX_SECONDS(derived_tstamp), ${heartbeat})) AS heartbeat_windows,`,
    '    MAX(derived_tstamp) AS last_ping_tstamp,',
    '    MAX(pp_yoffset_max) AS max_yoffset,',
    '    MAX(pp_xoffset_max) AS max_xoffset',
    '  FROM events',
    "  WHERE duplicate_index = 1 AND event_name = 'page_ping' AND web_page_id IS NOT NULL",
    '  GROUP BY web_page_id',
    ')',
    'SELECT',
    '  COALESCE(pv.web_page_id, pv.event_id) AS page_view_id,',
    `  ${PAGE_VIEW_COLUMNS.map((c) => `pv.${c}`).join(', ')},`,
    '  pv.derived_tstamp AS start_tstamp,',
    '  GREATEST(pv.derived_tstamp, COALESCE(p.last_ping_tstamp, pv.derived_tstamp)) AS end_tstamp,',
    '  COALESCE(p.page_pings, 0) AS page_pings,',
    `  IF(p.heartbeat_windows IS NULL, 0, ${minimumVisit} + (p.heartbeat_windows - 1) * ${heartbeat}) AS engaged_time_in_s,`,
    '  CAST(LEAST(100, GREATEST(0, 100 * SAFE_DIVIDE(COALESCE(p.max_yoffset, 0) + pv.br_viewheight, pv.doc_height))) AS INT64) AS vertical_percentage_scrolled,',
    '  CAST(LEAST(100, GREATEST(0, 100 * SAFE_DIVIDE(COALESCE(p.max_xoffset, 0) + pv.br_viewwidth, pv.doc_width))) AS INT64) AS horizontal_percentage_scrolled',
    'FROM events AS pv',
    'LEFT JOIN pings AS p ON p.page_view_id = COALESCE(pv.web_page_id, pv.event_id)',
    "WHERE pv.duplicate_index = 1 AND pv.event_name = 'page_view'",
    '',
  ].join('\n');
}

function sessionsSql(fields: readonly BigQueryField[], events: string, recent: string, pageViews: string): string {
  const columns = ['event_id', 'event_name', 'app_id', 'domain_sessionid', 'domain_sessionidx', 'domain_userid', 'network_userid', 'user_id', 'collector_tstamp', 'derived_tstamp'];
  requireColumns(fields, [...columns, ...LANDING_COLUMNS], 'sessions');
  return [
    '-- Sessions (the tracker\'s domain_sessionid): start, end, page views, engaged time, landing page, referrer and campaign.',
    'WITH events AS (',
    '  SELECT',
    `    ${columns.join(', ')},`,
    `    ${LANDING_COLUMNS.filter((c) => !columns.includes(c)).join(', ')},`,
    '    ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY collector_tstamp) AS duplicate_index',
    `  FROM ${events}`,
    `  WHERE domain_sessionid IS NOT NULL${recent}`,
    '),',
    'sessions AS (',
    '  SELECT',
    '    domain_sessionid,',
    '    ARRAY_AGG(domain_userid IGNORE NULLS ORDER BY derived_tstamp LIMIT 1)[SAFE_OFFSET(0)] AS domain_userid,',
    '    MAX(domain_sessionidx) AS domain_sessionidx,',
    '    ARRAY_AGG(network_userid IGNORE NULLS ORDER BY derived_tstamp LIMIT 1)[SAFE_OFFSET(0)] AS network_userid,',
    '    ARRAY_AGG(app_id IGNORE NULLS ORDER BY derived_tstamp LIMIT 1)[SAFE_OFFSET(0)] AS app_id,',
    '    ARRAY_AGG(user_id IGNORE NULLS ORDER BY derived_tstamp DESC LIMIT 1)[SAFE_OFFSET(0)] AS user_id,',
    '    MIN(derived_tstamp) AS start_tstamp,',
    '    MAX(derived_tstamp) AS end_tstamp,',
    '    COUNT(*) AS events,',
    "    COUNTIF(event_name = 'page_view') AS page_views",
    '  FROM events',
    '  WHERE duplicate_index = 1',
    '  GROUP BY domain_sessionid',
    '),',
    'landing AS (',
    '  SELECT',
    '    domain_sessionid,',
    `    ARRAY_AGG(STRUCT(${LANDING_COLUMNS.join(', ')}) ORDER BY derived_tstamp LIMIT 1)[OFFSET(0)] AS first_page_view`,
    '  FROM events',
    "  WHERE duplicate_index = 1 AND event_name = 'page_view'",
    '  GROUP BY domain_sessionid',
    '),',
    'engagement AS (',
    '  SELECT domain_sessionid, SUM(engaged_time_in_s) AS engaged_time_in_s',
    `  FROM ${pageViews}`,
    '  GROUP BY domain_sessionid',
    ')',
    'SELECT',
    '  s.domain_sessionid, s.domain_userid, s.domain_sessionidx, s.network_userid, s.app_id, s.user_id,',
    '  s.start_tstamp, s.end_tstamp, TIMESTAMP_DIFF(s.end_tstamp, s.start_tstamp, SECOND) AS duration_in_s,',
    '  s.page_views, s.events, COALESCE(e.engaged_time_in_s, 0) AS engaged_time_in_s,',
    '  l.first_page_view.page_url AS landing_page_url,',
    '  l.first_page_view.page_title AS landing_page_title,',
    '  l.first_page_view.page_urlhost AS landing_page_urlhost,',
    '  l.first_page_view.page_urlpath AS landing_page_urlpath,',
    `  ${LANDING_COLUMNS.filter((c) => !c.startsWith('page_') || c === 'page_referrer').map((c) => `l.first_page_view.${c} AS ${c}`).join(',\n  ')}`,
    'FROM sessions AS s',
    'LEFT JOIN landing AS l USING (domain_sessionid)',
    'LEFT JOIN engagement AS e USING (domain_sessionid)',
    '',
  ].join('\n');
}

function validateProps(props: WarehouseSinkProps): void {
  if (props.registry === undefined || props.registry.registry === undefined) {
    throw new PropError(NAME, 'registry', 'is required: pass a SchemaRegistry (its schemas become the self-describing columns)');
  }
  if (props.projectId !== undefined) checkProjectId(NAME, 'projectId', props.projectId);
  if (props.datasetId !== undefined) checkName(NAME, 'datasetId', props.datasetId, BIGQUERY_ID);
  if (props.eventsTableId !== undefined) checkName(NAME, 'eventsTableId', props.eventsTableId, BIGQUERY_ID);
  if (props.deadLetterTableId !== undefined) checkName(NAME, 'deadLetterTableId', props.deadLetterTableId, BIGQUERY_ID);
  const tables = [props.eventsTableId ?? 'events', props.deadLetterTableId ?? 'bad_rows'].concat(props.views === false ? [] : ['page_views', 'sessions', 'bad_rows_parsed']);
  const twice = tables.find((t, i) => tables.indexOf(t) !== i);
  if (twice !== undefined) throw new PropError(NAME, props.eventsTableId === twice ? 'eventsTableId' : 'deadLetterTableId', `'${twice}' names two tables of the dataset`);
  if (props.location !== undefined && !MULTI_REGIONS.test(props.location)) checkRegion(NAME, 'location', props.location, props.newRegions);
  if (props.kmsKeyName !== undefined && !Token.isUnresolved(props.kmsKeyName) && !KMS_KEY.test(props.kmsKeyName)) {
    throw new PropError(NAME, 'kmsKeyName', `must be a key name such as 'projects/p/locations/europe-west1/keyRings/r/cryptoKeys/k', got '${props.kmsKeyName}'`);
  }
  if (props.partitionExpirationDays !== undefined) checkInteger(NAME, 'partitionExpirationDays', props.partitionExpirationDays, 1, 36_500);
  if (props.viewLookbackDays !== undefined) checkInteger(NAME, 'viewLookbackDays', props.viewLookbackDays, 1, 36_500);
  if (props.requirePartitionFilter === true && props.views !== false && props.viewLookbackDays === undefined) {
    // BigQuery refuses every query of a view whose inner query reads such a table without a partition filter.
    throw new PropError(NAME, 'requirePartitionFilter', "needs 'viewLookbackDays' when 'views' is on: without it the page_views and sessions views read the events table with no partition filter, and BigQuery refuses every query on them. Set 'viewLookbackDays' (e.g. 90) or 'views: false'");
  }
  checkInteger(NAME, 'pagePingHeartbeatSeconds', props.pagePingHeartbeatSeconds ?? 10, 1, 3600);
  checkInteger(NAME, 'pagePingMinimumVisitSeconds', props.pagePingMinimumVisitSeconds ?? 5, 0, 3600);
}

function validateColumns(fields: readonly BigQueryField[], partitionField: string, clustering: readonly string[]): void {
  const partition = findField(fields, partitionField);
  if (!partition || (partition.type !== 'TIMESTAMP' && partition.type !== 'DATE') || partition.mode === 'REPEATED') {
    const candidates = fields.filter((f) => f.type === 'TIMESTAMP' && f.mode !== 'REPEATED').map((f) => f.name);
    throw new PropError(NAME, 'partitionField', `must be a TIMESTAMP column of the events table (${candidates.join(', ')}), got '${partitionField}'`);
  }
  if (clustering.length < 1 || clustering.length > 4) throw new PropError(NAME, 'clustering', `must name 1 to 4 columns, got ${clustering.length}`);
  for (const name of clustering) {
    const field = findField(fields, name);
    if (!field || field.mode === 'REPEATED' || !CLUSTERABLE.includes(field.type)) {
      throw new PropError(NAME, 'clustering', `'${name}' is not a top-level ${CLUSTERABLE.join('/')} column of the events table`);
    }
  }
  if (new Set(clustering).size !== clustering.length) throw new PropError(NAME, 'clustering', 'names a column twice');
}
