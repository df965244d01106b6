/**
 * The deploy audit's rules, checked against synthesized stacks (test/audit/deploy-audit.test.ts). Each rule returns
 * violations that name the resource, the identity and what is missing; each carries the Google (or Terraform) page
 * it comes from.
 *
 * HOW TO ADD A WORKLOAD: add one row to WORKLOADS below. A row names the resource type that runs (or acts), says
 * which identity it acts as (`identities`) and which roles that identity needs on which exact resources (`needs`,
 * derived from the resource's own config: its subscription, topic, table, bucket paths...), with the doc that says
 * so. `actsAtCreation` marks workloads that use their grants the moment Terraform creates them (a Dataflow launch, a
 * Pub/Sub subscription that checks its access): those must wait for the grants through a time_sleep. Nothing else
 * changes: the permission rule checks the row's needs are granted, and the "nothing broader" rule then accepts
 * exactly those grants for that identity. For example the serverless enricher would add:
 *   - `google_cloud_run_v2_service` of the enricher: already covered by the Cloud Run row if it publishes through
 *     the same env names; otherwise a row reading its own env.
 *   - `google_pubsub_subscription` with `push_config.oidc_token`: identity `service_account_email`, needs
 *     `roles/run.invoker` on the Cloud Run service the push endpoint names
 *     (https://cloud.google.com/run/docs/triggering/pubsub-push#service-account).
 *   - `google_pubsub_subscription` with `bigquery_config`: already a row (BIGQUERY_SUBSCRIPTION below): the Pub/Sub
 *     service agent needs roles/bigquery.dataEditor on the table and roles/bigquery.metadataViewer on its dataset.
 */
import { runtimeOfNodeImage, RUNTIME_SUPPORT, RuntimePlatform } from '../../lib/private/runtimes';
import { dataSourcesOf, environmentOf, Grant, grantsOf, gsPath, identityOf, referenceOf, referencesIn, Resource, Stack } from './terraform';

export interface Need {
  /** Any of these roles satisfies the need (the narrowest first). */
  readonly roles: readonly string[];
  /** `project`, or the address of the resource the role must be granted on. */
  readonly on: string;
  /** The member that needs it, when not the workload's identity (Workload Identity's KSA principal). */
  readonly member?: string;
  /** Why (shown in a violation). */
  readonly why: string;
}

export interface WorkloadRow {
  readonly type: string;
  /** When only some resources of the type are this workload. */
  readonly applies?: (r: Resource, stack: Stack) => boolean;
  readonly doc: string;
  /** The identities it acts as, with what each needs. */
  readonly identities: (r: Resource, stack: Stack) => Array<{ identity: string | undefined; needs: Need[] }>;
  readonly actsAtCreation?: boolean;
}

const PUBSUB_AGENT = 'service-agent:pubsub.googleapis.com';

/** The dataset a table address belongs to. */
function datasetOfTable(stack: Stack, table: string | undefined): string | undefined {
  return table === undefined ? undefined : referenceOf(stack.byAddress.get(table)?.config.dataset_id);
}

/** What writing rows to a table through BigQueryIO (or a BigQuery subscription) needs. */
function tableWriter(stack: Stack, tableSpec: unknown, what: string): Need[] {
  const table = referenceOf(tableSpec) ?? `table:${String(tableSpec)}`;
  return [
    { roles: ['roles/bigquery.dataEditor'], on: table, why: `writes ${what}` },
    // BigQueryIO.Write.validate (and the BigQuery subscription's table check) call datasets.get.
    { roles: ['roles/bigquery.metadataViewer', 'roles/bigquery.dataViewer', 'roles/bigquery.dataEditor'], on: datasetOfTable(stack, table) ?? `dataset-of:${table}`, why: `datasets.get on the dataset of ${what}` },
  ];
}

const READ_OBJECTS = ['roles/storage.objectViewer', 'roles/storage.objectAdmin'];

/** What the collector needs: publish to its topics, read its code bundle (when it fetches it itself). */
function collectorNeeds(r: Resource, options: { readsBundle: boolean }): Need[] {
  const env = environmentOf(r);
  const needs: Need[] = [];
  for (const name of ['WAYMARK_PUBSUB_GOOD_TOPIC', 'WAYMARK_PUBSUB_BAD_TOPIC']) {
    const topic = referenceOf(env[name]);
    if (topic) needs.push({ roles: ['roles/pubsub.publisher'], on: topic, why: `publishes to ${name}` });
  }
  const bundle = gsPath(env.WAYMARK_BUNDLE);
  if (options.readsBundle && bundle) needs.push({ roles: READ_OBJECTS, on: bundle.bucket, why: 'fetches the collector bundle' });
  return needs;
}

function emailIdentity(stack: Stack, email: unknown): string | undefined {
  return identityOf(stack, email);
}

export const WORKLOADS: readonly WorkloadRow[] = [
  {
    // Streaming enricher. Worker role: https://cloud.google.com/dataflow/docs/concepts/security-and-permissions#worker-service-account
    // Subscriber + viewer on the subscription, dataEditor on tables: DataflowTemplates v2/pubsub-to-bigquery README;
    // datasets.get: apache/beam BigQueryIO.Write.validate; staging/temp objects: the worker account reads and writes them.
    type: 'google_dataflow_flex_template_job',
    doc: 'https://cloud.google.com/dataflow/docs/concepts/security-and-permissions#worker-service-account',
    actsAtCreation: true,
    identities: (r, stack) => {
      const p = r.config.parameters ?? {};
      const subscription = referenceOf(p.inputSubscription);
      const needs: Need[] = [
        { roles: ['roles/dataflow.worker'], on: 'project', why: 'runs Dataflow workers' },
        ...(subscription ? [
          { roles: ['roles/pubsub.subscriber'], on: subscription, why: 'pulls the input subscription' },
          { roles: ['roles/pubsub.viewer', 'roles/pubsub.subscriber'], on: subscription, why: 'reads the subscription (backlog, ack deadline)' },
        ] : []),
        ...tableWriter(stack, p.outputTableSpec, 'the events table'),
        ...(p.outputDeadletterTable ? tableWriter(stack, p.outputDeadletterTable, 'the dead-letter table') : []),
      ];
      for (const uri of [r.config.temp_location, r.config.staging_location]) {
        const path = gsPath(uri);
        if (path) needs.push({ roles: ['roles/storage.objectAdmin'], on: path.bucket, why: `writes ${uri}` });
      }
      const udf = gsPath(p.javascriptTextTransformGcsPath);
      if (udf) needs.push({ roles: READ_OBJECTS, on: udf.bucket, why: 'reads the UDF' });
      return [{ identity: emailIdentity(stack, r.config.service_account_email), needs }];
    },
  },
  {
    // Batch replay (Data Pipelines launching GCS_Text_to_BigQuery_Flex): load jobs need bigquery.jobUser on the
    // project (https://cloud.google.com/bigquery/docs/batch-loading-data#required_permissions); the scheduler account
    // needs datapipelines.invoker and to act as the worker account
    // (https://cloud.google.com/dataflow/docs/guides/data-pipelines#before_you_begin).
    type: 'google_data_pipeline_pipeline',
    doc: 'https://cloud.google.com/dataflow/docs/guides/data-pipelines',
    identities: (r, stack) => {
      const launch = r.config.workload?.dataflow_flex_template_request?.launch_parameter ?? {};
      const p = launch.parameters ?? {};
      const worker = emailIdentity(stack, launch.environment?.service_account_email);
      const needs: Need[] = [
        { roles: ['roles/dataflow.worker'], on: 'project', why: 'runs Dataflow workers' },
        { roles: ['roles/bigquery.jobUser'], on: 'project', why: 'runs BigQuery load jobs' },
        ...tableWriter(stack, p.outputTable, 'the events table'),
      ];
      const temp = gsPath(launch.environment?.temp_location);
      if (temp) needs.push({ roles: ['roles/storage.objectAdmin'], on: temp.bucket, why: 'writes tempLocation' });
      for (const name of ['inputFilePattern', 'JSONPath', 'javascriptTextTransformGcsPath']) {
        const path = gsPath(p[name]);
        if (path) needs.push({ roles: READ_OBJECTS, on: path.bucket, why: `reads ${name}` });
      }
      const out = [{ identity: worker, needs }];
      if (r.config.schedule_info && r.config.scheduler_service_account_email) {
        out.push({
          identity: emailIdentity(stack, r.config.scheduler_service_account_email),
          needs: [
            { roles: ['roles/datapipelines.invoker'], on: 'project', why: 'runs the pipeline on its schedule' },
            { roles: ['roles/iam.serviceAccountUser'], on: worker ?? 'worker', why: 'launches a job that runs as the worker account' },
          ],
        });
      }
      return out;
    },
  },
  {
    // Collector on Cloud Run: https://cloud.google.com/run/docs/securing/service-identity
    type: 'google_cloud_run_v2_service',
    doc: 'https://cloud.google.com/run/docs/securing/service-identity',
    identities: (r, stack) => [{ identity: emailIdentity(stack, r.config.template?.service_account), needs: collectorNeeds(r, { readsBundle: true }) }],
  },
  {
    // Collector on Cloud Run functions: runtime identity publishes; the build account needs roles/run.builder and
    // the source object (https://cloud.google.com/functions/docs/securing/build-custom-sa).
    type: 'google_cloudfunctions2_function',
    doc: 'https://cloud.google.com/functions/docs/securing/build-custom-sa',
    identities: (r, stack) => {
      const source = r.config.build_config?.source?.storage_source;
      return [
        { identity: emailIdentity(stack, r.config.service_config?.service_account_email), needs: collectorNeeds(r, { readsBundle: false }) },
        {
          identity: emailIdentity(stack, r.config.build_config?.service_account),
          needs: [
            { roles: ['roles/run.builder'], on: 'project', why: 'builds the function (logs, image)' },
            { roles: READ_OBJECTS, on: referenceOf(source?.bucket) ?? `bucket:${source?.bucket}`, why: 'reads the function source' },
          ],
        },
      ];
    },
  },
  {
    // Collector on App Engine standard: the version's service account reads the zip it deploys from
    // (https://cloud.google.com/appengine/docs/standard/configure-service-accounts).
    type: 'google_app_engine_standard_app_version',
    doc: 'https://cloud.google.com/appengine/docs/standard/configure-service-accounts',
    identities: (r, stack) => {
      const zip = gsPath(r.config.deployment?.zip?.source_url);
      return [{ identity: emailIdentity(stack, r.config.service_account), needs: [...collectorNeeds(r, { readsBundle: false }), ...(zip ? [{ roles: READ_OBJECTS, on: zip.bucket, why: 'deploys from the zip' }] : [])] }];
    },
  },
  {
    // Collector on VMs: logs and metrics need logging.logWriter and monitoring.metricWriter
    // (https://cloud.google.com/compute/docs/access/service-accounts#associating_a_service_account_to_an_instance).
    type: 'google_compute_region_instance_template',
    doc: 'https://cloud.google.com/logging/docs/agent/ops-agent/authorization',
    identities: (r, stack) => [{
      identity: emailIdentity(stack, (Array.isArray(r.config.service_account) ? r.config.service_account[0] : r.config.service_account)?.email),
      needs: [
        ...collectorNeeds(r, { readsBundle: true }),
        { roles: ['roles/logging.logWriter'], on: 'project', why: 'writes the container logs' },
        { roles: ['roles/monitoring.metricWriter'], on: 'project', why: 'writes VM metrics' },
      ],
    }],
  },
  {
    // Collector on GKE with Workload Identity: the Kubernetes service account's principal needs
    // roles/iam.workloadIdentityUser on the Google service account its annotation names
    // (https://cloud.google.com/kubernetes-engine/docs/how-to/workload-identity#kubernetes-sa-to-iam).
    type: 'kubernetes_deployment_v1',
    doc: 'https://cloud.google.com/kubernetes-engine/docs/how-to/workload-identity',
    identities: (r, stack) => {
      const ksaName = r.config.spec?.template?.spec?.service_account_name;
      const ksa = stack.ofType('kubernetes_service_account_v1').find((s) => s.config.metadata?.name === ksaName || referenceOf(ksaName) === s.address);
      const gsa = emailIdentity(stack, ksa?.config.metadata?.annotations?.['iam.gke.io/gcp-service-account']);
      const principal = grantsOf(stack).find((g) => g.role === 'roles/iam.workloadIdentityUser' && g.on === gsa && /\.svc\.id\.goog\[/.test(g.member))?.member;
      return [{
        identity: gsa,
        needs: [
          ...collectorNeeds(r, { readsBundle: true }),
          { roles: ['roles/iam.workloadIdentityUser'], on: gsa ?? 'gsa', member: principal ?? `<KSA ${ksaName} principal>`, why: 'pods act as the Google service account' },
        ],
      }];
    },
  },
  {
    // CDN pixel: the sink's writer identity publishes to its topic (https://cloud.google.com/logging/docs/export/configure_export_v2#dest-auth).
    type: 'google_logging_project_sink',
    doc: 'https://cloud.google.com/logging/docs/export/configure_export_v2#dest-auth',
    identities: (r) => {
      const topic = referenceOf(String(r.config.destination ?? '').replace(/^pubsub\.googleapis\.com\//, ''));
      return [{ identity: `${r.address}.writer_identity`, needs: topic ? [{ roles: ['roles/pubsub.publisher'], on: topic, why: 'exports log entries to the topic' }] : [] }];
    },
  },
  {
    // Raw archive: https://cloud.google.com/pubsub/docs/create-cloudstorage-subscription#assign_roles_cloudstorage
    type: 'google_pubsub_subscription',
    applies: (r) => r.config.cloud_storage_config !== undefined,
    doc: 'https://cloud.google.com/pubsub/docs/create-cloudstorage-subscription#assign_roles_cloudstorage',
    actsAtCreation: true,
    identities: (r) => {
      const bucket = referenceOf(r.config.cloud_storage_config.bucket) ?? `bucket:${r.config.cloud_storage_config.bucket}`;
      return [{
        identity: PUBSUB_AGENT,
        needs: [
          { roles: ['roles/storage.objectCreator', 'roles/storage.objectAdmin'], on: bucket, why: 'writes the archive files' },
          { roles: ['roles/storage.legacyBucketReader'], on: bucket, why: 'reads the bucket metadata' },
        ],
      }];
    },
  },
  {
    // BigQuery subscriptions: https://cloud.google.com/pubsub/docs/create-bigquery-subscription#assign_bigquery_service_account
    // (the Pub/Sub service agent needs bigquery.dataEditor on the table and bigquery.metadataViewer on the dataset).
    type: 'google_pubsub_subscription',
    applies: (r) => r.config.bigquery_config !== undefined,
    doc: 'https://cloud.google.com/pubsub/docs/create-bigquery-subscription#assign_bigquery_service_account',
    actsAtCreation: true,
    identities: (r, stack) => {
      const table = referenceOf(r.config.bigquery_config.table) ?? `table:${r.config.bigquery_config.table}`;
      return [{ identity: PUBSUB_AGENT, needs: tableWriter(stack, r.config.bigquery_config.table, `the table of ${r.address}`).map((n, i) => (i === 0 ? { ...n, on: table } : n)) }];
    },
  },
  {
    // Dead-lettering: https://cloud.google.com/pubsub/docs/handling-failures#grant_forwarding_permissions
    type: 'google_pubsub_subscription',
    applies: (r) => r.config.dead_letter_policy !== undefined,
    doc: 'https://cloud.google.com/pubsub/docs/handling-failures#grant_forwarding_permissions',
    identities: (r) => [{
      identity: PUBSUB_AGENT,
      needs: [
        { roles: ['roles/pubsub.publisher'], on: referenceOf(r.config.dead_letter_policy.dead_letter_topic) ?? 'dead-letter topic', why: 'forwards dead letters' },
        { roles: ['roles/pubsub.subscriber'], on: r.address, why: 'acknowledges forwarded messages' },
      ],
    }],
  },
  {
    // Serverless enricher on Cloud Run (lib/serverless-enricher.ts): publishes good rows to WAYMARK_ENRICHED_TOPIC and
    // bad rows to WAYMARK_BAD_TOPIC (https://cloud.google.com/pubsub/docs/access-control#roles); it fetches its bundle
    // as the collector does (the Cloud Run row above covers that need).
    type: 'google_cloud_run_v2_service',
    applies: (r) => environmentOf(r).WAYMARK_ENRICHED_TOPIC !== undefined,
    doc: 'https://cloud.google.com/pubsub/docs/access-control#roles',
    identities: (r, stack) => {
      const env = environmentOf(r);
      const needs: Need[] = [];
      for (const name of ['WAYMARK_ENRICHED_TOPIC', 'WAYMARK_BAD_TOPIC']) {
        const topic = referenceOf(env[name]);
        needs.push({ roles: ['roles/pubsub.publisher'], on: topic ?? `topic:${env[name]}`, why: `publishes to ${name}` });
      }
      return [{ identity: emailIdentity(stack, r.config.template?.service_account), needs }];
    },
  },
  {
    // Authenticated push to Cloud Run: the push account needs roles/run.invoker on the service the endpoint names
    // (https://cloud.google.com/run/docs/triggering/pubsub-push#service-account); the Pub/Sub service agent signs the
    // OIDC tokens as that account (roles/iam.serviceAccountTokenCreator on it, required for projects created before
    // 2021-04-08: https://cloud.google.com/pubsub/docs/authenticate-push-subscriptions). Pub/Sub pushes at once.
    type: 'google_pubsub_subscription',
    applies: (r) => r.config.push_config?.oidc_token !== undefined,
    doc: 'https://cloud.google.com/pubsub/docs/authenticate-push-subscriptions',
    actsAtCreation: true,
    identities: (r, stack) => {
      const account = emailIdentity(stack, r.config.push_config.oidc_token.service_account_email);
      const service = referenceOf(r.config.push_config.push_endpoint) ?? `service:${r.config.push_config.push_endpoint}`;
      return [
        { identity: account, needs: [{ roles: ['roles/run.invoker'], on: service, why: `receives the pushes of ${r.address}` }] },
        { identity: PUBSUB_AGENT, needs: [{ roles: ['roles/iam.serviceAccountTokenCreator'], on: account ?? 'push account', why: `signs the push tokens of ${r.address}` }] },
      ];
    },
  },
];

/**
 * Grants the workload table does not derive but that are deliberate, each with its reason. Keep this short.
 */
export const ALLOWED_EXTRA_GRANTS: ReadonlyArray<{ role: string; identityType: string; onType: string; reason: string }> = [
  // GlobalCollector grants its account read on its own code bucket for every backend kind (one bucket per collector,
  // content-hashed objects only); Cloud Functions and App Engine read the zip with other identities, so for those
  // kinds this one grant is unused but no broader than the bucket.
  { role: 'roles/storage.objectViewer', identityType: 'google_service_account', onType: 'google_storage_bucket', reason: "the collector account's read on its code bucket" },
];

/**
 * Public grants are allowed only here: the load balancer reaches serverless NEGs without credentials
 * (https://cloud.google.com/load-balancing/docs/negs/serverless-neg-concepts#iam), and Cloud CDN backend buckets
 * serve public objects (https://cloud.google.com/cdn/docs/setting-up-cdn-with-bucket#make_your_bucket_public).
 */
export const PUBLIC_GRANTS: ReadonlyArray<{ role: string; onTypes: readonly string[] }> = [
  { role: 'roles/run.invoker', onTypes: ['google_cloud_run_v2_service', 'google_cloudfunctions2_function'] },
  { role: 'roles/storage.legacyObjectReader', onTypes: ['google_storage_bucket'] },
];

/** Primitive roles: never (https://cloud.google.com/iam/docs/roles-overview#basic). */
export const PRIMITIVE_ROLES = ['roles/owner', 'roles/editor', 'roles/viewer'];

interface Bound { workload: Resource; row: WorkloadRow; identity: string | undefined; needs: Need[] }

function bound(stack: Stack, rows: readonly WorkloadRow[]): Bound[] {
  const out: Bound[] = [];
  for (const row of rows) {
    for (const r of stack.ofType(row.type)) {
      if (row.applies && !row.applies(r, stack)) continue;
      for (const { identity, needs } of row.identities(r, stack)) out.push({ workload: r, row, identity, needs });
    }
  }
  return out;
}

function satisfies(g: Grant, identity: string | undefined, need: Need): boolean {
  const who = need.member ?? identity;
  return need.roles.includes(g.role) && g.on === need.on && (g.identity === who || g.member === who);
}

/** Permissions per workload: every need of every row is granted, to the identity it runs as, on the exact resource. */
export function checkPermissions(stack: Stack, rows: readonly WorkloadRow[] = WORKLOADS): string[] {
  const grants = grantsOf(stack);
  const out: string[] = [];
  for (const b of bound(stack, rows)) {
    if (b.identity === undefined) { out.push(`${stack.name}: ${b.workload.address} has no identity of its own (${b.row.doc})`); continue; }
    for (const need of b.needs) {
      if (!grants.some((g) => satisfies(g, b.identity, need))) {
        out.push(`${stack.name}: ${b.workload.address} runs as ${need.member ?? b.identity}, which lacks ${need.roles[0]} on ${need.on} (${need.why}; ${b.row.doc})`);
      }
    }
  }
  return out;
}

/** Nothing broader: no primitive role; public grants only where listed; every grant to a workload identity is one its rows need. */
export function checkLeastPrivilege(stack: Stack, rows: readonly WorkloadRow[] = WORKLOADS): string[] {
  const out: string[] = [];
  const all = bound(stack, rows);
  const identities = new Set(all.map((b) => b.identity).filter((i): i is string => i !== undefined));
  for (const g of grantsOf(stack)) {
    if (PRIMITIVE_ROLES.includes(g.role)) { out.push(`${stack.name}: ${g.address} grants the primitive role ${g.role} to ${g.identity}`); continue; }
    if (g.member === 'allUsers' || g.member === 'allAuthenticatedUsers') {
      const onType = g.on.split('.')[0];
      if (!PUBLIC_GRANTS.some((p) => p.role === g.role && p.onTypes.includes(onType))) out.push(`${stack.name}: ${g.address} grants ${g.role} on ${g.on} to ${g.member}: not an allowed public grant`);
      continue;
    }
    const needed = all.some((b) => b.needs.some((n) => satisfies(g, b.identity, n)));
    if (needed) continue;
    if (!identities.has(g.identity) && !/\.svc\.id\.goog\[/.test(g.member)) continue; // Not a workload identity: a user's own grant.
    const allowed = ALLOWED_EXTRA_GRANTS.some((a) => a.role === g.role && g.identity.startsWith(`${a.identityType}.`) && g.on.startsWith(`${a.onType}.`) && g.on !== 'project');
    if (!allowed) out.push(`${stack.name}: ${g.address} grants ${g.role} on ${g.on} to ${g.identity}, which no workload it runs needs${g.on === 'project' ? ' (project-wide)' : ''}`);
  }
  return out;
}

/** Workloads that use their grants when created wait for them, through a time_sleep (IAM propagation). */
export function checkGrantPropagation(stack: Stack, rows: readonly WorkloadRow[] = WORKLOADS): string[] {
  const grants = grantsOf(stack);
  const out: string[] = [];
  for (const b of bound(stack, rows)) {
    if (!b.row.actsAtCreation || b.identity === undefined) continue;
    const closure = stack.closure(b.workload.address);
    const sleeps = [...closure].filter((a) => a.startsWith('time_sleep.'));
    for (const need of b.needs) {
      const grant = grants.find((g) => satisfies(g, b.identity, need));
      if (!grant) continue; // Reported by checkPermissions.
      if (!sleeps.some((s) => stack.closure(s).has(grant.address))) {
        out.push(`${stack.name}: ${b.workload.address} does not wait (through a time_sleep) for ${grant.address} (${need.roles[0]} of ${b.identity}); https://cloud.google.com/iam/docs/access-change-propagation`);
      }
    }
  }
  return out;
}

/** Where each runtime id or image is used. */
export function runtimesOf(stack: Stack): Array<{ address: string; platform: RuntimePlatform; runtime: string | undefined; value: string }> {
  const out: Array<{ address: string; platform: RuntimePlatform; runtime: string | undefined; value: string }> = [];
  const image = (address: string, value: unknown): void => {
    if (typeof value === 'string') out.push({ address, platform: 'container', runtime: runtimeOfNodeImage(value), value });
  };
  for (const r of stack.resources) {
    if (r.type === 'google_cloudfunctions2_function') out.push({ address: r.address, platform: 'cloud-functions', runtime: r.config.build_config?.runtime, value: r.config.build_config?.runtime });
    if (r.type === 'google_app_engine_standard_app_version') out.push({ address: r.address, platform: 'app-engine', runtime: r.config.runtime, value: r.config.runtime });
    if (r.type === 'google_cloud_run_v2_service') for (const c of r.config.template?.containers ?? []) image(r.address, c.image);
    if (r.type === 'kubernetes_deployment_v1') for (const c of r.config.spec?.template?.spec?.container ?? []) image(r.address, c.image);
    if (r.type === 'google_compute_region_instance_template') image(r.address, /^ {2}(\S+) sh -c/m.exec(r.config.metadata?.['startup-script'] ?? '')?.[1]);
  }
  return out;
}

/** Runtimes come from the one table and are not past their end date on `on` (ISO date). */
export function checkRuntimes(stack: Stack, on: string): string[] {
  const out: string[] = [];
  for (const use of runtimesOf(stack)) {
    if (use.platform === 'container' && use.runtime === undefined) continue; // A custom image or a digest: the user's.
    const row = RUNTIME_SUPPORT.find((r) => r.platform === use.platform && r.runtime === use.runtime);
    if (!row) out.push(`${stack.name}: ${use.address} uses ${use.platform} runtime '${use.value}', which is not in the runtime table (lib/private/runtimes.ts)`);
    else if (row.blocked <= on) out.push(`${stack.name}: ${use.address} uses ${use.platform} runtime '${use.value}', refused from ${row.blocked} (${row.source})`);
  }
  return out;
}

/** The objects and prefixes running workloads read, by bucket address. */
export function pathsReadByWorkloads(stack: Stack): Array<{ bucket: string; path: string; reader: string }> {
  const out: Array<{ bucket: string; path: string; reader: string }> = [];
  const add = (reader: string, uri: unknown, asPrefix = false): void => {
    const p = gsPath(uri);
    if (p) out.push({ bucket: p.bucket, path: asPrefix && !p.path.endsWith('/') ? `${p.path}/` : p.path, reader });
  };
  for (const r of stack.resources) {
    const c = r.config;
    if (r.type === 'google_dataflow_flex_template_job') {
      // https://cloud.google.com/dataflow/docs/guides/setting-pipeline-options#basic_options: workers load staged files for the job's life.
      add(r.address, c.staging_location, true);
      add(r.address, c.parameters?.javascriptTextTransformGcsPath);
    }
    if (r.type === 'google_data_pipeline_pipeline') {
      const p = c.workload?.dataflow_flex_template_request?.launch_parameter?.parameters ?? {};
      add(r.address, p.JSONPath);
      add(r.address, p.javascriptTextTransformGcsPath);
    }
    const bundle = environmentOf(r).WAYMARK_BUNDLE;
    if (bundle) add(r.address, bundle);
    if (r.type === 'google_cloudfunctions2_function') {
      const s = c.build_config?.source?.storage_source;
      if (s) out.push({ bucket: referenceOf(s.bucket) ?? `bucket:${s.bucket}`, path: s.object, reader: r.address });
    }
    if (r.type === 'google_app_engine_standard_app_version') add(r.address, c.deployment?.zip?.source_url);
  }
  return out;
}

/** No Delete lifecycle rule matches a path a running workload reads (https://cloud.google.com/storage/docs/lifecycle#conditions). */
export function checkLifecycles(stack: Stack): string[] {
  const out: string[] = [];
  const reads = pathsReadByWorkloads(stack);
  for (const bucket of stack.ofType('google_storage_bucket')) {
    for (const rule of bucket.config.lifecycle_rule ?? []) {
      if (rule.action?.type !== 'Delete') continue;
      const prefixes: string[] = rule.condition?.matches_prefix?.length ? rule.condition.matches_prefix : [''];
      const suffixes: string[] = rule.condition?.matches_suffix ?? [];
      for (const read of reads.filter((x) => x.bucket === bucket.address)) {
        const hit = prefixes.find((p) => read.path.startsWith(p) || (read.path.endsWith('/') && p.startsWith(read.path)));
        if (hit !== undefined && (suffixes.length === 0 || suffixes.some((s) => read.path.endsWith(s) || read.path.endsWith('/')))) {
          out.push(`${stack.name}: a Delete rule of ${bucket.address} (prefix '${hit}') deletes '${read.path}', which ${read.reader} reads while it runs`);
        }
      }
    }
  }
  return out;
}

/**
 * No data source depends on a resource: a data source with depends_on (or reading a resource's attribute) is read at
 * apply time whenever that resource has a pending change, so every value derived from it is unknown at plan time
 * (https://developer.hashicorp.com/terraform/language/data-sources#data-resource-dependencies).
 */
export function checkDataSources(stack: Stack): string[] {
  const out: string[] = [];
  for (const d of dataSourcesOf(stack.tf)) {
    if (d.config.depends_on?.length) out.push(`${stack.name}: ${d.address} has depends_on ${JSON.stringify(d.config.depends_on)}: it would be read only at apply time`);
    const refs = referencesIn({ ...d.config, depends_on: undefined }).filter((a) => !a.startsWith('data.') && !a.startsWith('var.') && !a.startsWith('local.'));
    if (refs.length) out.push(`${stack.name}: ${d.address} reads resource attributes (${refs.join(', ')}): it would be read only at apply time`);
  }
  return out;
}

/**
 * The API each resource type needs (https://cloud.google.com/service-usage/docs/enable-disable: a call to a
 * disabled API fails with SERVICE_DISABLED).
 */
export const API_OF_TYPE: ReadonlyArray<[RegExp, string]> = [
  [/^google_bigquery_/, 'bigquery.googleapis.com'],
  [/^google_pubsub_/, 'pubsub.googleapis.com'],
  [/^google_storage_/, 'storage.googleapis.com'],
  [/^google_compute_/, 'compute.googleapis.com'],
  [/^google_dataflow_/, 'dataflow.googleapis.com'],
  [/^google_data_pipeline_/, 'datapipelines.googleapis.com'],
  [/^google_cloud_run_v2_/, 'run.googleapis.com'],
  [/^google_cloudfunctions2_/, 'cloudfunctions.googleapis.com'],
  [/^google_app_engine_/, 'appengine.googleapis.com'],
  [/^google_container_/, 'container.googleapis.com'],
  [/^google_service_account/, 'iam.googleapis.com'],
  [/^google_project_iam_/, 'cloudresourcemanager.googleapis.com'],
  [/^google_logging_/, 'logging.googleapis.com'],
  [/^google_kms_/, 'cloudkms.googleapis.com'],
];

/** Every resource that needs an API waits for its google_project_service (when the stack enables APIs). */
export function checkApiOrdering(stack: Stack): string[] {
  const services = stack.ofType('google_project_service');
  if (services.length === 0) return [];
  const out: string[] = [];
  for (const r of stack.resources) {
    const api = API_OF_TYPE.find(([re]) => re.test(r.type))?.[1];
    if (!api) continue;
    const service = services.find((s) => s.config.service === api);
    if (!service) { out.push(`${stack.name}: ${r.address} needs ${api}, which the stack does not enable`); continue; }
    if (!stack.closure(r.address).has(service.address)) out.push(`${stack.name}: ${r.address} does not wait for ${service.address} (${api})`);
  }
  return out;
}

/**
 * Service agents exist before they are granted: a Google-managed agent is granted only through the resource that
 * makes it (google_project_service_identity, a sink's writer identity), never as an address built by hand or from a
 * data source (https://cloud.google.com/iam/docs/service-agents).
 */
export function checkServiceAgents(stack: Stack): string[] {
  const out: string[] = [];
  for (const g of grantsOf(stack)) {
    const byHand = /gcp-sa-|@gs-project-accounts\.|@dataflow-service-producer-prod\.|@cloudbuild\.gserviceaccount\.com|bigquery-encryption\./.test(g.member);
    const fromData = referencesIn(g.member).some((a) => a.startsWith('data.'));
    if (byHand || fromData) out.push(`${stack.name}: ${g.address} grants ${g.role} to the service agent '${g.member}', written out by hand: create it with google_project_service_identity and grant its member`);
  }
  return out;
}

export interface AuditOptions {
  /** The day runtimes are checked against (ISO date). */
  readonly on: string;
  readonly rows?: readonly WorkloadRow[];
}

/** Every rule, in order. */
/**
 * Pub/Sub push to a Cloud Run service whose ingress is internal: Google counts it as internal traffic only from "Pub/Sub
 * subscriptions and Eventarc events in the same project or VPC Service Controls perimeter" (`gcloud run deploy --help`,
 * --ingress internal; https://cloud.google.com/sdk/gcloud/reference/run/deploy and
 * https://cloud.google.com/run/docs/securing/ingress), and through the service's own run.app URL. A push subscription
 * in another project, or to another URL, is refused at the network level whatever its token.
 */
export function checkPushIngress(stack: Stack): string[] {
  const out: string[] = [];
  for (const sub of stack.ofType('google_pubsub_subscription')) {
    const endpoint = sub.config.push_config?.push_endpoint;
    const target = referenceOf(endpoint);
    const service = target === undefined ? undefined : stack.byAddress.get(target);
    if (!service || service.type !== 'google_cloud_run_v2_service') continue;
    const ingress = service.config.ingress ?? 'INGRESS_TRAFFIC_ALL';
    if (ingress === 'INGRESS_TRAFFIC_ALL') continue;
    if (typeof endpoint !== 'string' || !endpoint.startsWith(`\${${service.address}.uri}`)) {
      out.push(`${stack.name}: ${sub.address} pushes to ${service.address} (ingress ${ingress}) at '${String(endpoint)}', not its run.app URL (\${${service.address}.uri}): only that URL counts as internal for Pub/Sub push`);
    }
    if (JSON.stringify(sub.config.project ?? null) !== JSON.stringify(service.config.project ?? null)) {
      out.push(`${stack.name}: ${sub.address} (project ${JSON.stringify(sub.config.project ?? "the provider's")}) pushes to ${service.address} (project ${JSON.stringify(service.config.project ?? "the provider's")}, ingress ${ingress}): Pub/Sub push is internal traffic only from the same project or VPC Service Controls perimeter`);
    }
  }
  return out;
}

export function audit(stack: Stack, options: AuditOptions): string[] {
  const rows = options.rows ?? WORKLOADS;
  return [
    ...checkPermissions(stack, rows),
    ...checkLeastPrivilege(stack, rows),
    ...checkGrantPropagation(stack, rows),
    ...checkRuntimes(stack, options.on),
    ...checkLifecycles(stack),
    ...checkDataSources(stack),
    ...checkApiOrdering(stack),
    ...checkServiceAgents(stack),
    ...checkPushIngress(stack),
  ];
}
