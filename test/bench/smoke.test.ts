/**
 * `npm run bench` keeps working: each benchmark runs for a moment on tiny settings and ends with its JSON line.
 * Nothing here measures speed (that is docs/BENCHMARKS.md); it catches a benchmark broken by a change elsewhere,
 * e.g. sample events that stop validating against the registry the benchmark builds.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

function runBench(file: string, args: string[], env: Record<string, string> = {}, lines: Array<Record<string, unknown>> = []): Record<string, unknown> {
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', file), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 180_000,
  });
  if (run.status !== 0) throw new Error(`bench/${file} exited with ${run.status}:\n${run.stderr}`);
  for (const line of run.stdout.trim().split('\n')) if (line.startsWith('{')) lines.push(JSON.parse(line) as Record<string, unknown>);
  return lines[lines.length - 1];
}

test('bench/enrich.ts enriches its whole sample mix into good rows with the shipped UDF and reports events per second', () => {
  const lines: Array<Record<string, unknown>> = [];
  const result = runBench('enrich.ts', ['--events', '300', '--seconds', '0.3', '--nashorn-seconds', '1', '--window', '100'], {}, lines);
  expect(result).toMatchObject({ benchmark: 'enrich', engine: 'node' });
  // Nashorn, the production engine, in the same run: the line before Node's.
  expect(lines[lines.length - 2]).toMatchObject({ benchmark: 'enrich', engine: 'nashorn', bad: 0 });
  expect(lines[lines.length - 2].events_per_second).toBeGreaterThan(0);
  expect(result.artifact).toMatch(/^enrich-[0-9a-f]{16}\.js$/);
  expect(result.events_per_second).toBeGreaterThan(0);
});

test('bench/collector.ts runs the collector bundle, the bare server and nginx under the same load (wrk) and reports the ratios, the cluster and the attack figures', () => {
  const result = runBench('collector.ts', [], {
    BENCH_SECONDS: '0.3',
    BENCH_WARMUP_SECONDS: '0',
    BENCH_ROUNDS: '1',
    BENCH_CONNECTIONS: '4',
    BENCH_PUBSUB: '0',
  });
  expect(result.benchmark).toBe('collector');
  expect(result.get_rps).toBeGreaterThan(0);
  expect(result.bare_rps).toBeGreaterThan(0);
  expect(result.ratio_get).toBeGreaterThan(0);
  expect(result.post10_events_per_second).toBeGreaterThan(0);
  // nginx and wrk come from Debian (.ci/run installs nginx-light and wrk).
  expect(result.load_tool).toMatch(/^wrk /);
  expect(result.ratio_nginx).toBeGreaterThan(0);
  expect(result.cluster).toMatchObject({ workers_1: { processes: 1 }, workers_2: { processes: 3 } });
  expect(result.attack).toMatchObject({ attackStatuses: { 400: expect.any(Number) } });
});
