/**
 * The collector as real processes against the Pub/Sub emulator: the multi-process mode (two workers answer, SIGTERM
 * drains both, nothing lost) and `ackMode: after-publish` (a SIGKILL mid-load loses no acknowledged event).
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cgroupCores, planWorkers, workerHealth } from '../../collector/cluster';
import { configWith } from '../../collector/config';
import { createLogger } from '../../collector/log';
import { createCollector } from '../../collector/server';
import { MemorySink } from '../../collector/sinks/memory';
import { buildRuntimeBundle } from '../helpers/bundles';
import { paramsOf } from '../helpers/payload';
import { Emulator, EMULATOR_PROJECT, pullAtLeast, Relay, request, runBundle, RunningCollector, sleep, startEmulator, startRelay, waitFor } from './support';

let dir: string;
let bundle: string;
let emulator: Emulator | undefined;
let relay: Relay | undefined;
const started: RunningCollector[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'waymark-collector-processes-'));
  bundle = join(dir, 'collector.js');
  copyFileSync(await buildRuntimeBundle('collector'), bundle);
  emulator = await startEmulator();
  relay = await startRelay(emulator.port);
  for (const t of ['raw-mp', 'bad-mp', 'raw-ap', 'bad-ap']) await emulator.createTopic(t);
  await emulator.createSubscription('raw-mp-check', 'raw-mp');
  await emulator.createSubscription('raw-ap-check', 'raw-ap');
}, 150000);
afterEach(async () => {
  await Promise.all(started.splice(0).map((c) => c.stop('SIGKILL')));
});
afterAll(async () => {
  await relay?.close();
  await emulator?.dispose();
  rmSync(dir, { recursive: true, force: true });
}, 60000);

const run = async (env: Record<string, string>, expectExit = false): Promise<RunningCollector> => {
  const c = await runBundle(bundle, env, { cwd: dir, expectExit });
  started.push(c);
  return c;
};
const pubsub = (topic: string, host: string): Record<string, string> => ({
  PUBSUB_EMULATOR_HOST: host,
  WAYMARK_PUBSUB_PROJECT: EMULATOR_PROJECT,
  WAYMARK_PUBSUB_GOOD_TOPIC: `raw-${topic}`,
  WAYMARK_PUBSUB_BAD_TOPIC: `bad-${topic}`,
});

describe('worker count', () => {
  test('auto: the cores (a cgroup quota lowers it) with the Pub/Sub sink; 1 on Cloud Run, Cloud Functions, App Engine and for one-per-process sinks', () => {
    expect(planWorkers({}, 'pubsub', 4, null).workers).toBe(4);
    expect(planWorkers({ WAYMARK_WORKERS: 'auto' }, 'pubsub', 4, '150000 100000\n').workers).toBe(2);
    expect(planWorkers({}, 'pubsub', 4, 'max 100000\n').workers).toBe(4);
    for (const platform of ['K_SERVICE', 'FUNCTION_TARGET', 'GAE_SERVICE']) expect(planWorkers({ [platform]: 'x' }, 'pubsub', 4, null)).toMatchObject({ workers: 1 });
    expect(planWorkers({}, 'memory', 4, null).workers).toBe(1);
    expect(planWorkers({ WAYMARK_WORKERS: '3' }, 'pubsub', 2, null).workers).toBe(3);
    expect(() => planWorkers({ WAYMARK_WORKERS: '2' }, 'file', 2, null)).toThrow('WAYMARK_WORKERS=2 needs the pubsub sink (WAYMARK_SINK=pubsub): the file sink is one per process');
    expect(() => planWorkers({ WAYMARK_WORKERS: 'many' }, 'pubsub', 2, null)).toThrow('WAYMARK_WORKERS must be "auto" or an integer from 1 to 256, got "many"');
    expect(cgroupCores('50000 100000')).toBe(1);
  });

  test('/health is one answer for the instance: 503 while a worker is missing, as the primary reports it', async () => {
    const health = workerHealth();
    const c = createCollector({ config: configWith({ host: '127.0.0.1', port: 0 }), sink: new MemorySink(), logger: createLogger({ write: () => {} }), instanceHealth: health });
    const { port } = await c.listen();
    try {
      expect((await request(port, { path: '/health' })).status).toBe(200);
      process.emit('message', { waymark: 'serving', serving: 1, expected: 2, draining: false }, undefined);
      const r = await request(port, { path: '/health' });
      expect([r.status, r.text]).toEqual([503, '1 of 2 workers serving']);
      process.emit('message', { waymark: 'serving', serving: 2, expected: 2, draining: false }, undefined);
      expect((await request(port, { path: '/health' })).status).toBe(200);
    } finally {
      await c.shutdown();
    }
  });
});

test('two workers: both answer, every log line says which, SIGTERM (with the sink stalled) drains both, nothing is lost', async () => {
  const c = await run({
    ...pubsub('mp', `127.0.0.1:${relay!.port}`),
    WAYMARK_WORKERS: '2',
    WAYMARK_PUBSUB_PUBLISH_TIMEOUT_MS: '1000',
    WAYMARK_RETRY_INITIAL_MS: '100',
    WAYMARK_RETRY_MAX_MS: '300',
    WAYMARK_SHUTDOWN_TIMEOUT_MS: '30000',
  });
  expect(c.logs.find((l) => l.message === 'collector listening')).toMatchObject({ worker: 'primary', workers: 2 });
  expect(c.logs.filter((l) => l.message === 'worker listening').map((l) => l.worker).sort()).toEqual([1, 2]);
  const acked: string[] = [];
  const send = async (prefix: string, n: number): Promise<void> => {
    for (let i = 0; i < n; i += 10) {
      await Promise.all(Array.from({ length: 10 }, async (_, k) => {
        const eid = `${prefix}-${i + k}`;
        // A new connection per request: the primary hands connections to the workers in turn.
        const r = await request(c.port, { path: `/i?e=pv&eid=${eid}`, agent: false });
        if (r.status === 200) acked.push(eid);
      }));
    }
  };
  await send('up', 200);
  for (let i = 0; i < 10; i++) expect((await request(c.port, { path: '/health' })).text).toBe('ok');
  // The sink stalls; events keep being accepted into both workers' buffers; then SIGTERM.
  await relay!.cut();
  await send('stalled', 200);
  expect(acked.length).toBe(400);
  const exit = c.stop('SIGTERM');
  await sleep(1500);
  await relay!.resume();
  expect(await exit).toBe(0);
  const stopped = c.logs.filter((l) => l.message === 'collector stopped');
  expect(stopped.map((l) => l.worker).sort()).toEqual([1, 2]);
  for (const l of stopped) {
    expect(l.remaining).toBe(0);
    expect(l.accepted as number).toBeGreaterThan(50);
  }
  expect(stopped.reduce((n, l) => n + (l.accepted as number), 0)).toBe(400);
  // Every line of a worker names it.
  expect(c.logs.every((l) => l.worker === 'primary' || l.worker === 1 || l.worker === 2)).toBe(true);
  const received = new Set((await pullAtLeast(emulator!, 'raw-mp-check', 400)).map((m) => paramsOf(m.data).eid as string));
  expect(acked.filter((e) => !received.has(e))).toEqual([]);
}, 120000);

test('a worker that cannot start (missing topic) stops the whole instance with the reason', async () => {
  const c = await run({ ...pubsub('mp', emulator!.host), WAYMARK_PUBSUB_GOOD_TOPIC: 'no-such-topic', WAYMARK_WORKERS: '2' }, true);
  expect(await c.exited).toBe(1);
  expect(c.logs.find((l) => l.severity === 'ERROR')?.message).toBe('cannot start: pubsub sink: topic projects/waymark-test/topics/no-such-topic does not exist');
  expect(c.logs.some((l) => l.message === 'collector listening')).toBe(false);
}, 60000);

test('ackMode after-publish: a SIGKILL in the middle of the load loses no acknowledged event', async () => {
  // Publish requests wait up to 200 ms to fill: with ackMode buffered, events answered 200 sit that long in the
  // process and a SIGKILL loses them (the check of this test: it fails with WAYMARK_ACK_MODE=buffered).
  const c = await run({ ...pubsub('ap', emulator!.host), WAYMARK_ACK_MODE: process.env.WAYMARK_TEST_ACK_MODE ?? 'after-publish', WAYMARK_PUBSUB_BATCH_MAX_MS: '200' });
  const acked = new Set<string>();
  let loading = true;
  let killed = false;
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  const clients = Array.from({ length: 32 }, async (_, w) => {
    for (let n = 0; loading && n < 100_000; n++) {
      const eid = `ap-${w}-${n}`;
      try {
        const r = await request(c.port, { path: `/i?e=pv&eid=${eid}`, agent });
        if (r.status === 200) acked.add(eid);
      } catch {
        if (killed) return; // the connection died with the process
        throw new Error(`request failed before the kill: ${eid}`);
      }
    }
  });
  await waitFor('500 acknowledged events', () => (acked.size >= 500 ? true : undefined), 60000, 20);
  killed = true;
  c.child.kill('SIGKILL');
  await c.exited;
  loading = false;
  await Promise.all(clients);
  agent.destroy();
  const ackedAtKill = [...acked];
  const received = new Set((await pullAtLeast(emulator!, 'raw-ap-check', ackedAtKill.length)).map((m) => paramsOf(m.data).eid as string));
  expect(ackedAtKill.length).toBeGreaterThanOrEqual(500);
  expect(ackedAtKill.filter((e) => !received.has(e))).toEqual([]);
}, 120000);

test('a worker that dies is replaced: the instance keeps serving and /health is 200 again once it listens', async () => {
  // The memory sink without debug endpoints may run in several processes (a sink nobody reads).
  const c = await run({ WAYMARK_SINK: 'memory', WAYMARK_WORKERS: '2' });
  const first = c.logs.filter((l) => l.message === 'worker listening');
  expect(first.map((l) => l.worker).sort()).toEqual([1, 2]);
  process.kill(first.find((l) => l.worker === 1)!.pid as number, 'SIGKILL');
  await waitFor('the replacement', () => (c.logs.some((l) => l.message === 'worker listening' && l.worker === 3) ? true : undefined), 30000, 50);
  expect(c.logs.find((l) => l.message === 'worker died: starting another')).toMatchObject({ worker: 'primary', workerId: 1, signal: 'SIGKILL' });
  await waitFor('/health 200', async () => ((await request(c.port, { path: '/health', agent: false })).status === 200 ? true : undefined), 30000, 50);
  for (let i = 0; i < 10; i++) expect((await request(c.port, { path: `/i?e=pv&eid=after-${i}`, agent: false })).status).toBe(200);
  expect(await c.stop('SIGTERM')).toBe(0);
  expect(c.logs.filter((l) => l.message === 'collector stopped').map((l) => l.worker).sort()).toEqual([2, 3]);
}, 60000);
