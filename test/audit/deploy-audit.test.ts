/**
 * The deploy audit: every example stack and the README program, synthesized, checked against rules taken from
 * Google's documentation (test/audit/rules.ts: each rule and each workload row carries its source). A failure names
 * the stack, the resource, the identity and the missing role (or the path, the runtime, the dependency).
 *
 * Runtimes are checked against today's date, not a date fixed in the test: the question is whether Google would
 * refuse this deploy now. A fixed date would keep passing after a runtime's decommission; today's date turns the
 * suite red on the day a default runtime becomes undeployable, which is when the runtime table must change. The
 * planted-defect tests use fixed dates so that they never depend on the day.
 *
 * How to add a workload: see the header of test/audit/rules.ts (one row in WORKLOADS).
 */
import { audit, checkApiOrdering, checkDataSources, checkGrantPropagation, checkLeastPrivilege, checkLifecycles, checkPermissions, checkPushIngress, checkRuntimes, checkServiceAgents, runtimesOf, WORKLOADS } from './rules';
import { exampleStacks, readmeStack } from './stacks';
import { Stack, Tf } from './terraform';
import { Testing } from 'cdktf';
import { buildApp, WaymarkEnvironmentStack } from '../../examples/app';
import { ENVIRONMENTS } from '../../examples/environments';
import { STABLE_ASSET_HASHES_CONTEXT } from '../../lib/private/assets';

const TODAY = new Date().toISOString().slice(0, 10);
const stacks = [...exampleStacks(), readmeStack()];

function mutate(name: string, change: (tf: Tf) => void): Stack {
  const original = stacks.find((s) => s.name === name)!;
  const tf = structuredClone(original.tf);
  change(tf);
  return new Stack(name, tf);
}

/** The first resource of `type` whose id contains `part`, as [id, config]. */
function find(tf: Tf, type: string, part = ''): [string, any] {
  const hit = Object.entries<any>(tf.resource[type] ?? {}).find(([id]) => id.includes(part));
  if (!hit) throw new Error(`no ${type} *${part}*`);
  return hit;
}

describe('deploy audit', () => {
  test('covers every example stack and the README program, and every kind of workload in them', () => {
    expect(stacks.map((s) => s.name)).toEqual(['waymark-dev', 'waymark-prod', 'waymark-gke', 'waymark-functions', 'waymark-appengine', 'waymark-pixel', 'README']);
    const present = new Set(stacks.flatMap((s) => s.resources.map((r) => r.type)));
    for (const type of ['google_dataflow_flex_template_job', 'google_data_pipeline_pipeline', 'google_cloud_run_v2_service', 'google_cloudfunctions2_function', 'google_app_engine_standard_app_version', 'google_compute_region_instance_template', 'kubernetes_deployment_v1', 'google_logging_project_sink']) {
      expect({ type, present: present.has(type) }).toEqual({ type, present: true });
      expect(WORKLOADS.some((w) => w.type === type)).toBe(true);
    }
  });

  test('synthesis is deterministic: a second synth of every example is the same JSON (the second plan sees the same configuration)', () => {
    expect(exampleStacks().map((s) => JSON.stringify(s.tf))).toEqual(stacks.filter((s) => s.name !== 'README').map((s) => JSON.stringify(s.tf)));
  });

  test.each(stacks.map((s) => [s.name, s]))('%s passes every rule', (_name, stack) => {
    expect(audit(stack as Stack, { on: TODAY })).toEqual([]);
  });

  test('a collector without Cloud Armor (the dev stack with cloudArmor: false) passes every rule: no rule depends on the policy', () => {
    const app = Testing.app({ context: { [STABLE_ASSET_HASHES_CONTEXT]: true } });
    const dev = ENVIRONMENTS.find((e) => e.name === 'dev')!;
    buildApp(app, [{ ...dev, cloudArmor: false }]);
    const stack = new Stack('waymark-dev (cloudArmor: false)', JSON.parse(Testing.synth(app.node.findChild('waymark-dev') as WaymarkEnvironmentStack)));
    expect(stack.resources.filter((r) => r.type === 'google_compute_security_policy')).toEqual([]);
    const services = stack.resources.filter((r) => r.type === 'google_compute_backend_service');
    expect(services.length).toBeGreaterThan(0);
    for (const s of services) expect(s.config.security_policy).toBeUndefined();
    expect(audit(stack, { on: TODAY })).toEqual([]);
    // The default dev stack has the policy on its backend service.
    const armored = stacks.find((s) => s.name === 'waymark-dev')!.resources;
    expect(armored.filter((r) => r.type === 'google_compute_security_policy')).toHaveLength(1);
    expect(armored.filter((r) => r.type === 'google_compute_backend_service').every((r) => typeof r.config.security_policy === 'string')).toBe(true);
  });

  describe('each rule fails on a planted defect, naming what is wrong', () => {
    // The Dataflow plants use waymark-prod: waymark-dev enriches with the serverless path (no Dataflow job).
    test('permissions: the enricher without its dataset-level grant (Dataflow launch: "Unable to confirm presence of dataset")', () => {
      const s = mutate('waymark-prod', (tf) => {
        const [id] = find(tf, 'google_bigquery_dataset_iam_member', 'dataset-metadata');
        delete tf.resource.google_bigquery_dataset_iam_member[id];
      });
      expect(checkPermissions(s)).toEqual([
        expect.stringMatching(/^waymark-prod: google_dataflow_flex_template_job\.clickstream_enricher_job_\w+ runs as google_service_account\.clickstream_enricher_service-account_\w+, which lacks roles\/bigquery\.metadataViewer on google_bigquery_dataset\.clickstream_warehouse_dataset_\w+ \(datasets\.get on the dataset of the events table/),
        expect.stringMatching(/lacks roles\/bigquery\.metadataViewer on google_bigquery_dataset\..*the dead-letter table/),
      ]);
    });

    test('permissions: the archive subscription without the Pub/Sub agent\'s bucket reader role; the collector without publish', () => {
      const s = mutate('waymark-prod', (tf) => {
        delete tf.resource.google_storage_bucket_iam_member[find(tf, 'google_storage_bucket_iam_member', 'writer-bucket-reader')[0]];
        delete tf.resource.google_pubsub_topic_iam_member[find(tf, 'google_pubsub_topic_iam_member', 'publish-raw')[0]];
      });
      const v = checkPermissions(s);
      expect(v).toEqual(expect.arrayContaining([
        expect.stringMatching(/google_pubsub_subscription\.clickstream_archive_subscription_\w+ runs as service-agent:pubsub\.googleapis\.com, which lacks roles\/storage\.legacyBucketReader on google_storage_bucket\.clickstream_archive_bucket_/),
        expect.stringMatching(/google_compute_region_instance_template\.\S+ runs as google_service_account\.clickstream_collector_service-account_\w+, which lacks roles\/pubsub\.publisher on google_pubsub_topic\.clickstream_topics_raw_/),
      ]));
    });

    test('nothing broader: a primitive role, a project-wide storage role, a public grant where none belongs', () => {
      const s = mutate('waymark-prod', (tf) => {
        const member = find(tf, 'google_project_iam_member', 'dataflow-worker')[1].member;
        tf.resource.google_project_iam_member.planted_editor = { project: 'waymark-dev', role: 'roles/editor', member };
        tf.resource.google_project_iam_member.planted_storage = { project: 'waymark-dev', role: 'roles/storage.objectAdmin', member };
        tf.resource.google_pubsub_topic_iam_member.planted_public = { topic: find(tf, 'google_pubsub_topic_iam_member', 'raw')[1].topic, role: 'roles/pubsub.publisher', member: 'allUsers' };
      });
      expect(checkLeastPrivilege(s)).toEqual([
        expect.stringMatching(/google_project_iam_member\.planted_editor grants the primitive role roles\/editor to google_service_account\.clickstream_enricher_service-account_/),
        expect.stringMatching(/google_project_iam_member\.planted_storage grants roles\/storage\.objectAdmin on project to google_service_account\.clickstream_enricher_service-account_\w+, which no workload it runs needs \(project-wide\)/),
        expect.stringMatching(/google_pubsub_topic_iam_member\.planted_public grants roles\/pubsub\.publisher on google_pubsub_topic\.\S+ to allUsers: not an allowed public grant/),
      ]);
    });

    test('IAM propagation: the Dataflow job launching straight after its grants (no time_sleep)', () => {
      const s = mutate('waymark-prod', (tf) => {
        const [, job] = find(tf, 'google_dataflow_flex_template_job');
        const sleep = job.depends_on.find((d: string) => d.startsWith('time_sleep.'));
        job.depends_on = [...job.depends_on.filter((d: string) => d !== sleep), ...tf.resource.time_sleep[sleep.split('.')[1]].depends_on];
      });
      expect(checkGrantPropagation(s)).toEqual(expect.arrayContaining([
        expect.stringMatching(/google_dataflow_flex_template_job\.\S+ does not wait \(through a time_sleep\) for google_bigquery_dataset_iam_member\.\S+ \(roles\/bigquery\.metadataViewer of google_service_account\.clickstream_enricher_service-account_/),
      ]));
    });

    test('runtimes: a Node 20 function on the day after its decommission; a node:20 image', () => {
      const s = mutate('waymark-functions', (tf) => { for (const f of Object.values<any>(tf.resource.google_cloudfunctions2_function)) f.build_config.runtime = 'nodejs20'; });
      expect(checkRuntimes(s, '2026-10-29')).toEqual([]);
      expect(checkRuntimes(s, '2026-10-30')).toEqual([
        expect.stringMatching(/google_cloudfunctions2_function\.\S+ uses cloud-functions runtime 'nodejs20', refused from 2026-10-30 \(https:\/\/docs\.cloud\.google\.com\/run\/docs\/runtimes\/function-runtimes#nodejs\)/),
        expect.stringMatching(/uses cloud-functions runtime 'nodejs20'/),
      ]);
      const run = mutate('waymark-dev', (tf) => { find(tf, 'google_cloud_run_v2_service')[1].template.containers[0].image = 'docker.io/library/node:20-bookworm-slim'; });
      expect(checkRuntimes(run, '2026-12-01')).toEqual([expect.stringMatching(/google_cloud_run_v2_service\.\S+ uses container runtime 'docker\.io\/library\/node:20-bookworm-slim', refused from 2026-04-30/)]);
      expect(runtimesOf(stacks.find((x) => x.name === 'waymark-prod')!).map((u) => u.value)).toEqual(['mirror.gcr.io/library/node:24-bookworm-slim', 'mirror.gcr.io/library/node:24-bookworm-slim', 'mirror.gcr.io/library/node:24-bookworm-slim']);
    });

    test('lifecycles: the Dataflow bucket expiring staging/ again (Beam issue 18209); a rule over the whole code bucket', () => {
      const s = mutate('waymark-prod', (tf) => {
        find(tf, 'google_storage_bucket', 'enricher_bucket')[1].lifecycle_rule[0].condition.matches_prefix.push('staging/');
        find(tf, 'google_storage_bucket', 'collector_code')[1].lifecycle_rule = [{ action: { type: 'Delete' }, condition: { age: 30 } }];
      });
      expect(checkLifecycles(s)).toEqual(expect.arrayContaining([
        expect.stringMatching(/a Delete rule of google_storage_bucket\.clickstream_enricher_bucket_\w+ \(prefix 'staging\/'\) deletes 'staging\/', which google_dataflow_flex_template_job\.\S+ reads while it runs/),
        expect.stringMatching(/a Delete rule of google_storage_bucket\.clickstream_collector_code_\w+ \(prefix ''\) deletes 'collector-0{16}\.js', which google_compute_region_instance_template\.\S+ reads/),
      ]));
    });

    test('data sources: one waiting for an API, one reading a resource attribute', () => {
      const s = mutate('waymark-gke', (tf) => {
        const [id, config] = Object.entries<any>(tf.data.google_client_config)[0];
        config.depends_on = ['google_project_service.x'];
        tf.data.google_project = { planted: { project_id: `\${google_storage_bucket.${find(tf, 'google_storage_bucket')[0]}.project}` } };
        expect(id).toBeTruthy();
      });
      expect(checkDataSources(s)).toEqual([
        expect.stringMatching(/data\.google_client_config\.\S+ has depends_on \["google_project_service\.x"\]: it would be read only at apply time/),
        expect.stringMatching(/data\.google_project\.planted reads resource attributes \(google_storage_bucket\.\S+\)/),
      ]);
    });

    test('APIs: a Dataflow job that does not wait for dataflow.googleapis.com (neither directly nor through what it waits for)', () => {
      const s = mutate('README', (tf) => {
        for (const byId of Object.values<Record<string, any>>(tf.resource)) {
          for (const r of Object.values<any>(byId)) if (r.depends_on) r.depends_on = r.depends_on.filter((d: string) => !d.includes('apis_dataflow'));
        }
      });
      expect(checkApiOrdering(s)).toEqual([expect.stringMatching(/^README: google_dataflow_flex_template_job\.\S+ does not wait for google_project_service\.clickstream_apis_dataflow_\w+ \(dataflow\.googleapis\.com\)$/)]);
    });

    test('service agents: the Pub/Sub agent written out from the project number (the old code)', () => {
      const s = mutate('waymark-dev', (tf) => {
        find(tf, 'google_storage_bucket_iam_member', 'writer-object-creator')[1].member = 'serviceAccount:service-${data.google_project.p.number}@gcp-sa-pubsub.iam.gserviceaccount.com';
      });
      expect(checkServiceAgents(s)).toEqual([expect.stringMatching(/google_storage_bucket_iam_member\.clickstream_archive_writer-object-creator_\w+ grants roles\/storage\.objectCreator to the service agent 'serviceAccount:service-\$\{data\.google_project\.p\.number\}@gcp-sa-pubsub\.iam\.gserviceaccount\.com', written out by hand/)]);
    });

    test('serverless enricher rows: the push account without run.invoker, the agent without token creator, the service without publish', () => {
      const s = mutate('waymark-dev', (tf) => {
        delete tf.resource.google_cloud_run_v2_service_iam_member[find(tf, 'google_cloud_run_v2_service_iam_member', 'push-invoker')[0]];
        delete tf.resource.google_service_account_iam_member[find(tf, 'google_service_account_iam_member', 'push-token-creator')[0]];
        delete tf.resource.google_pubsub_topic_iam_member[find(tf, 'google_pubsub_topic_iam_member', 'publish-enriched')[0]];
      });
      expect(checkPermissions(s)).toEqual(expect.arrayContaining([
        expect.stringMatching(/google_pubsub_subscription\.clickstream_topics_enrich_\w+ runs as google_service_account\.clickstream_serverless-enricher_push-account_\w+, which lacks roles\/run\.invoker on google_cloud_run_v2_service\.clickstream_serverless-enricher_service_/),
        expect.stringMatching(/runs as service-agent:pubsub\.googleapis\.com, which lacks roles\/iam\.serviceAccountTokenCreator on google_service_account\.clickstream_serverless-enricher_push-account_/),
        expect.stringMatching(/google_cloud_run_v2_service\.clickstream_serverless-enricher_service_\w+ runs as \S+, which lacks roles\/pubsub\.publisher on google_pubsub_topic\.clickstream_serverless-enricher_enriched_\w+ \(publishes to WAYMARK_ENRICHED_TOPIC/),
      ]));
    });

    test('push ingress: the serverless enricher is internal-only and reached by its two push subscriptions from its own project; another project or a custom URL is refused', () => {
      const dev = stacks.find((x) => x.name === 'waymark-dev')!;
      const [serviceId, service] = find(dev.tf, 'google_cloud_run_v2_service', 'serverless-enricher_service');
      expect(service.ingress).toBe('INGRESS_TRAFFIC_INTERNAL_ONLY');
      const pushes = Object.values<any>(dev.tf.resource.google_pubsub_subscription).filter((x) => String(x.push_config?.push_endpoint ?? '').includes(serviceId));
      expect(pushes).toHaveLength(2);
      expect(checkPushIngress(dev)).toEqual([]);
      const s = mutate('waymark-dev', (tf) => {
        const [, enrich] = find(tf, 'google_pubsub_subscription', 'topics_enrich');
        enrich.project = 'elsewhere';
        const dead = Object.values<any>(tf.resource.google_pubsub_subscription).find((x) => String(x.push_config?.push_endpoint ?? '').endsWith('/dead-letter'));
        dead.push_config.push_endpoint = `https://enricher.example.com/dead-letter#\${google_cloud_run_v2_service.${serviceId}.name}`;
      });
      expect(checkPushIngress(s)).toEqual([
        expect.stringMatching(/google_pubsub_subscription\.clickstream_serverless-enricher_dead-letter-subscription_\w+ pushes to .* at 'https:\/\/enricher\.example\.com\/dead-letter.*', not its run\.app URL/),
        expect.stringMatching(/google_pubsub_subscription\.clickstream_topics_enrich_\w+ \(project "elsewhere"\) pushes to google_cloud_run_v2_service\.clickstream_serverless-enricher_service_\w+ .*ingress INGRESS_TRAFFIC_INTERNAL_ONLY\): Pub\/Sub push is internal traffic only from the same project/),
      ]);
    });

    test('a BigQuery subscription row (for the serverless enricher): the Pub/Sub agent needs dataEditor on the table and metadataViewer on the dataset', () => {
      const s = mutate('waymark-prod', (tf) => {
        const [tableId] = find(tf, 'google_bigquery_table', 'events');
        tf.resource.google_pubsub_subscription.planted_bq = { name: 'to-bq', topic: 'x', bigquery_config: { table: `\${google_bigquery_table.${tableId}.project}.\${google_bigquery_table.${tableId}.dataset_id}.\${google_bigquery_table.${tableId}.table_id}` } };
      });
      expect(checkPermissions(s)).toEqual([
        expect.stringMatching(/google_pubsub_subscription\.planted_bq runs as service-agent:pubsub\.googleapis\.com, which lacks roles\/bigquery\.dataEditor on google_bigquery_table\.clickstream_warehouse_events_/),
        expect.stringMatching(/google_pubsub_subscription\.planted_bq runs as service-agent:pubsub\.googleapis\.com, which lacks roles\/bigquery\.metadataViewer on google_bigquery_dataset\.clickstream_warehouse_dataset_/),
      ]);
    });
  });
});
