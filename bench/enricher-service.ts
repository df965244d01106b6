/**
 * `npm run bench` (or `tsx bench/enricher-service.ts`): the shipped enricher service bundle (`enricher.js`, the file
 * Cloud Run runs) enriching Pub/Sub push deliveries over HTTP, with push authentication on (a locally signed OIDC
 * token, as Pub/Sub sends one with every push) and every row published through the REST publisher to a local stand-in
 * for the Pub/Sub API that acknowledges at once. The events are the UDF benchmark's mix (bench/enrich.ts).
 *
 * The rate is events per second of the enricher process's own CPU time (user + system from /proc, the process and
 * all its threads), so the load generator and the fake Pub/Sub in this process do not count: events/s per core, the
 * figure the cost model (scripts/costs.ts) turns into Cloud Run vCPU-seconds. Ends with one JSON line on stdout.
 *
 *   tsx bench/enricher-service.ts [--seconds S] [--connections C]
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeBundle } from '../lib/private/bundler';
import { enricherServiceForRegistry } from '../lib/private/enricher-service';
import { loadRegistry } from '../pipeline/registry/load';
import { sampleCollectorPayloads } from '../pipeline/local/sample-events';

const args = process.argv.slice(2);
const arg = (name: string, dflt: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const SECONDS = arg('--seconds', 8);
const CONNECTIONS = arg('--connections', 32);
const AUD = 'waymark-enricher:bench';
const EMAIL = 'push@bench.iam.gserviceaccount.com';

/** utime + stime of a process in seconds (Linux /proc; clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function main(): Promise<void> {
  const bundle = enricherServiceForRegistry('bench', loadRegistry([join(__dirname, '..', 'examples', 'schemas')]), undefined);
  const dir = mkdtempSync(join(tmpdir(), 'waymark-bench-enricher-'));
  const file = writeBundle(bundle, dir);
  const messages = sampleCollectorPayloads(20000).map((m) => JSON.stringify({ message: { data: Buffer.from(m).toString('base64'), messageId: '1', attributes: {} }, subscription: 'projects/bench/subscriptions/raw' }));
  const avgBytes = Math.round(sampleCollectorPayloads(2000).reduce((n, m) => n + m.length, 0) / 2000);

  // The signing key and its JWKS; one token for the whole run, as Pub/Sub reuses its tokens.
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = publicKey.export({ format: 'jwk' }) as { n: string; e: string };
  const now = Math.floor(Date.now() / 1000);
  const h = Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'k', typ: 'JWT' })).toString('base64url');
  const c = Buffer.from(JSON.stringify({ iss: 'https://accounts.google.com', aud: AUD, email: EMAIL, email_verified: true, iat: now, exp: now + 3600 })).toString('base64url');
  const token = `${h}.${c}.${sign('RSA-SHA256', Buffer.from(`${h}.${c}`), privateKey).toString('base64url')}`;

  let published = 0;
  let publishRequests = 0;
  const fake = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      if (req.url === '/certs') {
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=3600' });
        res.end(JSON.stringify({ keys: [{ kid: 'k', kty: 'RSA', alg: 'RS256', n: jwk.n, e: jwk.e }] }));
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { messages: unknown[] };
      published += body.messages.length;
      publishRequests++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ messageIds: body.messages.map((_, i) => String(i)) }));
    });
  });
  await new Promise<void>((r) => fake.listen(0, '127.0.0.1', () => r()));
  const fakePort = (fake.address() as AddressInfo).port;

  const child = spawn(process.execPath, [...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean), file], {
    env: {
      PATH: process.env.PATH ?? '', PORT: '0', PUBSUB_EMULATOR_HOST: `127.0.0.1:${fakePort}`,
      WAYMARK_ENRICHED_TOPIC: 'projects/bench-project/topics/enriched', WAYMARK_BAD_TOPIC: 'projects/bench-project/topics/bad',
      WAYMARK_PUSH_AUDIENCE: AUD, WAYMARK_PUSH_SERVICE_ACCOUNT: EMAIL, WAYMARK_PUSH_JWKS_URL: `http://127.0.0.1:${fakePort}/certs`,
      WAYMARK_MAX_CONCURRENCY: String(CONNECTIONS * 2), ...(process.env.BENCH_NO_AUTH ? { WAYMARK_PUSH_AUTH: 'off' } : {}),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      for (const line of buf.split('\n')) {
        try {
          const l = JSON.parse(line) as { message?: string; port?: number };
          if (l.message === 'enricher listening') resolve(l.port!);
        } catch {
          // a partial line
        }
      }
    });
    child.on('exit', (code) => reject(new Error(`the enricher exited with ${code}: ${buf}`)));
    setTimeout(() => reject(new Error(`the enricher did not start within 30 s: ${buf}`)), 30000).unref();
  });

  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  let sent = 0;
  let failures = 0;
  const push = (i: number): Promise<number> => new Promise((resolve) => {
    const body = messages[i % messages.length];
    const req = request({ host: '127.0.0.1', port, path: '/push', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end(body);
  });
  const run = async (ms: number): Promise<number> => {
    const end = Date.now() + ms;
    let done = 0;
    await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
      while (Date.now() < end) {
        const status = await push(sent++);
        if (status === 204) done++;
        else failures++;
      }
    }));
    return done;
  };
  process.stderr.write(`enricher.js ${bundle.contents.length} bytes; warming up …\n`);
  await run(2000);
  failures = 0;
  const publishedBefore = published;
  const cpu0 = cpuSeconds(child.pid!);
  const t0 = process.hrtime.bigint();
  const events = await run(SECONDS * 1000);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = cpuSeconds(child.pid!) - cpu0;
  const publishedInRun = published - publishedBefore;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  agent.destroy();
  fake.close();
  rmSync(dir, { recursive: true, force: true });
  if (failures > 0) throw new Error(`${failures} pushes were not answered 204`);
  const perCore = Math.round(events / cpu);
  process.stderr.write(`enricher service: ${events} pushes in ${wall.toFixed(2)} s wall, ${cpu.toFixed(2)} s of its CPU → ${perCore} events/s per core (${(1e6 * cpu / events).toFixed(1)} µs CPU per event); ${publishedInRun} rows published in ${publishRequests} requests overall\n`);
  process.stdout.write(JSON.stringify({
    benchmark: 'enricher-service',
    events_per_second: perCore,
    cpu_us_per_event: +(1e6 * cpu / events).toFixed(1),
    wall_events_per_second: Math.round(events / wall),
    events,
    cpu_seconds: +cpu.toFixed(2),
    wall_seconds: +wall.toFixed(2),
    connections: CONNECTIONS,
    auth: 'oidc (one token, verified once, then remembered)',
    avg_message_bytes: avgBytes,
    cpu: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    date: new Date().toISOString(),
  }) + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
