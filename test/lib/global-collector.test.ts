import { Construct } from 'constructs';
import { ComputeBackendBucket } from '@cdktf/provider-google/lib/compute-backend-bucket';
import { PubsubTopic } from '@cdktf/provider-google/lib/pubsub-topic';
import { CollectorBackend } from '../../lib/collector-backend';
import { GlobalCollector, GlobalCollectorProps } from '../../lib/global-collector';
import { ClickstreamPipeline, requiredApis } from '../../lib/clickstream-pipeline';
import { GoogleBetaProvider } from '@cdktf/provider-google-beta/lib/provider';
import { GKE_REGION_ZONES } from '../../lib/private/backends/gke';
import { collectorBundle, collectorZip } from '../../lib/private/runtime-bundles';
import { allResources, labelAttribute, synth, Synthesized } from '../helpers/synth';

function topics(scope: Construct): Pick<GlobalCollectorProps, 'rawTopic' | 'badTopic'> {
  return { rawTopic: new PubsubTopic(scope, 'raw', { name: 'raw' }), badTopic: new PubsubTopic(scope, 'bad', { name: 'bad' }) };
}

function collectorWith(backends: CollectorBackend[], extra: Partial<GlobalCollectorProps> = {}, options = {}): Synthesized {
  return synth((scope) => {
    new GlobalCollector(scope, 'collector', { domains: ['c.example.com'], backends, projectId: 'acme-analytics', labels: { team: 'data' }, ...topics(scope), ...extra });
  }, options);
}

const BACKENDS: Array<[string, () => CollectorBackend]> = [
  ['instance groups', () => CollectorBackend.instanceGroups({ regions: ['us-central1', 'europe-west1'], minReplicas: 2, maxReplicas: 8 })],
  ['gke', () => CollectorBackend.gke({ regions: ['us-central1', 'europe-west1'], minReplicas: 3, maxReplicas: 30 })],
  ['cloud run', () => CollectorBackend.cloudRun({ regions: ['us-central1', 'asia-southeast1'], minInstances: 1, maxInstances: 50 })],
  ['cloud functions', () => CollectorBackend.cloudFunctions({ regions: ['us-central1'], maxInstances: 20 })],
  ['app engine', () => CollectorBackend.appEngine({ region: 'us-central1', createApplication: true })],
];

describe('GlobalCollector', () => {
  describe.each(BACKENDS)('with %s', (_name, make) => {
    const s = collectorWith([make()]);

    test('snapshot (locks Terraform addresses)', () => {
      expect(s.text).toMatchSnapshot();
    });

    test('one backend service: EXTERNAL_MANAGED, Cloud Armor attached, request logging', () => {
      const backend = s.only('google_compute_backend_service');
      expect(backend.load_balancing_scheme).toBe('EXTERNAL_MANAGED');
      expect(backend.security_policy).toMatch(/google_compute_security_policy\.collector_armor_[0-9A-F]+\.id/);
      expect(backend.log_config).toEqual({ enable: true, sample_rate: 1 });
      const map = Object.values(s.resources('google_compute_url_map')).find((m) => m.host_rule);
      expect(map.default_service).toMatch(/google_compute_backend_service\..*\.id/);
    });

    test('service accounts: the collector publishes to raw and bad and reads its code, nothing project-wide but logging on VMs', () => {
      const topicGrants = Object.values(s.resources('google_pubsub_topic_iam_member'));
      expect(topicGrants.map((g) => [g.topic, g.role]).sort()).toEqual([
        ['${google_pubsub_topic.bad.id}', 'roles/pubsub.publisher'],
        ['${google_pubsub_topic.raw.id}', 'roles/pubsub.publisher'],
      ]);
      const collectorAccount = /^\$\{google_service_account\.collector_service-account_[0-9A-F]+\.member\}$/;
      const bucketGrants = Object.values(s.resources('google_storage_bucket_iam_member'));
      expect(bucketGrants.filter((g) => collectorAccount.test(g.member)).map((g) => g.role)).toEqual(['roles/storage.objectViewer']);
      const projectRoles = Object.values(s.resources('google_project_iam_member')).filter((g) => collectorAccount.test(g.member)).map((g) => g.role).sort();
      expect(projectRoles).toEqual(_name === 'instance groups' ? ['roles/logging.logWriter', 'roles/monitoring.metricWriter'] : []);
      // Only Cloud Functions has a second account: the one its builds run as.
      expect(Object.keys(s.resources('google_service_account'))).toHaveLength(_name === 'cloud functions' ? 2 : 1);
      for (const [type, , config] of allResources(s)) {
        if (type.endsWith('_iam_member')) expect(config.role).not.toMatch(/^roles\/(owner|editor|viewer)$/);
      }
    });

    test('no public grant except the invoker a serverless NEG needs', () => {
      const publicGrants = allResources(s).filter(([, , c]) => c.member === 'allUsers' || (c.members ?? []).includes('allUsers'));
      const serverless = _name === 'cloud run' || _name === 'cloud functions';
      for (const [type, , config] of publicGrants) {
        expect(type).toBe('google_cloud_run_v2_service_iam_member');
        expect(config.role).toBe('roles/run.invoker');
      }
      expect(publicGrants.length > 0).toBe(serverless);
    });

    test('labels on every resource that takes them', () => {
      for (const [type, id, config] of allResources(s)) {
        // The test's own topics are not the collector's: only its resources (logical ids under 'collector').
        const attribute = type.startsWith('google_') && id.startsWith('collector') ? labelAttribute(type) : null;
        if (attribute) expect({ id, labels: config[attribute] }).toEqual({ id, labels: expect.objectContaining({ team: 'data', 'managed-by': 'waymark' }) });
      }
    });
  });

  describe('front end', () => {
    const s = collectorWith([CollectorBackend.cloudRun({ regions: ['us-central1'] })]);

    test('TLS 1.2+ with the MODERN profile on a managed certificate for the domains', () => {
      expect(s.only('google_compute_ssl_policy')).toMatchObject({ profile: 'MODERN', min_tls_version: 'TLS_1_2' });
      expect(s.only('google_compute_managed_ssl_certificate').managed.domains).toEqual(['c.example.com']);
      expect(s.only('google_compute_target_https_proxy').ssl_policy).toMatch(/google_compute_ssl_policy/);
    });

    test('HTTPS on 443 and a permanent HTTP→HTTPS redirect on 80, on one global IP', () => {
      const rules = Object.values(s.resources('google_compute_global_forwarding_rule'));
      expect(rules.map((r) => r.port_range).sort()).toEqual(['443', '80']);
      for (const r of rules) {
        expect(r.load_balancing_scheme).toBe('EXTERNAL_MANAGED');
        expect(r.ip_address).toMatch(/google_compute_global_address\..*\.id/);
      }
      const redirect = Object.values(s.resources('google_compute_url_map')).find((m) => m.default_url_redirect);
      expect(redirect.default_url_redirect).toEqual({ https_redirect: true, redirect_response_code: 'MOVED_PERMANENTLY_DEFAULT', strip_query: false });
    });

    test('Cloud Armor throttles per IP with 429 by default', () => {
      const policy = s.only('google_compute_security_policy');
      const throttle = policy.rule.find((r: any) => r.action === 'throttle');
      expect(throttle.rate_limit_options).toEqual({
        conform_action: 'allow',
        exceed_action: 'deny(429)',
        enforce_on_key: 'IP',
        rate_limit_threshold: { count: 600, interval_sec: 60 },
      });
      expect(policy.rule.find((r: any) => r.priority === 2147483647).action).toBe('allow');
    });

    test('allow and deny lists become rules ahead of the throttle', () => {
      const policy = collectorWith([CollectorBackend.cloudRun({ regions: ['us-central1'] })], {
        allowedIpRanges: ['203.0.113.0/24'], deniedIpRanges: ['198.51.100.0/24'], rateLimit: { requests: 100, intervalSeconds: 10, status: 403 },
      }).only('google_compute_security_policy');
      const byPriority = [...policy.rule].sort((a: any, b: any) => a.priority - b.priority);
      expect(byPriority.map((r: any) => r.action)).toEqual(['deny(403)', 'allow', 'throttle', 'allow']);
      expect(byPriority[0].match.config.src_ip_ranges).toEqual(['198.51.100.0/24']);
      expect(byPriority[2].rate_limit_options.exceed_action).toBe('deny(403)');
      expect(byPriority[2].rate_limit_options.rate_limit_threshold).toEqual({ count: 100, interval_sec: 10 });
    });

    test('the collector is configured for Pub/Sub, its cookie and its paths', () => {
      const s2 = collectorWith([CollectorBackend.cloudFunctions({ regions: ['us-central1'] })], {
        cookie: { name: 'nuid', domains: ['example.com'], fallbackDomain: 'example.org', lifetimeDays: 30 },
        customPaths: { '/acme/e': '/com.snowplowanalytics.snowplow/tp2' },
        redirectDomains: ['example.com'],
      });
      expect(s2.only('google_cloudfunctions2_function').service_config.environment_variables).toEqual({
        WAYMARK_SINK: 'pubsub',
        WAYMARK_PUBSUB_GOOD_TOPIC: '${google_pubsub_topic.raw.id}',
        WAYMARK_PUBSUB_BAD_TOPIC: '${google_pubsub_topic.bad.id}',
        WAYMARK_COOKIE_NAME: 'nuid',
        WAYMARK_COOKIE_MAX_AGE_SECONDS: String(30 * 86400),
        WAYMARK_COOKIE_DOMAINS: 'example.com',
        WAYMARK_COOKIE_FALLBACK_DOMAIN: 'example.org',
        WAYMARK_CUSTOM_PATHS: '/acme/e=/com.snowplowanalytics.snowplow/tp2',
        WAYMARK_REDIRECT_ENABLED: 'true',
        WAYMARK_REDIRECT_ALLOWED_DOMAINS: 'example.com',
        WAYMARK_XFF_TRUSTED_HOPS: '1',
      });
    });
  });

  describe('instance groups', () => {
    const backend = (): CollectorBackend => CollectorBackend.instanceGroups({ regions: ['us-central1', 'europe-west1'], minReplicas: 2, maxReplicas: 8 });
    const s = collectorWith([backend()]);

    test('a regional MIG per region with autohealing on /health and a proactive rolling update', () => {
      const groups = Object.values(s.resources('google_compute_region_instance_group_manager'));
      expect(groups.map((g) => g.region).sort()).toEqual(['europe-west1', 'us-central1']);
      for (const g of groups) {
        expect(g.update_policy).toMatchObject({ type: 'PROACTIVE', minimal_action: 'REPLACE', max_unavailable_fixed: 0 });
        expect(g.auto_healing_policies.health_check).toMatch(/google_compute_health_check\..*autoheal/);
        expect(g.named_port).toEqual([{ name: 'http', port: 8080 }]);
      }
      for (const hc of Object.values(s.resources('google_compute_health_check'))) expect(hc.http_health_check.request_path).toBe('/health');
    });

    test('regional autoscalers with the given bounds', () => {
      for (const a of Object.values(s.resources('google_compute_region_autoscaler'))) {
        expect(a.autoscaling_policy).toMatchObject({ min_replicas: 2, max_replicas: 8, cpu_utilization: { target: 0.6 } });
      }
    });

    test('shielded VMs on Container-Optimized OS, running as the collector account, no external IP', () => {
      for (const t of Object.values(s.resources('google_compute_region_instance_template'))) {
        expect(t.shielded_instance_config).toEqual({ enable_secure_boot: true, enable_vtpm: true, enable_integrity_monitoring: true });
        expect(t.service_account.email).toMatch(/google_service_account\..*\.email/);
        expect(t.network_interface[0].access_config).toBeUndefined();
        expect(t.disk[0].source_image).toBe('cos-cloud/cos-stable');
        expect(t.lifecycle.create_before_destroy).toBe(true);
      }
    });

    test('a new bundle changes the instance templates, which rolls the groups', () => {
      const real = collectorWith([backend()], {}, { stableHashes: false });
      const hash = collectorBundle().hash;
      const scripts = Object.values(real.resources('google_compute_region_instance_template')).map((t) => t.metadata['startup-script']);
      for (const script of scripts) expect(script).toContain(`/collector-${hash}.js`);
      const stable = Object.values(s.resources('google_compute_region_instance_template')).map((t) => t.metadata['startup-script']);
      expect(stable[0]).not.toBe(scripts[0]);
      const objects = Object.values(real.resources('google_storage_bucket_object')).map((o) => o.name).sort();
      expect(objects).toEqual([`collector-${collectorZip().hash}.zip`, `collector-${hash}.js`].sort());
    });

    test('a new bundle leaves the previous code objects in place (VMs of the previous rollout can still fetch theirs)', () => {
      for (const o of Object.values(s.resources('google_storage_bucket_object'))) expect(o.deletion_policy).toBe('ABANDON');
      // The bucket is emptied on destroy, abandoned objects included.
      expect(s.only('google_storage_bucket').force_destroy).toBe(true);
    });

    test('firewall admits only Google health-check and proxy ranges on the collector port', () => {
      const fw = s.only('google_compute_firewall');
      expect(fw.source_ranges).toEqual(['35.191.0.0/16', '130.211.0.0/22']);
      expect(fw.allow).toEqual([{ protocol: 'tcp', ports: ['8080'] }]);
      expect(fw.direction).toBe('INGRESS');
    });
  });

  describe('gke', () => {
    const s = collectorWith([CollectorBackend.gke({ regions: ['us-central1'], minReplicas: 3, maxReplicas: 30, zones: { 'us-central1': ['us-central1-a', 'us-central1-f'] } })]);

    test('an Autopilot cluster per region, a Deployment with an HPA, and a Service exposing a standalone NEG', () => {
      expect(s.only('google_container_cluster')).toMatchObject({ enable_autopilot: true, location: 'us-central1' });
      expect(s.only('kubernetes_horizontal_pod_autoscaler_v2').spec.min_replicas).toBe(3);
      expect(s.only('kubernetes_horizontal_pod_autoscaler_v2').spec.max_replicas).toBe(30);
      const annotation = JSON.parse(s.only('kubernetes_service_v1').metadata.annotations['cloud.google.com/neg']);
      const negName = Object.values<any>(annotation.exposed_ports)[0].name;
      // GKE's NEGs are referenced by self link: nothing is read at plan time (the first plan has no cluster yet).
      expect(s.json.data?.google_compute_network_endpoint_group).toBeUndefined();
      expect(s.only('google_compute_backend_service').backend.map((b: any) => b.group)).toEqual(['us-central1-a', 'us-central1-f'].map(
        (zone) => `https://www.googleapis.com/compute/v1/projects/acme-analytics/zones/${zone}/networkEndpointGroups/${negName}`));
    });

    test('pods are pinned to the NEG zones and spread over them, at least one per zone', () => {
      const pod = s.only('kubernetes_deployment_v1').spec.template.spec;
      expect(pod.affinity.node_affinity.required_during_scheduling_ignored_during_execution.node_selector_term).toEqual([
        { match_expressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['us-central1-a', 'us-central1-f'] }] },
      ]);
      expect(pod.topology_spread_constraint).toEqual([{
        max_skew: 1, min_domains: 2, topology_key: 'topology.kubernetes.io/zone', when_unsatisfiable: 'DoNotSchedule',
        label_selector: [{ match_labels: { app: 'waymark-collector' } }],
      }]);
    });

    test("default zones come from the region's real zone list (europe-west1 has b, c, d), as many as minReplicas", () => {
      const d = collectorWith([CollectorBackend.gke({ regions: ['europe-west1', 'us-central1'] })]);
      const groups = d.only('google_compute_backend_service').backend.map((b: any) => /zones\/([^/]+)\//.exec(b.group)![1]);
      expect(groups).toEqual(['europe-west1-b', 'europe-west1-c', 'europe-west1-d', 'us-central1-a', 'us-central1-b', 'us-central1-c']);
      for (const hpa of Object.values(d.resources('kubernetes_horizontal_pod_autoscaler_v2'))) expect(hpa.spec.min_replicas).toBe(3);
      const two = collectorWith([CollectorBackend.gke({ regions: ['europe-west1'], minReplicas: 2 })]);
      expect(two.only('google_compute_backend_service').backend.map((b: any) => /zones\/([^/]+)\//.exec(b.group)![1])).toEqual(['europe-west1-b', 'europe-west1-c']);
      expect(GKE_REGION_ZONES['europe-west1']).toEqual(['b', 'c', 'd']);
    });

    test('the backend service is created after the pods are ready (the NEGs exist by then) and destroyed before the Services', () => {
      const backend = s.only('google_compute_backend_service');
      expect([...backend.depends_on].sort()).toEqual([
        `kubernetes_deployment_v1.${Object.keys(s.resources('kubernetes_deployment_v1'))[0]}`,
        `kubernetes_service_v1.${Object.keys(s.resources('kubernetes_service_v1'))[0]}`,
      ]);
      expect(s.only('kubernetes_deployment_v1').wait_for_rollout).toBe(true);
    });

    test('health checks on /health: the load balancer on the serving port, the pods by readiness and liveness probes', () => {
      expect(s.only('google_compute_health_check').http_health_check).toEqual({ port_specification: 'USE_SERVING_PORT', request_path: '/health' });
      const container = s.only('kubernetes_deployment_v1').spec.template.spec.container[0];
      expect(container.readiness_probe.http_get.path).toBe('/health');
      expect(container.liveness_probe.http_get.path).toBe('/health');
    });

    test('a new bundle changes the pod template, which rolls the Deployment (surge, never below capacity)', () => {
      const real = collectorWith([CollectorBackend.gke({ regions: ['us-central1'] })], {}, { stableHashes: false });
      const deployment = real.only('kubernetes_deployment_v1');
      const env = Object.fromEntries(deployment.spec.template.spec.container[0].env.map((e: any) => [e.name, e.value]));
      expect(env.WAYMARK_BUNDLE).toMatch(new RegExp(`/collector-${collectorBundle().hash}\\.js$`));
      const stable = Object.fromEntries(s.only('kubernetes_deployment_v1').spec.template.spec.container[0].env.map((e: any) => [e.name, e.value]));
      expect(stable.WAYMARK_BUNDLE).not.toBe(env.WAYMARK_BUNDLE);
      expect(deployment.spec.strategy).toEqual({ type: 'RollingUpdate', rolling_update: { max_surge: '25%', max_unavailable: '0' } });
    });

    test('pods publish through Workload Identity as the collector account', () => {
      const ksa = s.only('kubernetes_service_account_v1');
      expect(ksa.metadata.annotations['iam.gke.io/gcp-service-account']).toMatch(/google_service_account\..*\.email/);
      expect(s.only('google_service_account_iam_member')).toMatchObject({
        role: 'roles/iam.workloadIdentityUser',
        member: 'serviceAccount:acme-analytics.svc.id.goog[waymark/waymark-collector]',
      });
    });

    test('the Workload Identity grant waits for every cluster (the identity pool exists only once a cluster does)', () => {
      const two = collectorWith([CollectorBackend.gke({ regions: ['us-central1', 'europe-west1'] })]);
      const clusters = Object.keys(two.resources('google_container_cluster')).map((id) => `google_container_cluster.${id}`);
      expect(clusters).toHaveLength(2);
      expect([...two.only('google_service_account_iam_member').depends_on].sort()).toEqual(clusters.sort());
    });
  });

  describe('serverless', () => {
    test('Cloud Run: ingress from the load balancer only, the bundle fetched by a stock Node image', () => {
      const s = collectorWith([CollectorBackend.cloudRun({ regions: ['us-central1'] })]);
      const service = s.only('google_cloud_run_v2_service');
      expect(service.ingress).toBe('INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER');
      const env = Object.fromEntries(service.template.containers[0].env.map((e: any) => [e.name, e.value]));
      expect(env.WAYMARK_ACK_MODE).toBe('delivered');
      expect(env.WAYMARK_BUNDLE).toMatch(/^gs:\/\/\$\{google_storage_bucket\..*\.name\}\/collector-0{16}\.js$/);
      expect(s.only('google_compute_region_network_endpoint_group')).toMatchObject({ network_endpoint_type: 'SERVERLESS' });
    });

    test('Cloud Run deploys Node from Docker Hub (it does not deploy from mirror.gcr.io); VMs and GKE pull through the mirror', () => {
      const run = collectorWith([CollectorBackend.cloudRun({ regions: ['us-central1'] })]).only('google_cloud_run_v2_service');
      expect(run.template.containers[0].image).toBe('docker.io/library/node:24-bookworm-slim');
      const gke = collectorWith([CollectorBackend.gke({ regions: ['us-central1'] })]).only('kubernetes_deployment_v1');
      expect(gke.spec.template.spec.container[0].image).toBe('mirror.gcr.io/library/node:24-bookworm-slim');
      for (const ok of ['node:24', 'docker.io/library/node:22', 'us-docker.pkg.dev/p/r/node:24', 'europe-west1-docker.pkg.dev/p/r/node@sha256:abc', 'gcr.io/p/node:24', 'ghcr.io/o/node:24']) {
        expect(() => CollectorBackend.cloudRun({ regions: ['us-central1'], nodeImage: ok })).not.toThrow();
      }
      expect(() => CollectorBackend.cloudRun({ regions: ['us-central1'], nodeImage: 'quay.io/o/node:24' })).toThrow("CollectorBackend.cloudRun: prop 'nodeImage' Cloud Run deploys images from Artifact Registry");
    });

    test('Cloud Run: a new bundle changes the revision template (new revision, all traffic to the latest); scaling bounds', () => {
      const real = collectorWith([CollectorBackend.cloudRun({ regions: ['us-central1'], minInstances: 1, maxInstances: 50, concurrency: 120 })], {}, { stableHashes: false });
      const service = real.only('google_cloud_run_v2_service');
      const env = Object.fromEntries(service.template.containers[0].env.map((e: any) => [e.name, e.value]));
      expect(env.WAYMARK_BUNDLE).toMatch(new RegExp(`/collector-${collectorBundle().hash}\\.js$`));
      // No traffic block: Cloud Run sends all traffic to the latest ready revision.
      expect(service.traffic).toBeUndefined();
      expect(service.template.scaling).toEqual({ min_instance_count: 1, max_instance_count: 50 });
      expect(service.template.max_instance_request_concurrency).toBe(120);
      expect(service.template.containers[0].startup_probe.http_get.path).toBe('/health');
    });

    test('Cloud Functions gen2: the zip, entry point collect, ingress internal and GCLB', () => {
      const fn = collectorWith([CollectorBackend.cloudFunctions({ regions: ['us-central1'] })]).only('google_cloudfunctions2_function');
      expect(fn.build_config).toMatchObject({ runtime: 'nodejs24', entry_point: 'collect' });
      expect(fn.build_config.source.storage_source.object).toBe('collector-0000000000000000.zip');
      expect(fn.service_config.ingress_settings).toBe('ALLOW_INTERNAL_AND_GCLB');
    });

    test('Cloud Functions builds run as a build account of their own, holding the builder role and read on the code bucket, granted before the build', () => {
      const s = collectorWith([CollectorBackend.cloudFunctions({ regions: ['us-central1'] })]);
      const fn = s.only('google_cloudfunctions2_function');
      const build = Object.entries<any>(s.resources('google_service_account')).find(([id]) => id.includes('build-account'))!;
      expect(build[1].account_id).toBe('waymark-collector-build');
      expect(fn.build_config.service_account).toBe(`\${google_service_account.${build[0]}.id}`);
      const member = `\${google_service_account.${build[0]}.member}`;
      const grants = allResources(s).filter(([type, , c]) => type.endsWith('_iam_member') && c.member === member);
      expect(grants.map(([type, , c]) => [type, c.role]).sort()).toEqual([
        ['google_project_iam_member', 'roles/run.builder'],
        ['google_storage_bucket_iam_member', 'roles/storage.objectViewer'],
      ]);
      expect([...fn.depends_on].sort()).toEqual(grants.map(([type, id]) => `${type}.${id}`).sort());
    });

    test('Cloud Functions: a new bundle is a new zip object, which rebuilds and redeploys the function; scaling bounds', () => {
      const real = collectorWith([CollectorBackend.cloudFunctions({ regions: ['us-central1'], minInstances: 2, maxInstances: 20, concurrency: 80 })], {}, { stableHashes: false });
      const fn = real.only('google_cloudfunctions2_function');
      expect(fn.build_config.source.storage_source.object).toBe(`collector-${collectorZip().hash}.zip`);
      expect(fn.service_config).toMatchObject({ min_instance_count: 2, max_instance_count: 20, max_instance_request_concurrency: 80, all_traffic_on_latest_revision: true });
    });

    test('App Engine: the version waits for the collector account\'s read grant on the code bucket (it reads the zip as that account)', () => {
      const s = collectorWith([CollectorBackend.appEngine({ region: 'us-central1', createApplication: false })]);
      const grant = Object.keys(s.resources('google_storage_bucket_iam_member'))[0];
      expect(s.only('google_app_engine_standard_app_version').depends_on).toEqual([`google_storage_bucket_iam_member.${grant}`]);
      expect(s.only('google_app_engine_standard_app_version').service_account).toMatch(/google_service_account\.collector_service-account/);
    });

    test('App Engine: a nodejs24 version from the zip, ingress internal and load balancer', () => {
      const s = collectorWith([CollectorBackend.appEngine({ region: 'europe-west1', createApplication: true })]);
      const version = s.only('google_app_engine_standard_app_version');
      expect(version).toMatchObject({ runtime: 'nodejs24', service: 'default', entrypoint: { shell: 'node index.js' } });
      expect(version.deployment.zip.source_url).toMatch(/collector-0{16}\.zip$/);
      expect(s.only('google_app_engine_application').location_id).toBe('europe-west');
      expect(s.only('google_app_engine_service_network_settings').network_settings.ingress_traffic_allowed).toBe('INGRESS_TRAFFIC_ALLOWED_INTERNAL_AND_LB');
    });

    test('App Engine: a new bundle deploys a new version, moves all traffic to it, then deletes the old one', () => {
      const real = collectorWith([CollectorBackend.appEngine({ region: 'us-central1', createApplication: false, minInstances: 1, maxInstances: 7 })], {}, { stableHashes: false });
      const version = real.only('google_app_engine_standard_app_version');
      const versionId = `w-${collectorZip().hash}`;
      expect(version.version_id).toBe(versionId);
      expect(version.deployment.zip.source_url).toContain(`/collector-${collectorZip().hash}.zip`);
      // Old versions are deleted (not left running), but only after the split moved the traffic away.
      expect(version.noop_on_destroy).toBe(false);
      expect(version.delete_service_on_destroy).toBe(false);
      expect(version.lifecycle).toEqual({ create_before_destroy: true });
      const split = real.only('google_app_engine_service_split_traffic');
      expect(split.split.allocations).toEqual({ [versionId]: '1' });
      expect(split.migrate_traffic).toBe(false);
      expect(split.service).toMatch(/^\$\{google_app_engine_standard_app_version\.[^.]+\.service\}$/);
      expect(split.depends_on).toEqual([expect.stringMatching(/^google_app_engine_standard_app_version\./)]);
      // Scaling bounds.
      expect(version.automatic_scaling.standard_scheduler_settings).toMatchObject({ min_instances: 1, max_instances: 7, target_cpu_utilization: 0.65 });
    });
  });

  test('several backends share the traffic by weight', () => {
    const s = collectorWith([
      CollectorBackend.cloudRun({ regions: ['us-central1'], weight: 80 }),
      CollectorBackend.instanceGroups({ regions: ['europe-west1'], weight: 20 }),
    ]);
    const map = Object.values(s.resources('google_compute_url_map')).find((m) => m.host_rule);
    expect(map.default_route_action.weighted_backend_services.map((w: any) => w.weight)).toEqual([80, 20]);
    expect(Object.keys(s.resources('google_compute_backend_service'))).toHaveLength(2);
  });

  describe('without Cloud Armor (cloudArmor: false)', () => {
    /** The synthesized JSON with the security policy and every reference to it taken out. */
    function withoutArmor(json: any): any {
      const out = structuredClone(json);
      delete out.resource.google_compute_security_policy;
      for (const backend of Object.values<any>(out.resource.google_compute_backend_service ?? {})) delete backend.security_policy;
      return out;
    }

    test.each(BACKENDS)('with %s: no security policy, no security_policy on the backend service, everything else the same as the default', (_name, make) => {
      const armored = collectorWith([make()]);
      const bare = collectorWith([make()], { cloudArmor: false });
      expect(bare.resources('google_compute_security_policy')).toEqual({});
      const services = Object.values<any>(bare.resources('google_compute_backend_service'));
      expect(services.length).toBeGreaterThan(0);
      for (const service of services) expect(service).not.toHaveProperty('security_policy');
      expect(bare.text).not.toContain('google_compute_security_policy');
      // The default has the policy (so the comparison below is not between two policy-less stacks).
      expect(Object.keys(armored.resources('google_compute_security_policy'))).toHaveLength(1);
      expect(bare.json).toEqual(withoutArmor(armored.json));
    });

    test('snapshot (locks Terraform addresses)', () => {
      expect(collectorWith([CollectorBackend.cloudRun({ regions: ['us-central1', 'asia-southeast1'], minInstances: 1, maxInstances: 50 })], { cloudArmor: false }).text).toMatchSnapshot();
    });

    test('cloudArmor: true is the default (the same stack as without the prop)', () => {
      const backends = () => [CollectorBackend.cloudRun({ regions: ['us-central1'] }), CollectorBackend.instanceGroups({ regions: ['europe-west1'] })];
      expect(collectorWith(backends(), { cloudArmor: true }).json).toEqual(collectorWith(backends()).json);
    });

    test('several backends: none of their backend services has a policy; the public securityPolicy is undefined', () => {
      let collector: GlobalCollector | undefined;
      const s = synth((scope) => {
        collector = new GlobalCollector(scope, 'collector', {
          domains: ['c.example.com'], cloudArmor: false, ...topics(scope),
          backends: [CollectorBackend.cloudRun({ regions: ['us-central1'], weight: 80 }), CollectorBackend.instanceGroups({ regions: ['europe-west1'], weight: 20 })],
        });
      });
      expect(collector!.securityPolicy).toBeUndefined();
      const services = Object.values<any>(s.resources('google_compute_backend_service'));
      expect(services).toHaveLength(2);
      for (const service of services) expect(service.security_policy).toBeUndefined();
    });

    test('in a ClickstreamPipeline: no Cloud Armor chart on the dashboard (there is no policy to chart), the rest of the monitoring stays', () => {
      const build = (cloudArmor?: boolean) => synth((scope) => {
        new GoogleBetaProvider(scope, 'google-beta', { project: 'acme-analytics', region: 'europe-west1' });
        new ClickstreamPipeline(scope, 'clickstream', {
          region: 'europe-west1', projectId: 'acme-analytics',
          collector: { domains: ['c.example.com'], backends: [CollectorBackend.cloudRun({ regions: ['europe-west1'] })], cloudArmor },
        });
      });
      const dashboard = (s: Synthesized) => JSON.parse(s.only('google_monitoring_dashboard').dashboard_json);
      const armorChart = (d: any) => JSON.stringify(d).includes('networksecurity.googleapis.com/https/request_count');
      const bare = build(false);
      expect(bare.resources('google_compute_security_policy')).toEqual({});
      expect(armorChart(dashboard(bare))).toBe(false);
      expect(armorChart(dashboard(build()))).toBe(true);
      expect(JSON.stringify(dashboard(bare))).toContain('loadbalancing.googleapis.com/https/request_count');
      expect(Object.keys(bare.resources('google_monitoring_alert_policy'))).toHaveLength(Object.keys(build().resources('google_monitoring_alert_policy')).length);
    });
  });

  test('static content routes on the collector URL map', () => {
    const s = synth((scope) => {
      const collector = new GlobalCollector(scope, 'collector', { domains: ['c.example.com'], backends: [CollectorBackend.cloudRun({ regions: ['us-central1'] })], ...topics(scope) });
      const bucket = new ComputeBackendBucket(scope, 'tracker', { name: 'tracker', bucketName: 'tracker-bucket' });
      collector.addBackendBucketRoute('/t/', bucket);
      expect(() => collector.addBackendBucketRoute('/t/', bucket)).toThrow("GlobalCollector: prop 'pathPrefix' '/t/' is routed already");
      expect(() => collector.addBackendBucketRoute('/r/', bucket)).toThrow("GlobalCollector: prop 'pathPrefix' '/r/' would shadow the collector path '/r/'");
      expect(() => collector.addBackendBucketRoute('t', bucket)).toThrow(/must look like '\/t\/'/);
    });
    const map = Object.values(s.resources('google_compute_url_map')).find((m) => m.host_rule);
    expect(map.path_matcher[0].path_rule).toEqual([{ paths: ['/t/*'], service: '${google_compute_backend_bucket.tracker.id}' }]);
  });

  describe('APIs a pipeline enables for each backend kind', () => {
    const apisFor = (backend: CollectorBackend): string[] => requiredApis({ region: 'us-central1', collector: { domains: ['c.example.com'], backends: [backend] } });
    test.each<[string, () => CollectorBackend, string[]]>([
      ['instance groups', () => CollectorBackend.instanceGroups({ regions: ['us-central1'] }), ['compute.googleapis.com']],
      ['gke (Workload Identity mints tokens through IAM Credentials)', () => CollectorBackend.gke({ regions: ['us-central1'] }), ['container.googleapis.com', 'iamcredentials.googleapis.com']],
      ['cloud run', () => CollectorBackend.cloudRun({ regions: ['us-central1'] }), ['run.googleapis.com']],
      ['cloud functions (built by Cloud Build)', () => CollectorBackend.cloudFunctions({ regions: ['us-central1'] }), ['cloudfunctions.googleapis.com', 'run.googleapis.com', 'cloudbuild.googleapis.com', 'artifactregistry.googleapis.com']],
      ['app engine (versions are built by Cloud Build)', () => CollectorBackend.appEngine({ region: 'us-central1', createApplication: false }), ['appengine.googleapis.com', 'cloudbuild.googleapis.com', 'artifactregistry.googleapis.com']],
    ])('%s', (_name, make, expected) => {
      expect(apisFor(make())).toEqual(expect.arrayContaining(['compute.googleapis.com', 'iam.googleapis.com', 'storage.googleapis.com', ...expected]));
    });
  });

  describe('prop validation names the prop', () => {
    const cases: Array<[string, () => unknown, string]> = [
      ['domains', () => collectorWith([CollectorBackend.cloudRun({ regions: ['us-central1'] })], { domains: ['https://c.example.com'] }), "GlobalCollector: prop 'domains' must be a lower-case DNS name such as 'c.example.com' (no scheme, port or path), got 'https://c.example.com'"],
      ['no backend', () => collectorWith([]), "GlobalCollector: prop 'backends' must name at least one backend"],
      ['region', () => CollectorBackend.cloudRun({ regions: ['us-central'] }), "CollectorBackend.cloudRun: prop 'regions' must be a Google Cloud region such as 'us-central1' or 'europe-west1', got 'us-central'"],
      ['replica bounds', () => CollectorBackend.instanceGroups({ regions: ['us-central1'], minReplicas: 5, maxReplicas: 2 }), "CollectorBackend.instanceGroups: prop 'minReplicas' (5) must not exceed 'maxReplicas' (2)"],
      ['gke zones', () => CollectorBackend.gke({ regions: ['us-central1'], zones: { 'us-central1': ['europe-west1-b'] } }), "CollectorBackend.gke: prop 'zones' lists zone 'europe-west1-b' under region 'us-central1'"],
      ['gke unknown region', () => CollectorBackend.gke({ regions: ['europe-west99'], newRegions: ['europe-west99'] }), "CollectorBackend.gke: prop 'zones' must list the zones of region 'europe-west99' (not in Waymark's zone table)"],
      ['gke pods per zone', () => CollectorBackend.gke({ regions: ['us-central1'], minReplicas: 2, zones: { 'us-central1': ['us-central1-a', 'us-central1-b', 'us-central1-c'] } }), "CollectorBackend.gke: prop 'minReplicas' (2) must be at least the number of zones of region 'us-central1' (3)"],
      ['name prefix', () => collectorWith([CollectorBackend.cloudRun({ regions: ['us-central1'] })], { namePrefix: 'Waymark_Collector' }), "GlobalCollector: prop 'namePrefix' must be 1-63 characters: lower-case letters, digits and hyphens, starting with a letter and not ending with a hyphen; got 'Waymark_Collector'"],
      // Throttle, allow and deny lists are rules of the Cloud Armor policy: without one they would be silently ignored.
      ['rate limit without Cloud Armor', () => collectorWith([CollectorBackend.cloudRun({ regions: ['us-central1'] })], { cloudArmor: false, rateLimit: { requests: 100 } }), "GlobalCollector: prop 'rateLimit' is a Cloud Armor rule, but 'cloudArmor' is false (no security policy): remove one of them"],
      ['allowed ranges without Cloud Armor', () => collectorWith([CollectorBackend.cloudRun({ regions: ['us-central1'] })], { cloudArmor: false, allowedIpRanges: ['203.0.113.0/24'] }), "GlobalCollector: prop 'allowedIpRanges' is a Cloud Armor rule, but 'cloudArmor' is false"],
      ['denied ranges without Cloud Armor', () => collectorWith([CollectorBackend.cloudRun({ regions: ['us-central1'] })], { cloudArmor: false, deniedIpRanges: ['198.51.100.0/24'] }), "GlobalCollector: prop 'deniedIpRanges' is a Cloud Armor rule, but 'cloudArmor' is false"],
      ['cloudArmor not a boolean', () => collectorWith([CollectorBackend.cloudRun({ regions: ['us-central1'] })], { cloudArmor: 'false' as any }), "GlobalCollector: prop 'cloudArmor' must be true or false, got \"false\""],
      ['rate interval', () => collectorWith([CollectorBackend.cloudRun({ regions: ['us-central1'] })], { rateLimit: { intervalSeconds: 45 } }), "GlobalCollector: prop 'rateLimit.intervalSeconds' must be one of Cloud Armor's intervals"],
      ['custom path', () => collectorWith([CollectorBackend.cloudRun({ regions: ['us-central1'] })], { customPaths: { '/acme': '/i' } }), "GlobalCollector: prop 'customPaths' key '/acme' must be a two-segment path such as '/acme/events'"],
      ['labels', () => collectorWith([CollectorBackend.cloudRun({ regions: ['us-central1'] })], { labels: { Team: 'x' } }), "GlobalCollector: prop 'labels' has label key 'Team'"],
      ['cloud run image', () => CollectorBackend.cloudRun({ regions: ['us-central1'], nodeImage: 'mirror.gcr.io/library/node:24' }), "CollectorBackend.cloudRun: prop 'nodeImage' mirror.gcr.io is a pull-through cache Cloud Run does not deploy from"],
      ['collector setting template', () => collectorWith([CollectorBackend.cloudRun({ regions: ['us-central1'] })], { collectorSettings: { WAYMARK_X: 'a ${HOME} b' } }), "GlobalCollector: prop 'collectorSettings' WAYMARK_X holds '${', which Terraform would read as a template"],
      ['collector setting name', () => collectorWith([CollectorBackend.cloudRun({ regions: ['us-central1'] })], { collectorSettings: { 'waymark-x': '1' } }), "GlobalCollector: prop 'collectorSettings' key 'waymark-x' must be an environment variable name"],
      // A fresh project has no App Engine application: no silent default, the error says what each value does.
      ['app engine application', () => CollectorBackend.appEngine({ region: 'us-central1' } as any), "CollectorBackend.appEngine: prop 'createApplication' is required: true creates the project's App Engine application in 'region' (a fresh project has none"],
      ['app engine class', () => CollectorBackend.appEngine({ region: 'us-central1', createApplication: false, instanceClass: 'B2' }), "CollectorBackend.appEngine: prop 'instanceClass' must be an automatic-scaling instance class (F1, F2, F4, F4_1G), got 'B2'"],
    ];
    test('collectorSettings may hold escaped templates ($${, %%{), which reach the collector as ${ and %{', () => {
      const s = collectorWith([CollectorBackend.cloudFunctions({ regions: ['us-central1'] })], { collectorSettings: { WAYMARK_X: 'a $${HOME} %%{b}' } });
      expect(s.only('google_cloudfunctions2_function').service_config.environment_variables.WAYMARK_X).toBe('a $${HOME} %%{b}');
    });

    test.each(cases)('%s', (_name, make, message) => {
      expect(make).toThrow(message);
    });
  });
});
