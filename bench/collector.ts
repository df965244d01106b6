/**
 * `npm run bench:collector`: throughput of the shipped collector bundle against a bare node:http server answering
 * 204, same load tool, same settings, same run, same machine.
 *
 * The load tool is autocannon (dev dependency), in a process of its own, with keep-alive connections (100 by
 * default). Each server runs in its own process. When `taskset` is available and the machine has two or more CPUs,
 * the servers are pinned to CPU 0 and the load generator to CPU 1, so they do not compete for a core (other processes
 * still can: the machine may be shared; `load_average` is reported). Scenarios:
 *   bare      GET with a tracker-like query → bare node:http server, 204
 *   get       the same GET → collector (memory sink), 1x1 GIF + cookie + payload
 *   post10    POST of a 10-event tp2 batch → collector (memory sink)
 *   pubsub_*  the same GET and POST with the Pub/Sub emulator sink (when gcloud is installed; the emulator's JVM is
 *             not pinned); the collector's own delivery count at shutdown shows that what was accepted was published.
 * Progress goes to stderr; the last stdout line is the JSON result.
 *
 * The servers stay up and the scenarios alternate over BENCH_ROUNDS rounds (bare and collector back to back, order
 * alternating). `get_rps`/`bare_rps` come from the round whose paired ratio is the median (lower median for an even
 * count), so `ratio_get` = get_rps / bare_rps is a paired measurement. Next to it, each server's CPU time per request
 * (measured over the timed run only) and `ratio_cpu_get` = bare CPU per request / collector CPU per request: the
 * same comparison in a unit that other load on the machine distorts less than req/s. `server_cpu_share` says how
 * busy each server's core was (1 = saturated: the load generator was not the limit).
 *
 * Settings (environment): BENCH_SECONDS (measured seconds per run, default 5), BENCH_WARMUP_SECONDS (1),
 * BENCH_ROUNDS (5), BENCH_CONNECTIONS (100), BENCH_PUBSUB=0 to skip the emulator scenarios, BENCH_PIN=0 not to pin.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { writeBundle } from '../lib/private/bundler';
import { collectorBundle } from '../lib/private/runtime-bundles';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const WARMUP = Number(process.env.BENCH_WARMUP_SECONDS ?? 1);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 5));
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 100);
const WITH_PUBSUB = process.env.BENCH_PUBSUB !== '0';
const MAX_REQUESTS = 5_000_000; // hard bound per run
const AUTOCANNON = require.resolve('autocannon');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const AUTOCANNON_VERSION: string = require('autocannon/package.json').version;

/** CPU lists for `taskset -c` (servers, load generator), or null when pinning is off or impossible. */
const PINNING: { readonly servers: string; readonly load: string } | null =
  process.env.BENCH_PIN !== '0' && cpus().length >= 2 && spawnSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' }).status === 0
    ? { servers: '0', load: '1' }
    : null;
/** The command line of a process pinned to `cpusList` (unchanged without pinning). */
const pinned = (cpusList: string | undefined, args: string[]): [string, string[]] =>
  PINNING === null || cpusList === undefined ? [process.execPath, args] : ['taskset', ['-c', cpusList, process.execPath, ...args]];

const log = (msg: string): void => void process.stderr.write(`${msg}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const QUERY =
  'e=pv&url=https%3A%2F%2Fwww.example.com%2Fproducts%2Fwidget%3Futm_source%3Dnews&page=Widget%20%E2%80%93%20Example&refr=https%3A%2F%2Fwww.google.com%2F' +
  '&tv=js-3.0.0&tna=sp&aid=shop&p=web&tz=Europe%2FBerlin&lang=de-DE&cs=UTF-8&res=1920x1080&cd=24&cookie=1&vp=1280x720&ds=1263x4000' +
  '&duid=6b5e4a3c-2d1e-4f00-9a8b-7c6d5e4f3a2b&vid=3&sid=0f1e2d3c-4b5a-4968-8776-655443322110&stm=1767225600000&dtm=1767225599000';
const BATCH = JSON.stringify({
  schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4',
  data: Array.from({ length: 10 }, (_, i) => Object.fromEntries(`${QUERY}&eid=00000000-0000-4000-8000-00000000000${i}`.split('&').map((kv) => kv.split('=').map(decodeURIComponent)))),
});

/** The load generator: autocannon in a node process of its own; prints one JSON line. */
const LOADGEN = `
const autocannon = require(process.env.BENCH_AUTOCANNON);
const [url, method, seconds, connections, max] = JSON.parse(process.argv[1]);
const body = method === 'POST' ? process.env.BENCH_BODY : undefined;
// As browsers send them: a pixel GET (an <img>) has no Origin; a tracker POST (fetch) does.
const headers = { 'user-agent': 'Mozilla/5.0 (bench)', referer: 'https://www.example.com/products/widget', 'x-forwarded-for': '203.0.113.9, 130.211.0.1' };
if (body) { headers.origin = 'https://www.example.com'; headers['content-type'] = 'application/json; charset=utf-8'; }
autocannon({ url, method, headers, body, connections, pipelining: 1, duration: seconds, maxOverallRequests: max, timeout: 30 }, (err, r) => {
  if (err) { console.error(err); process.exit(1); }
  const statuses = {};
  for (const [code, v] of Object.entries(r.statusCodeStats || {})) statuses[code] = Number(v.count);
  console.log(JSON.stringify({ ok: r['2xx'], other: r.non2xx, errors: r.errors, timeouts: r.timeouts, statuses, seconds: r.duration, rps: r['2xx'] / r.duration, latencyP50Ms: r.latency.p50, latencyP99Ms: r.latency.p99 }));
});
`;

const BARE = `
const http = require('http');
const s = http.createServer({ keepAliveTimeout: 620000 }, (req, res) => { req.resume(); res.writeHead(204); res.end(); });
s.listen(0, '127.0.0.1', () => console.error(JSON.stringify({ message: 'collector listening', port: s.address().port })));
process.on('SIGTERM', () => process.exit(0));
`;

interface Server {
  readonly port: number;
  readonly child: ChildProcess;
  readonly logs: Record<string, unknown>[];
  stop(): Promise<number | null>;
}

/** Starts a server process and waits for its "collector listening" log line (stderr, JSON). */
async function startServer(args: string[], env: Record<string, string>): Promise<Server> {
  const [file, argv] = pinned(PINNING?.servers, args);
  const child = spawn(file, argv, { env: { PATH: process.env.PATH ?? '', PORT: '0', WAYMARK_HOST: '127.0.0.1', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  const logs: Record<string, unknown>[] = [];
  let buf = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // library warnings
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  for (let i = 0; i < 300; i++) {
    const l = logs.find((x) => x.message === 'collector listening');
    if (l) return { port: l.port as number, child, logs, stop: async () => (child.kill('SIGTERM'), exited) };
    if (child.exitCode !== null) break;
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error(`server did not start: ${JSON.stringify(logs)}`);
}

interface LoadResult {
  readonly ok: number;
  readonly other: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly statuses: Record<string, number>;
  readonly seconds: number;
  readonly rps: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  /** CPU time of the server process per answered request during the timed run (user + system), microseconds. */
  serverCpuUs?: number;
  /** Server CPU time / wall time of the timed run (1 = one core saturated). */
  serverCpuShare?: number;
}

/** CPU ticks (user + system, 1/100 s) used so far by a process. */
function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** One autocannon run (its own process, pinned to the load CPU). */
function autocannon(server: Server, method: 'GET' | 'POST', path: string, seconds: number): LoadResult {
  const [file, argv] = pinned(PINNING?.load, ['-e', LOADGEN, JSON.stringify([`http://127.0.0.1:${server.port}${path}`, method, seconds, CONNECTIONS, MAX_REQUESTS])]);
  const run = spawnSync(file, argv, {
    env: { PATH: process.env.PATH ?? '', BENCH_AUTOCANNON: AUTOCANNON, BENCH_BODY: method === 'POST' ? BATCH : '' },
    encoding: 'utf8',
    timeout: (seconds + 60) * 1000,
  });
  if (run.status !== 0) throw new Error(`load generator failed (${run.status ?? run.signal}): ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').pop()!) as LoadResult;
}

/** Warm-up run (not measured), then the timed run with the server's CPU time around it. */
function load(server: Server, method: 'GET' | 'POST', path: string): LoadResult {
  if (WARMUP > 0) autocannon(server, method, path, WARMUP);
  const pid = server.child.pid!;
  const before = cpuTicks(pid);
  const result = autocannon(server, method, path, SECONDS);
  const cpuSeconds = (cpuTicks(pid) - before) / 100;
  result.serverCpuUs = (cpuSeconds * 1e6) / Math.max(1, result.ok + result.other);
  // The server is idle while autocannon starts and stops: its busy share of the timed run.
  result.serverCpuShare = cpuSeconds / Math.max(0.01, result.seconds);
  return result;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });

function http(method: string, url: string, body?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Starts the Pub/Sub emulator in its own process group; null when gcloud is not installed. */
async function startEmulator(): Promise<{ host: string; stop(): Promise<void> } | null> {
  if (spawnSync('gcloud', ['--version'], { stdio: 'ignore' }).status !== 0) return null;
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const child = spawn('gcloud', ['beta', 'emulators', 'pubsub', 'start', `--host-port=${host}`, '--project=waymark-bench'], { detached: true, stdio: 'ignore' });
  const stop = async (): Promise<void> => {
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      return;
    }
    for (let i = 0; i < 100; i++) {
      try {
        process.kill(-child.pid!, 0);
      } catch {
        return;
      }
      if (i === 50) process.kill(-child.pid!, 'SIGKILL');
      await sleep(100);
    }
  };
  for (let i = 0; i < 600; i++) {
    try {
      if ((await http('GET', `http://${host}/`)) === 200) {
        for (const t of ['bench-raw', 'bench-bad']) await http('PUT', `http://${host}/v1/projects/waymark-bench/topics/${t}`);
        return { host, stop };
      }
    } catch {
      // not up yet
    }
    await sleep(100);
  }
  await stop();
  throw new Error('the Pub/Sub emulator did not start');
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'waymark-bench-collector-'));
  const bundle = writeBundle(collectorBundle(), dir);
  const bareFile = join(dir, 'bare.js');
  writeFileSync(bareFile, BARE);
  const path = `/i?${QUERY}&eid=9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d`;
  const TP2 = '/com.snowplowanalytics.snowplow/tp2';
  const result: Record<string, unknown> = { benchmark: 'collector' };
  try {
    log(
      `bench: autocannon ${AUTOCANNON_VERSION}, ${CONNECTIONS} keep-alive connections, ${WARMUP} s warm-up + ${SECONDS} s per run, ${ROUNDS} rounds, ` +
        `${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ${PINNING ? `servers on CPU ${PINNING.servers}, load generator on CPU ${PINNING.load}` : 'not pinned'}, load average ${loadavg()[0].toFixed(2)}`,
    );
    const loadBefore = loadavg()[0];
    const bare = await startServer([bareFile], {});
    const memory = await startServer([bundle], { WAYMARK_SINK: 'memory' });
    const runs: Record<'bare' | 'get' | 'post10', LoadResult[]> = { bare: [], get: [], post10: [] };
    const describe = (r: LoadResult): string =>
      `server ${r.serverCpuUs!.toFixed(1)} µs CPU/request, core ${Math.round(r.serverCpuShare! * 100)} % busy, p99 ${r.latencyP99Ms} ms ${JSON.stringify(r.statuses)}${r.errors + r.timeouts > 0 ? ` errors ${r.errors} timeouts ${r.timeouts}` : ''}`;
    try {
      for (let round = 1; round <= ROUNDS; round++) {
        // Alternate the order so drifting background load does not favour one side.
        const order: ('bare' | 'get')[] = round % 2 === 1 ? ['bare', 'get'] : ['get', 'bare'];
        for (const which of order) {
          const r = which === 'bare' ? load(bare, 'GET', path) : load(memory, 'GET', path);
          runs[which].push(r);
          log(`round ${round}: ${which === 'bare' ? 'bare node:http 204' : 'collector GET (memory sink)'}: ${Math.round(r.rps)} req/s, ${describe(r)}`);
        }
        const p = load(memory, 'POST', TP2);
        runs.post10.push(p);
        log(`round ${round}: collector POST x10 (memory sink): ${Math.round(p.rps * 10)} events/s, ${describe(p)}`);
      }
    } finally {
      await bare.stop();
      await memory.stop();
    }
    const rps = (k: 'bare' | 'get' | 'post10'): number => median(runs[k].map((r) => r.rps));
    const ratios = runs.get.map((r, i) => r.rps / runs.bare[i].rps);
    const cpuRatios = runs.get.map((r, i) => runs.bare[i].serverCpuUs! / r.serverCpuUs!);
    const medianRound = ratios.map((ratio, i) => ({ ratio, i })).sort((a, b) => a.ratio - b.ratio)[Math.floor((ratios.length - 1) / 2)].i;
    const cpu = (k: 'bare' | 'get' | 'post10'): number => Number(median(runs[k].map((r) => r.serverCpuUs!)).toFixed(1));
    const share = (k: 'bare' | 'get' | 'post10'): number => Number(median(runs[k].map((r) => r.serverCpuShare!)).toFixed(2));
    const non2xx = (k: 'bare' | 'get' | 'post10'): number => runs[k].reduce((n, r) => n + r.other + r.errors + r.timeouts, 0);
    const round3 = (x: number): number => Number(x.toFixed(3));
    Object.assign(result, {
      get_rps: Math.round(runs.get[medianRound].rps),
      bare_rps: Math.round(runs.bare[medianRound].rps),
      ratio_get: round3(runs.get[medianRound].rps / runs.bare[medianRound].rps),
      post10_rps: Math.round(rps('post10')),
      post10_events_per_second: Math.round(rps('post10') * 10),
      ratio_get_rounds: ratios.map(round3),
      ratio_cpu_get: round3(median(cpuRatios)),
      ratio_cpu_get_rounds: cpuRatios.map(round3),
      median_get_rps: Math.round(rps('get')),
      median_bare_rps: Math.round(rps('bare')),
      server_cpu_us_per_request: { bare: cpu('bare'), get: cpu('get'), post10: cpu('post10') },
      server_cpu_share: { bare: share('bare'), get: share('get'), post10: share('post10') },
      latency_p99_ms: { bare: median(runs.bare.map((r) => r.latencyP99Ms)), get: median(runs.get.map((r) => r.latencyP99Ms)), post10: median(runs.post10.map((r) => r.latencyP99Ms)) },
      non_2xx: { bare: non2xx('bare'), get: non2xx('get'), post10: non2xx('post10') },
      load_tool: `autocannon ${AUTOCANNON_VERSION}`,
      pinning: PINNING,
      load_average: [Number(loadBefore.toFixed(2)), Number(loadavg()[0].toFixed(2))],
    });

    const emulator = WITH_PUBSUB ? await startEmulator() : null;
    if (emulator === null) {
      log(WITH_PUBSUB ? 'gcloud not installed: Pub/Sub emulator scenarios skipped' : 'BENCH_PUBSUB=0: Pub/Sub emulator scenarios skipped');
    } else {
      try {
        const pubsubEnv = {
          PUBSUB_EMULATOR_HOST: emulator.host,
          WAYMARK_PUBSUB_PROJECT: 'waymark-bench',
          WAYMARK_PUBSUB_GOOD_TOPIC: 'bench-raw',
          WAYMARK_PUBSUB_BAD_TOPIC: 'bench-bad',
          WAYMARK_SHUTDOWN_TIMEOUT_MS: '120000',
        };
        const scenario = async (method: 'GET' | 'POST', p: string): Promise<{ load: LoadResult; stopped: Record<string, unknown> | undefined }> => {
          const s = await startServer([bundle], pubsubEnv);
          const l = load(s, method, p);
          await s.stop();
          return { load: l, stopped: s.logs.find((x) => x.message === 'collector stopped') };
        };
        const g = await scenario('GET', path);
        log(`collector GET (Pub/Sub emulator): ${Math.round(g.load.rps)} req/s ${JSON.stringify(g.load.statuses)}; at shutdown ${JSON.stringify(g.stopped)}`);
        const p = await scenario('POST', TP2);
        log(`collector POST x10 (Pub/Sub emulator): ${Math.round(p.load.rps * 10)} events/s ${JSON.stringify(p.load.statuses)}; at shutdown ${JSON.stringify(p.stopped)}`);
        Object.assign(result, {
          pubsub_get_rps: Math.round(g.load.rps),
          pubsub_post10_events_per_second: Math.round(p.load.rps * 10),
          pubsub_statuses: { get: g.load.statuses, post10: p.load.statuses },
          pubsub_delivered: { get: g.stopped?.delivered ?? null, post10: p.stopped?.delivered ?? null },
          pubsub_undelivered_at_exit: { get: g.stopped?.remaining ?? null, post10: p.stopped?.remaining ?? null },
        });
      } finally {
        await emulator.stop();
      }
    }
    Object.assign(result, { connections: CONNECTIONS, seconds: SECONDS, node: process.version, cpus: cpus().length, date: new Date().toISOString() });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
