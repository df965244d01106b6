/**
 * `npx tsx scripts/costs.ts [--json]`: the monthly cost model of docs/costs.md, printed as its table, so the numbers
 * are reproducible and change in one place when a price or a measurement does.
 *
 * Every price is a list price (USD, tier-1 regions such as us-central1, before discounts and taxes) with the page it
 * comes from; every CPU figure is a measurement recorded in docs/BENCHMARKS.md (test/scripts/costs.test.ts checks
 * that the model uses exactly those). A month is 30 days.
 */

export const MONTH_SECONDS = 30 * 86400;
const GIB = 1024 ** 3;
const TIB = 1024 ** 4;

/** Prices, with their source and the date they were read (R) or taken from the page as last known (K). */
export const PRICES = {
  // https://cloud.google.com/pubsub/pricing (R 2026-12-02): $40/TiB of publish and delivery, first 10 GiB free,
  // at least 1000 bytes per publish/push/pull request.
  pubsubPerTiB: 40,
  pubsubFreeGiB: 10,
  pubsubMinBytesPerRequest: 1000,
  // Export subscriptions (BigQuery and Cloud Storage subscriptions) are billed per TiB delivered instead of the
  // delivery SKU (https://cloud.google.com/pubsub/pricing, K).
  exportSubscriptionPerTiB: 50,
  // https://cloud.google.com/run/pricing (R 2026-12-02), tier 1. Request-based billing: CPU and memory while requests
  // are in hand (rounded up to 100 ms), plus requests; free 180,000 vCPU-s, 360,000 GiB-s, 2 M requests per month.
  runRequestCpuPerVcpuSecond: 0.000024,
  runRequestMemPerGiBSecond: 0.0000025,
  runPerMillionRequests: 0.4,
  runRequestFree: { vcpuSeconds: 180000, gibSeconds: 360000, requests: 2e6 },
  // Instance-based billing ("CPU always allocated"): the instance's whole life, no request fee; free 240,000 vCPU-s,
  // 450,000 GiB-s per month.
  runInstanceCpuPerVcpuSecond: 0.000018,
  runInstanceMemPerGiBSecond: 0.000002,
  runInstanceFree: { vcpuSeconds: 240000, gibSeconds: 450000 },
  // https://cloud.google.com/dataflow/pricing (K): streaming worker vCPU and memory per hour, Streaming Engine per GiB
  // processed (data-processed billing).
  dataflowStreamingVcpuHour: 0.069,
  dataflowStreamingGiBHour: 0.003557,
  dataflowStreamingEnginePerGiB: 0.018,
  // https://cloud.google.com/bigquery/pricing (K): active logical storage per GiB-month (first 10 GiB free); Storage
  // Write API ingestion (the Dataflow template) per GiB beyond 2 TiB free per month.
  bigqueryStoragePerGiBMonth: 0.02,
  bigqueryStorageFreeGiB: 10,
  bigqueryWriteApiPerGiB: 0.025,
  bigqueryWriteApiFreeTiB: 2,
  // https://cloud.google.com/vpc/network-pricing#lb (K): global external Application Load Balancer: forwarding rule per
  // hour (first 5), data processed per GiB.
  lbForwardingRuleHour: 0.025,
  lbPerGiB: 0.008,
  // https://cloud.google.com/armor/pricing (K), Standard: per policy and rule per month, per million requests. Looked
  // for again on 2026-12-02: the page's Standard figures could not be read; Google's Cloud Armor Enterprise overview
  // (https://cloud.google.com/armor/docs/armor-enterprise-overview) confirms only that Standard bills per policy, per
  // rule and per request.
  armorPolicyMonth: 5,
  armorRuleMonth: 1,
  armorPerMillionRequests: 0.75,
  // https://cloud.google.com/cdn/pricing (K): cache lookups per 10,000 requests.
  cdnLookupPer10k: 0.0075,
  // https://cloud.google.com/stackdriver/pricing (K): log ingestion per GiB beyond 50 GiB per project.
  loggingPerGiB: 0.5,
  loggingFreeGiB: 50,
  // https://cloud.google.com/storage/pricing (K): Standard regional per GiB-month.
  storagePerGiBMonth: 0.02,
  // https://cloud.google.com/compute/vm-instance-pricing (K): e2-small (2 shared vCPU, 2 GiB) per hour.
  e2SmallHour: 0.016751,
  // https://cloud.google.com/kubernetes-engine/pricing (K): Autopilot cluster fee per hour (one cluster's fee is covered
  // by the $74.40 monthly free tier), pod vCPU and GiB per hour.
  gkeClusterHour: 0.1,
  gkeFreeCreditMonth: 74.4,
  gkePodVcpuHour: 0.0445,
  gkePodGiBHour: 0.0049225,
  // https://cloud.google.com/appengine/pricing (K): F1 instance hour, 28 instance hours a day free.
  appEngineF1Hour: 0.05,
  appEngineFreeHoursPerDay: 28,
} as const;

/**
 * Measurements recorded in docs/BENCHMARKS.md: CPU per event of the collector (server CPU per GET) and of the
 * enricher service (per push through HTTP, OIDC on, publish included), and the sizes of the benchmark events (the
 * CollectorPayload message; the enriched row in the BigQuery subscription form), and the UDF's steady-state rate in
 * Nashorn 15.4 per CPU-second (`npm run bench:enrich`), which decides when Dataflow needs a second worker.
 */
export const MEASURED = {
  collectorCpuUsPerEvent: 26.8,
  enricherServiceCpuUsPerEvent: 109.5,
  nashornEventsPerSecondPerCore: 20641,
  rawMessageBytes: 1478,
  enrichedRowBytes: 1992,
} as const;

/** The shape of {@link MEASURED}, for what-if runs with other figures. */
export type Measurements = { readonly [K in keyof typeof MEASURED]: number };

/** Assumptions that are not prices or measurements (each is a knob in docs/costs.md). */
export const ASSUMPTIONS = {
  /** Time a collector request is in hand (publish acknowledged before the answer): drives request-based billing. */
  collectorRequestSeconds: 0.01,
  /** Time an enricher push is in hand (enrich + publish acknowledged). */
  enricherRequestSeconds: 0.015,
  /** Memory of a serverless instance (GiB). */
  instanceGiB: 0.5,
  /** CPU utilisation an autoscaler runs instances at. */
  targetUtilisation: 0.6,
  /** Bytes of an HTTP request + answer through the load balancer per event (GET with headers, GIF answer). */
  httpBytesPerEvent: 1500,
  /** Bytes of one load-balancer log entry (the pixel topology's event). */
  lbLogEntryBytes: 1800,
  /** Months of events kept in BigQuery for the storage line (the first month). */
  storageMonths: 1,
} as const;

export type Topology = 'cloud-run' | 'cloud-functions' | 'app-engine' | 'instance-groups' | 'gke' | 'cdn-pixel';
export type EnrichmentPath = 'serverless' | 'dataflow';
export const TOPOLOGIES: readonly Topology[] = ['cloud-run', 'cloud-functions', 'app-engine', 'instance-groups', 'gke', 'cdn-pixel'];
export const PATHS: readonly EnrichmentPath[] = ['serverless', 'dataflow'];
export const RATES: readonly number[] = [10, 100, 1000];

/**
 * Choices of the deployment that change what it costs, beyond topology and path: the props they stand for.
 */
export interface Deployment {
  /**
   * GlobalCollector's `cloudArmor`: a Cloud Armor security policy (per-IP throttle) on every backend service, which
   * bills per policy, per rule and per request evaluated. `false`: no policy, no Cloud Armor line. The pixel topology
   * has no policy either way. @default true
   */
  readonly cloudArmor?: boolean;
}

export interface Line {
  readonly item: string;
  readonly usd: number;
}

const positive = (x: number): number => Math.max(0, x);

/** Pub/Sub throughput cost of `bytes` per month (one SKU, free tier applied by the caller once). */
function tib(bytes: number): number {
  return bytes / TIB;
}

/** Cloud Run request-based: busy fraction from Poisson arrivals (P(at least one request in hand)). */
export function cloudRunRequestBased(rate: number, requestSeconds: number, cpuUsPerEvent: number): { usd: number; vcpuSeconds: number; requests: number } {
  const events = rate * MONTH_SECONDS;
  const busy = 1 - Math.exp(-rate * requestSeconds);
  // Billable time: the time at least one request is in hand, or the CPU the events need when that is more.
  const vcpuSeconds = Math.max(busy * MONTH_SECONDS, (events * cpuUsPerEvent) / 1e6 / ASSUMPTIONS.targetUtilisation);
  const f = PRICES.runRequestFree;
  const usd = positive(vcpuSeconds - f.vcpuSeconds) * PRICES.runRequestCpuPerVcpuSecond
    + positive(vcpuSeconds * ASSUMPTIONS.instanceGiB - f.gibSeconds) * PRICES.runRequestMemPerGiBSecond
    + positive(events - f.requests) / 1e6 * PRICES.runPerMillionRequests;
  return { usd, vcpuSeconds, requests: events };
}

/** Cloud Run instance-based: instances alive all month while traffic flows (no request fee). */
export function cloudRunInstanceBased(rate: number, cpuUsPerEvent: number): { usd: number; instances: number } {
  if (rate <= 0) return { usd: 0, instances: 0 };
  const instances = Math.max(1, Math.ceil((rate * cpuUsPerEvent) / 1e6 / ASSUMPTIONS.targetUtilisation));
  const vcpuSeconds = instances * MONTH_SECONDS;
  const f = PRICES.runInstanceFree;
  const usd = positive(vcpuSeconds - f.vcpuSeconds) * PRICES.runInstanceCpuPerVcpuSecond + positive(vcpuSeconds * ASSUMPTIONS.instanceGiB - f.gibSeconds) * PRICES.runInstanceMemPerGiBSecond;
  return { usd, instances };
}

/** Whether a deployment of `topology` has a Cloud Armor policy. */
export function hasCloudArmor(topology: Topology, d: Deployment = {}): boolean {
  return topology !== 'cdn-pixel' && d.cloudArmor !== false;
}

/** The collector's lines for one topology at `rate` events/s. */
export function collectorLines(topology: Topology, rate: number, m: Measurements = MEASURED, d: Deployment = {}): Line[] {
  const events = rate * MONTH_SECONDS;
  const lines: Line[] = [];
  const lbRule = PRICES.lbForwardingRuleHour * 24 * 30;
  lines.push({ item: 'load balancer (forwarding rule + data)', usd: lbRule + (events * ASSUMPTIONS.httpBytesPerEvent / GIB) * PRICES.lbPerGiB });
  if (topology === 'cdn-pixel') {
    lines.push({ item: 'Cloud CDN lookups', usd: events / 1e4 * PRICES.cdnLookupPer10k });
    lines.push({ item: 'Cloud Logging (LB log entries)', usd: positive(events * ASSUMPTIONS.lbLogEntryBytes / GIB - PRICES.loggingFreeGiB) * PRICES.loggingPerGiB });
    return lines;
  }
  // The policy holds two rules: the per-IP throttle and the default rule.
  if (hasCloudArmor(topology, d)) lines.push({ item: 'Cloud Armor', usd: PRICES.armorPolicyMonth + 2 * PRICES.armorRuleMonth + events / 1e6 * PRICES.armorPerMillionRequests });
  const cores = (rate * m.collectorCpuUsPerEvent) / 1e6 / ASSUMPTIONS.targetUtilisation;
  switch (topology) {
    case 'cloud-run':
    case 'cloud-functions': {
      const req = cloudRunRequestBased(rate, ASSUMPTIONS.collectorRequestSeconds, m.collectorCpuUsPerEvent);
      const inst = cloudRunInstanceBased(rate, m.collectorCpuUsPerEvent);
      lines.push(req.usd <= inst.usd
        ? { item: `${topology === 'cloud-run' ? 'Cloud Run' : 'Cloud Functions'} collector (request-based)`, usd: req.usd }
        : { item: `${topology === 'cloud-run' ? 'Cloud Run' : 'Cloud Functions'} collector (instance-based, ${inst.instances})`, usd: inst.usd });
      break;
    }
    case 'app-engine': {
      const instances = Math.max(1, Math.ceil(cores / 0.6));
      lines.push({ item: `App Engine F1 × ${instances}`, usd: positive(instances * 24 - PRICES.appEngineFreeHoursPerDay) * 30 * PRICES.appEngineF1Hour });
      break;
    }
    case 'instance-groups': {
      const vms = Math.max(1, Math.ceil(cores / 1));
      lines.push({ item: `e2-small × ${vms}`, usd: vms * PRICES.e2SmallHour * 24 * 30 });
      break;
    }
    case 'gke': {
      const pods = Math.max(3, Math.ceil(cores / 0.25));
      const pod = 0.25 * PRICES.gkePodVcpuHour + 0.5 * PRICES.gkePodGiBHour;
      lines.push({ item: `GKE Autopilot: cluster fee (after the free credit) + ${pods} pods of 0.25 vCPU`, usd: positive(PRICES.gkeClusterHour * 24 * 30 - PRICES.gkeFreeCreditMonth) + pods * pod * 24 * 30 });
      break;
    }
  }
  return lines;
}

/** The data side's lines (Pub/Sub, enrichment, BigQuery, archive) at `rate` events/s for one path. */
export function dataLines(path: EnrichmentPath, rate: number, m: Measurements = MEASURED): Line[] {
  const events = rate * MONTH_SECONDS;
  const raw = events * Math.max(m.rawMessageBytes, 0);
  const rows = events * m.enrichedRowBytes;
  const lines: Line[] = [];
  // Publishing is batched (the collector and the enricher send many messages per request); a push delivers one
  // message per request (at least 1000 bytes each).
  const pushBytes = events * Math.max(m.rawMessageBytes, PRICES.pubsubMinBytesPerRequest);
  const throughput = raw /* collector publish */ + (path === 'serverless' ? pushBytes + rows /* enricher publish */ : raw /* Dataflow pull */);
  lines.push({ item: 'Pub/Sub throughput', usd: positive(tib(throughput) - PRICES.pubsubFreeGiB / 1024) * PRICES.pubsubPerTiB });
  lines.push({ item: 'raw archive (Cloud Storage subscription + storage)', usd: tib(raw) * PRICES.exportSubscriptionPerTiB + (raw / GIB) * PRICES.storagePerGiBMonth });
  if (path === 'serverless') {
    lines.push({ item: 'BigQuery subscription (events)', usd: tib(rows) * PRICES.exportSubscriptionPerTiB });
    const req = cloudRunRequestBased(rate, ASSUMPTIONS.enricherRequestSeconds, m.enricherServiceCpuUsPerEvent);
    const inst = cloudRunInstanceBased(rate, m.enricherServiceCpuUsPerEvent);
    lines.push(req.usd <= inst.usd
      ? { item: 'Cloud Run enricher (request-based)', usd: req.usd }
      : { item: `Cloud Run enricher (instance-based, ${inst.instances})`, usd: inst.usd });
  } else {
    // A worker runs the UDF in one Nashorn engine under a lock (docs/data-pipeline.md): it enriches what one core of
    // Nashorn does, whatever its machine type; more workers only when the load needs them.
    const workers = Math.max(1, Math.ceil(rate / (m.nashornEventsPerSecondPerCore * ASSUMPTIONS.targetUtilisation)));
    const hours = 24 * 30 * workers;
    lines.push({ item: `Dataflow: ${workers} n2-standard-2 streaming worker(s)`, usd: hours * (2 * PRICES.dataflowStreamingVcpuHour + 8 * PRICES.dataflowStreamingGiBHour) });
    lines.push({ item: 'Dataflow Streaming Engine (data processed)', usd: ((raw + rows) / GIB) * PRICES.dataflowStreamingEnginePerGiB });
    lines.push({ item: 'BigQuery Storage Write API', usd: positive(tib(rows) - PRICES.bigqueryWriteApiFreeTiB) * 1024 * PRICES.bigqueryWriteApiPerGiB });
  }
  lines.push({ item: 'BigQuery storage (one month of events)', usd: positive((rows * ASSUMPTIONS.storageMonths) / GIB - PRICES.bigqueryStorageFreeGiB) * PRICES.bigqueryStoragePerGiBMonth });
  return lines;
}

export interface Estimate {
  readonly topology: Topology;
  readonly path: EnrichmentPath;
  readonly rate: number;
  /** Whether the collector has a Cloud Armor policy (and so a Cloud Armor line). */
  readonly cloudArmor: boolean;
  readonly lines: readonly Line[];
  readonly total: number;
}

export function estimate(topology: Topology, path: EnrichmentPath, rate: number, m: Measurements = MEASURED, d: Deployment = {}): Estimate {
  const lines = [...collectorLines(topology, rate, m, d), ...dataLines(path, rate, m)];
  return { topology, path, rate, cloudArmor: hasCloudArmor(topology, d), lines, total: lines.reduce((n, l) => n + l.usd, 0) };
}

/** The monthly budget of the cost goal (docs/costs.md). */
export const BUDGET_USD = 30;

/**
 * The highest event rate (events/s, in steps of 0.1) at which a deployment costs at most `budget` a month; 0 when even
 * idle costs more. Totals grow with the rate, so a bisection finds it.
 */
export function withinBudget(topology: Topology, path: EnrichmentPath, budget: number = BUDGET_USD, m: Measurements = MEASURED, d: Deployment = {}): number {
  const cost = (rate: number): number => estimate(topology, path, rate, m, d).total;
  if (cost(0) > budget) return 0;
  let lo = 0; // tenths of an event per second, within budget
  let hi = 1;
  while (cost(hi / 10) <= budget) {
    lo = hi;
    hi *= 2;
    if (hi > 1e9) return Infinity;
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (cost(mid / 10) <= budget) lo = mid;
    else hi = mid;
  }
  return lo / 10;
}

/** Every topology × path × rate. */
export function table(m: Measurements = MEASURED, d: Deployment = {}): Estimate[] {
  const out: Estimate[] = [];
  for (const topology of TOPOLOGIES) for (const path of PATHS) for (const rate of RATES) out.push(estimate(topology, path, rate, m, d));
  return out;
}

const usd = (x: number): string => `$${x < 10 ? x.toFixed(2) : Math.round(x).toLocaleString('en-US')}`;

/** The markdown table of docs/costs.md. */
export function markdown(m: Measurements = MEASURED): string {
  const rows = table(m);
  const out = ['| collector | enrichment | 10 events/s | 100 events/s | 1,000 events/s |', '|---|---|---|---|---|'];
  for (const topology of TOPOLOGIES) {
    for (const path of PATHS) {
      const cells = RATES.map((r) => usd(rows.find((e) => e.topology === topology && e.path === path && e.rate === r)!.total));
      out.push(`| ${topology} | ${path} | ${cells.join(' | ')} |`);
    }
  }
  return out.join('\n');
}

/**
 * The all-serverless deployment (Cloud Run collector, serverless enrichment) with and without Cloud Armor: idle,
 * the table's rates, and the rate up to which each stays within the budget.
 */
export function armorMarkdown(m: Measurements = MEASURED, topology: Topology = 'cloud-run', path: EnrichmentPath = 'serverless'): string {
  const out = [
    `| collector | enrichment | Cloud Armor | idle | ${RATES.map((r) => `${r.toLocaleString('en-US')} events/s`).join(' | ')} | within $${BUDGET_USD} a month up to |`,
    `|---|---|---|---|${RATES.map(() => '---|').join('')}---|`,
  ];
  for (const [label, d] of [['on (default)', { cloudArmor: true }], ['off (`cloudArmor: false`)', { cloudArmor: false }]] as const) {
    const cells = [0, ...RATES].map((r) => usd(estimate(topology, path, r, m, d).total));
    out.push(`| ${topology} | ${path} | ${label} | ${cells.join(' | ')} | ${withinBudget(topology, path, BUDGET_USD, m, d).toFixed(1)} events/s |`);
  }
  return out.join('\n');
}

/** The line items of one estimate, as markdown. */
export function breakdown(e: Estimate): string {
  return [`**${e.topology} + ${e.path}, ${e.rate} events/s: ${usd(e.total)} a month**`, '', '| item | USD/month |', '|---|---|', ...e.lines.map((l) => `| ${l.item} | ${usd(l.usd)} |`)].join('\n');
}

if (require.main === module) {
  if (process.argv.includes('--json')) {
    process.stdout.write(JSON.stringify({ prices: PRICES, measured: MEASURED, assumptions: ASSUMPTIONS, estimates: table(), estimatesWithoutCloudArmor: table(MEASURED, { cloudArmor: false }) }, null, 2) + '\n');
  } else {
    process.stdout.write(markdown() + '\n\n' + armorMarkdown() + '\n\n' + breakdown(estimate('cloud-run', 'serverless', 100)) + '\n\n' + breakdown(estimate('cloud-run', 'dataflow', 100)) + '\n');
  }
}
