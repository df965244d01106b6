/**
 * `npm run bench:collector`: throughput of the shipped collector bundle against two peers under the same load, in
 * the same run, on the same machine: a bare node:http server answering 204, and nginx (Debian nginx-light) as the
 * classic pixel server (one process, a 1x1 GIF from empty_gif with a Set-Cookie of a per-request id, a buffered
 * access log).
 *
 * Load tool: wrk (Debian) when installed, else autocannon (dev dependency); BENCH_LOAD=wrk|autocannon chooses. wrk
 * is the default because it saturates nginx: it is C with one event loop per thread, and with one thread on the load
 * core it drives more requests per second than autocannon (a node process) can, so the nginx figure measures nginx,
 * not the load tool. Keep-alive connections (100 by default). Each server runs in its own process. When `taskset`
 * is available and the machine has two or more CPUs, the servers are pinned to CPU 0 and the load tool to CPU 1
 * (other processes still compete: the machine may be shared; `load_average` is reported). Scenarios:
 *   bare      GET with a tracker-like query → bare node:http server, 204
 *   nginx     the same GET → nginx, 1x1 GIF + Set-Cookie + access log line
 *   get       the same GET → collector (memory sink), 1x1 GIF + cookie + payload
 *   post10    POST of a 10-event tp2 batch → collector (memory sink)
 *   cluster   the GET → collector with WAYMARK_WORKERS=1 and 2 (memory sink), all pinned to CPUs 0-1 with the load
 *             tool on CPU 1 too (a 2-core machine has no spare core): req/s, and CPU per request summed over the
 *             primary and its workers, with the load tool's own CPU reported next to it.
 *   attack    4 clients POSTing 1 MB batches of 100,000 `{}` events (refused: 400) while /health is asked every
 *             10 ms: its p50/p99 latency and the collector's peak RSS.
 *   pubsub_*  the GET and POST with the Pub/Sub emulator sink (when gcloud is installed; the emulator's JVM is not
 *             pinned), with WAYMARK_ACK_MODE buffered (default) and after-publish: req/s and latency of each.
 * Progress goes to stderr; the last stdout line is the JSON result.
 *
 * The servers stay up and bare, nginx and collector alternate over BENCH_ROUNDS rounds. `ratio_get` =
 * get_rps / bare_rps and `ratio_nginx` = get_rps / nginx_rps come from the round whose get/bare ratio is the median
 * (paired measurements). Next to them each server's CPU time per request (over the timed run only), a unit that
 * other load on the machine distorts less than req/s, and `server_cpu_share` (1 = its core was saturated).
 *
 * Settings (environment): BENCH_SECONDS (measured seconds per run, default 5), BENCH_WARMUP_SECONDS (1),
 * BENCH_ROUNDS (5), BENCH_CONNECTIONS (100), BENCH_PUBSUB=0 to skip the emulator scenarios, BENCH_PIN=0 not to pin,
 * BENCH_NGINX=0 to skip nginx, BENCH_LOAD.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { writeBundle } from '../lib/private/bundler';
import { collectorBundle } from '../lib/private/runtime-bundles';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const WARMUP = Number(process.env.BENCH_WARMUP_SECONDS ?? 1);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 5));
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 100);
const WITH_PUBSUB = process.env.BENCH_PUBSUB !== '0';
const WITH_NGINX = process.env.BENCH_NGINX !== '0';
const LOAD_TOOL: 'wrk' | 'autocannon' = (process.env.BENCH_LOAD as 'wrk' | 'autocannon' | undefined) ?? (spawnSync('wrk', ['--version']).error === undefined ? 'wrk' : 'autocannon');
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

/** wrk's script: the same request as the autocannon one; prints one JSON line when done. */
const WRK_SCRIPT = `
wrk.method = os.getenv("BENCH_METHOD")
local body = os.getenv("BENCH_BODY")
if body ~= nil and body ~= "" then
  wrk.body = body
  wrk.headers["Origin"] = "https://www.example.com"
  wrk.headers["Content-Type"] = "application/json; charset=utf-8"
end
wrk.headers["User-Agent"] = "Mozilla/5.0 (bench)"
wrk.headers["Referer"] = "https://www.example.com/products/widget"
wrk.headers["X-Forwarded-For"] = "203.0.113.9, 130.211.0.1"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests":%d,"durationUs":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50Us":%d,"p99Us":%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout, latency:percentile(50), latency:percentile(99)))
end
`;

/** nginx as a pixel server: one process (master_process off), empty_gif, Set-Cookie of a per-request id, buffered log. */
const nginxConfig = (dir: string, port: number): string => `
daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log ${dir}/nginx-access.log combined buffer=64k flush=1s;
  client_body_temp_path ${dir}/nginx-body;
  proxy_temp_path ${dir}/nginx-proxy;
  fastcgi_temp_path ${dir}/nginx-fastcgi;
  uwsgi_temp_path ${dir}/nginx-uwsgi;
  scgi_temp_path ${dir}/nginx-scgi;
  keepalive_timeout 620s;
  keepalive_requests 10000000;
  server {
    listen 127.0.0.1:${port};
    location / {
      empty_gif;
      add_header Set-Cookie "sp=$request_id; Max-Age=31536000; Path=/; Secure; HttpOnly; SameSite=None";
      add_header Cache-Control "no-cache, no-store, must-revalidate";
    }
  }
}
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
  /** The server's processes (a cluster's primary and workers). */
  pids(): number[];
  readonly logs: Record<string, unknown>[];
  stop(): Promise<number | null>;
}

/** Starts a server process and waits for its "collector listening" log line (stderr, JSON). */
async function startServer(args: string[], env: Record<string, string>, command?: [string, string[]]): Promise<Server> {
  const [file, argv] = command ?? pinned(PINNING?.servers, args);
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
    if (l) return { port: l.port as number, child, logs, pids: () => withChildren(child.pid!), stop: async () => (child.kill('SIGTERM'), exited) };
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
  /** The load tool's CPU time / wall time (wrk only). */
  loadCpuShare?: number;
}

/** CPU ticks (user + system, 1/100 s) used so far by processes (gone ones count 0). */
function cpuTicks(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited
    }
  }
  return ticks;
}

/** A process and its children (the taskset wrapper execs, so the pid is the server's; a cluster adds workers). */
function withChildren(pid: number): number[] {
  try {
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    return [pid, ...(kids === '' ? [] : kids.split(/\s+/).map(Number))];
  } catch {
    return [pid];
  }
}

/** Peak resident memory (VmHWM) of processes, bytes. */
function peakRss(pids: number[]): number {
  let bytes = 0;
  for (const pid of pids) {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) bytes += Number(m[1]) * 1024;
    } catch {
      // exited
    }
  }
  return bytes;
}

/**
 * One wrk run pinned to the load CPU. Its own CPU time (all threads) is sampled from /proc every 20 ms while it runs;
 * the last sample is taken as its total (wrk only prints its summary after that).
 */
async function wrk(port: number, method: 'GET' | 'POST', path: string, seconds: number, scriptFile: string): Promise<LoadResult> {
  const args = ['-t1', `-c${Math.max(1, CONNECTIONS)}`, `-d${Math.max(1, Math.round(seconds))}s`, '--timeout', '30s', '-s', scriptFile, `http://127.0.0.1:${port}${path}`];
  const [file, argv] = PINNING === null ? ['wrk', args] : ['taskset', ['-c', PINNING.load, 'wrk', ...args]];
  const child = spawn(file, argv, { env: { PATH: process.env.PATH ?? '', BENCH_METHOD: method, BENCH_BODY: method === 'POST' ? BATCH : '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  let lastTicks = 0;
  const sampler = setInterval(() => {
    const t = cpuTicks([child.pid!]);
    if (t > 0) lastTicks = t;
  }, 20);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  clearInterval(sampler);
  if (code !== 0) throw new Error(`wrk failed (${code}): ${err}`);
  const loadCpuSeconds = lastTicks / 100;
  const w = JSON.parse(out.trim().split('\n').pop()!) as { requests: number; durationUs: number; connect: number; read: number; write: number; status: number; timeout: number; p50Us: number; p99Us: number };
  const secondsRun = w.durationUs / 1e6;
  const ok = w.requests - w.status;
  return { ok, other: w.status, errors: w.connect + w.read + w.write, timeouts: w.timeout, statuses: { '2xx': ok, other: w.status }, seconds: secondsRun, rps: ok / secondsRun, latencyP50Ms: w.p50Us / 1000, latencyP99Ms: w.p99Us / 1000, loadCpuShare: loadCpuSeconds / secondsRun };
}

let wrkScript = '';

/** One run of the load tool (its own process, pinned to the load CPU). */
async function runLoad(server: Server, method: 'GET' | 'POST', path: string, seconds: number): Promise<LoadResult> {
  return LOAD_TOOL === 'wrk' ? wrk(server.port, method, path, seconds, wrkScript) : autocannon(server, method, path, seconds);
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
async function load(server: Server, method: 'GET' | 'POST', path: string): Promise<LoadResult> {
  if (WARMUP > 0) await runLoad(server, method, path, WARMUP);
  const pids = server.pids();
  const before = cpuTicks(pids);
  const result = await runLoad(server, method, path, SECONDS);
  const cpuSeconds = (cpuTicks(pids) - before) / 100;
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

/** Starts nginx (one process, pinned like the collector) on a free port; resolves once it answers. */
async function startNginx(dir: string): Promise<Server> {
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, nginxConfig(dir, port));
  const [file, argv] = PINNING === null ? ['nginx', ['-c', conf, '-p', dir]] : ['taskset', ['-c', PINNING.servers, 'nginx', '-c', conf, '-p', dir]];
  const child = spawn(file, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  for (let i = 0; i < 100; i++) {
    try {
      if ((await http('GET', `http://127.0.0.1:${port}/i`)) === 200) return { port, child, logs: [], pids: () => [child.pid!], stop: async () => (child.kill('SIGQUIT'), exited) };
    } catch {
      // not up yet
    }
    if (child.exitCode !== null) break;
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error(`nginx did not start (apt-get install nginx-light): ${err}`);
}

/**
 * The amplification attack: `clients` loops POSTing a 1 MB body of 100,000 `{}` events (refused with 400 before any
 * record is built) for `seconds`, while /health is asked every 10 ms on a connection of its own.
 */
async function attack(port: number, seconds: number, clients: number): Promise<{ healthP50Ms: number; healthP99Ms: number; healthMaxMs: number; healthChecks: number; attackRequests: number; attackStatuses: Record<string, number> }> {
  const body = `{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[${Array(100_000).fill('{}').join(',')}]}`.padEnd(1024 * 1024, ' ');
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const healthAgent = new Agent({ keepAlive: true, maxSockets: 1 });
  const until = Date.now() + seconds * 1000;
  const statuses: Record<string, number> = {};
  let attackRequests = 0;
  const send = (method: string, path: string, a: Agent, payload?: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method, path, agent: a, headers: payload ? { 'content-type': 'application/json' } : {} }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end(payload);
    });
  const loops = Array.from({ length: clients }, async () => {
    while (Date.now() < until) {
      const st = await send('POST', '/com.snowplowanalytics.snowplow/tp2', agent, body).catch(() => 0);
      statuses[st] = (statuses[st] ?? 0) + 1;
      attackRequests++;
    }
  });
  const latencies: number[] = [];
  const probe = (async () => {
    while (Date.now() < until) {
      const t = process.hrtime.bigint();
      await send('GET', '/health', healthAgent).catch(() => 0);
      latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
      await sleep(10);
    }
  })();
  await Promise.all([...loops, probe]);
  agent.destroy();
  healthAgent.destroy();
  const sorted = [...latencies].sort((x, y) => x - y);
  const q = (f: number): number => Number(sorted[Math.min(sorted.length - 1, Math.floor(f * sorted.length))].toFixed(2));
  return { healthP50Ms: q(0.5), healthP99Ms: q(0.99), healthMaxMs: q(1), healthChecks: latencies.length, attackRequests, attackStatuses: statuses };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'waymark-bench-collector-'));
  const bundle = writeBundle(collectorBundle(), dir);
  const bareFile = join(dir, 'bare.js');
  writeFileSync(bareFile, BARE);
  wrkScript = join(dir, 'bench.lua');
  writeFileSync(wrkScript, WRK_SCRIPT);
  const path = `/i?${QUERY}&eid=9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d`;
  const TP2 = '/com.snowplowanalytics.snowplow/tp2';
  const result: Record<string, unknown> = { benchmark: 'collector' };
  const toolVersion = LOAD_TOOL === 'wrk' ? (spawnSync('wrk', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0].split(' [')[0] || 'wrk') : `autocannon ${AUTOCANNON_VERSION}`;
  try {
    log(
      `bench: ${toolVersion}, ${CONNECTIONS} keep-alive connections, ${WARMUP} s warm-up + ${SECONDS} s per run, ${ROUNDS} rounds, ` +
        `${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ${PINNING ? `servers on CPU ${PINNING.servers}, load tool on CPU ${PINNING.load}` : 'not pinned'}, load average ${loadavg()[0].toFixed(2)}`,
    );
    const loadBefore = loadavg()[0];
    const bare = await startServer([bareFile], {});
    const memory = await startServer([bundle], { WAYMARK_SINK: 'memory', WAYMARK_WORKERS: '1' });
    const nginx = WITH_NGINX ? await startNginx(dir) : null;
    type Kind = 'bare' | 'nginx' | 'get' | 'post10';
    const runs: Record<Kind, LoadResult[]> = { bare: [], nginx: [], get: [], post10: [] };
    const describe = (r: LoadResult): string =>
      `server ${r.serverCpuUs!.toFixed(1)} µs CPU/request, core ${Math.round(r.serverCpuShare! * 100)} % busy${r.loadCpuShare === undefined ? '' : `, load tool ${Math.round(r.loadCpuShare * 100)} %`}, p99 ${r.latencyP99Ms} ms ${JSON.stringify(r.statuses)}${r.errors + r.timeouts > 0 ? ` errors ${r.errors} timeouts ${r.timeouts}` : ''}`;
    const names: Record<Kind, string> = { bare: 'bare node:http 204', nginx: 'nginx pixel', get: 'collector GET (memory sink)', post10: 'collector POST x10' };
    try {
      for (let round = 1; round <= ROUNDS; round++) {
        // Rotate the order so drifting background load does not favour one side.
        const base: ('bare' | 'nginx' | 'get')[] = nginx === null ? ['bare', 'get'] : ['bare', 'nginx', 'get'];
        const order = base.map((_, i) => base[(i + round - 1) % base.length]);
        for (const which of order) {
          const r = await load(which === 'bare' ? bare : which === 'nginx' ? nginx! : memory, 'GET', path);
          runs[which].push(r);
          log(`round ${round}: ${names[which]}: ${Math.round(r.rps)} req/s, ${describe(r)}`);
        }
        const p = await load(memory, 'POST', TP2);
        runs.post10.push(p);
        log(`round ${round}: collector POST x10 (memory sink): ${Math.round(p.rps * 10)} events/s, ${describe(p)}`);
      }
    } finally {
      await bare.stop();
      await memory.stop();
      await nginx?.stop();
    }
    const rps = (k: Kind): number => median(runs[k].map((r) => r.rps));
    const ratios = runs.get.map((r, i) => r.rps / runs.bare[i].rps);
    const cpuRatios = runs.get.map((r, i) => runs.bare[i].serverCpuUs! / r.serverCpuUs!);
    const medianRound = ratios.map((ratio, i) => ({ ratio, i })).sort((a, b) => a.ratio - b.ratio)[Math.floor((ratios.length - 1) / 2)].i;
    const cpu = (k: Kind): number | null => (runs[k].length === 0 ? null : Number(median(runs[k].map((r) => r.serverCpuUs!)).toFixed(1)));
    const share = (k: Kind): number | null => (runs[k].length === 0 ? null : Number(median(runs[k].map((r) => r.serverCpuShare!)).toFixed(2)));
    const non2xx = (k: Kind): number => runs[k].reduce((n, r) => n + r.other + r.errors + r.timeouts, 0);
    const round3 = (x: number): number => Number(x.toFixed(3));
    const nginxRatios = runs.nginx.map((r, i) => runs.get[i].rps / r.rps);
    const loadShare = (k: Kind): number | null => (runs[k].length === 0 || runs[k][0].loadCpuShare === undefined ? null : Number(median(runs[k].map((r) => r.loadCpuShare!)).toFixed(2)));
    Object.assign(result, {
      get_rps: Math.round(runs.get[medianRound].rps),
      bare_rps: Math.round(runs.bare[medianRound].rps),
      nginx_rps: runs.nginx.length === 0 ? null : Math.round(runs.nginx[medianRound].rps),
      ratio_get: round3(runs.get[medianRound].rps / runs.bare[medianRound].rps),
      ratio_nginx: runs.nginx.length === 0 ? null : round3(runs.get[medianRound].rps / runs.nginx[medianRound].rps),
      post10_rps: Math.round(rps('post10')),
      post10_events_per_second: Math.round(rps('post10') * 10),
      ratio_get_rounds: ratios.map(round3),
      ratio_nginx_rounds: nginxRatios.map(round3),
      ratio_cpu_get: round3(median(cpuRatios)),
      ratio_cpu_get_rounds: cpuRatios.map(round3),
      ratio_cpu_nginx: runs.nginx.length === 0 ? null : round3(median(runs.nginx.map((r, i) => r.serverCpuUs! / runs.get[i].serverCpuUs!))),
      median_get_rps: Math.round(rps('get')),
      median_bare_rps: Math.round(rps('bare')),
      median_nginx_rps: runs.nginx.length === 0 ? null : Math.round(rps('nginx')),
      server_cpu_us_per_request: { bare: cpu('bare'), nginx: cpu('nginx'), get: cpu('get'), post10: cpu('post10') },
      server_cpu_share: { bare: share('bare'), nginx: share('nginx'), get: share('get'), post10: share('post10') },
      load_tool_cpu_share: { bare: loadShare('bare'), nginx: loadShare('nginx'), get: loadShare('get') },
      latency_p99_ms: { bare: median(runs.bare.map((r) => r.latencyP99Ms)), nginx: runs.nginx.length === 0 ? null : median(runs.nginx.map((r) => r.latencyP99Ms)), get: median(runs.get.map((r) => r.latencyP99Ms)), post10: median(runs.post10.map((r) => r.latencyP99Ms)) },
      non_2xx: { bare: non2xx('bare'), nginx: non2xx('nginx'), get: non2xx('get'), post10: non2xx('post10') },
      load_tool: toolVersion,
      pinning: PINNING,
      load_average: [Number(loadBefore.toFixed(2)), Number(loadavg()[0].toFixed(2))],
    });

    // Multi-process mode: 1 and 2 workers on CPUs 0-1; on two cores the load tool shares CPU 1 with a worker.
    const clusterCpus = PINNING === null ? undefined : '0,1';
    const cluster: Record<string, unknown> = {};
    for (const workers of [1, 2]) {
      const [file, argv] = clusterCpus === undefined ? [process.execPath, [bundle]] : ['taskset', ['-c', clusterCpus, process.execPath, bundle]];
      const s = await startServer([], { WAYMARK_SINK: 'memory', WAYMARK_WORKERS: String(workers) }, [file, argv]);
      try {
        const r = await load(s, 'GET', path);
        cluster[`workers_${workers}`] = { rps: Math.round(r.rps), server_cpu_us_per_request: Number(r.serverCpuUs!.toFixed(1)), server_cores_busy: Number(r.serverCpuShare!.toFixed(2)), load_tool_cores_busy: r.loadCpuShare === undefined ? null : Number(r.loadCpuShare.toFixed(2)), p99_ms: r.latencyP99Ms, processes: s.pids().length };
        log(`cluster, ${workers} worker(s) on CPUs ${clusterCpus ?? 'any'}: ${Math.round(r.rps)} req/s, ${describe(r)}, ${s.pids().length} processes`);
      } finally {
        await s.stop();
      }
    }
    Object.assign(result, { cluster });

    // The amplification attack (memory sink, one process pinned like the collector above).
    const target = await startServer([bundle], { WAYMARK_SINK: 'memory', WAYMARK_WORKERS: '1' });
    try {
      const a = await attack(target.port, Math.max(1, SECONDS * 2), 4);
      const rssMb = Math.round(peakRss(target.pids()) / 1048576);
      log(`attack: 4 clients x 1 MB POSTs of 100,000 events for ${Math.max(1, SECONDS * 2)} s: /health p50 ${a.healthP50Ms} ms, p99 ${a.healthP99Ms} ms, max ${a.healthMaxMs} ms over ${a.healthChecks} checks; ${a.attackRequests} attack requests ${JSON.stringify(a.attackStatuses)}; peak RSS ${rssMb} MB`);
      Object.assign(result, { attack: { ...a, peakRssMb: rssMb, clients: 4, bodyBytes: 1024 * 1024, eventsPerBody: 100_000 } });
    } finally {
      await target.stop();
    }

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
          WAYMARK_WORKERS: '1',
        };
        const scenario = async (method: 'GET' | 'POST', p: string, ack: string): Promise<{ load: LoadResult; stopped: Record<string, unknown> | undefined }> => {
          const s = await startServer([bundle], { ...pubsubEnv, WAYMARK_ACK_MODE: ack });
          const l = await load(s, method, p);
          await s.stop();
          return { load: l, stopped: s.logs.find((x) => x.message === 'collector stopped') };
        };
        const out: Record<string, unknown> = {};
        for (const ack of ['buffered', 'after-publish']) {
          const g = await scenario('GET', path, ack);
          log(`collector GET (Pub/Sub emulator, ack ${ack}): ${Math.round(g.load.rps)} req/s, p50 ${g.load.latencyP50Ms} ms, p99 ${g.load.latencyP99Ms} ms, ${describe(g.load)}; at shutdown ${JSON.stringify(g.stopped)}`);
          const p = await scenario('POST', TP2, ack);
          log(`collector POST x10 (Pub/Sub emulator, ack ${ack}): ${Math.round(p.load.rps * 10)} events/s, p50 ${p.load.latencyP50Ms} ms, p99 ${p.load.latencyP99Ms} ms ${JSON.stringify(p.load.statuses)}; at shutdown ${JSON.stringify(p.stopped)}`);
          out[ack] = {
            get_rps: Math.round(g.load.rps),
            get_latency_ms: { p50: g.load.latencyP50Ms, p99: g.load.latencyP99Ms },
            get_server_cpu_us_per_request: Number(g.load.serverCpuUs!.toFixed(1)),
            post10_events_per_second: Math.round(p.load.rps * 10),
            post10_latency_ms: { p50: p.load.latencyP50Ms, p99: p.load.latencyP99Ms },
            statuses: { get: g.load.statuses, post10: p.load.statuses },
            delivered: { get: g.stopped?.delivered ?? null, post10: p.stopped?.delivered ?? null },
            undelivered_at_exit: { get: g.stopped?.remaining ?? null, post10: p.stopped?.remaining ?? null },
          };
        }
        Object.assign(result, { pubsub: out });
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
