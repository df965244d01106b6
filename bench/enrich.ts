/**
 * `npm run bench:enrich`: the shipped enrichment UDF bundle (ES5, as Dataflow's Nashorn runs it) over a realistic mix
 * of CollectorPayloads — 40% page views, 30% page pings, 15% structured events, 15% self-describing events with two
 * entities; every event carries the web_page entity — in Node on one core, then (if installed) in Rhino.
 * Prints progress to stderr and ends with one JSON line per engine on stdout, Node's last:
 *   {"benchmark":"enrich","events_per_second":N,"engine":"node",...}
 *
 *   tsx bench/enrich.ts [--events N] [--seconds S] [--no-rhino] [--config '{"enrichments":{"eventFingerprint":false}}']
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vm from 'node:vm';
import { defaultEnrichmentBundle, EnrichmentSettings } from '../lib/private/enrichment';
import { sampleCollectorPayloads } from '../pipeline/local/sample-events';

interface Options {
  events: number;
  seconds: number;
  rhino: boolean;
  config: EnrichmentSettings | undefined;
}

const USAGE = 'usage: bench/enrich.ts [--events N] [--seconds S] [--no-rhino] [--config JSON]';

function parseArgs(argv: string[]): Options {
  const o: Options = { events: 20000, seconds: 8, rhino: true, config: undefined };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--events') o.events = Number(argv[++i]);
    else if (argv[i] === '--seconds') o.seconds = Number(argv[++i]);
    else if (argv[i] === '--no-rhino') o.rhino = false;
    else if (argv[i] === '--config') o.config = JSON.parse(argv[++i]) as EnrichmentSettings;
    else throw new Error(`unknown argument ${argv[i]}; ${USAGE}`);
  }
  if (!(o.events > 0) || !(o.seconds > 0)) throw new Error(USAGE);
  return o;
}

function rhinoAvailable(): boolean {
  return spawnSync('rhino', ['-e', 'print(1)'], { encoding: 'utf8', timeout: 60000 }).status === 0;
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  // The shipped UDF: the constructs' build of the built-in registry and the (default) configuration.
  const bundle = defaultEnrichmentBundle({ config: opts.config });
  const code = bundle.contents.toString('utf8');
  const artifact = bundle.hashedName;
  const messages = sampleCollectorPayloads(opts.events);
  const avgBytes = Math.round(messages.reduce((n, m) => n + m.length, 0) / messages.length);
  process.stderr.write(`bundle: ${artifact}, ${code.length} bytes; ${messages.length} distinct messages, ${avgBytes} bytes on average\n`);

  // Node: the script scoped inside a function (it declares a global `process`, which must not replace Node's), in
  // this realm: a vm context would measure V8's slow global-object interceptors rather than the enrichment.
  const factory = vm.runInThisContext(`(function () {\n${code}\nreturn process;\n})`, { filename: 'enrich.js' }) as () => (s: string) => string;
  const udf = factory();
  let bad = 0;
  for (const m of messages) {
    try {
      udf(m);
    } catch {
      bad++;
    }
  }
  if (bad > 0) throw new Error(`${bad} of ${messages.length} sample events became bad rows; the benchmark measures good rows only`);
  // Warm up, then run for a fixed time.
  for (let i = 0; i < Math.min(messages.length, 20000); i++) udf(messages[i]);
  // Rate per second of CPU time of this (single-threaded) process: the machine is shared, and wall-clock time would
  // count the time other processes held the core.
  let n = 0;
  const deadline = opts.seconds * 1e9;
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  let elapsed = 0;
  while (elapsed < deadline) {
    for (let i = 0; i < 1000; i++) udf(messages[(n + i) % messages.length]);
    n += 1000;
    elapsed = Number(process.hrtime.bigint() - t0);
  }
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const nodeRate = Math.round(n / cpuSeconds);
  process.stderr.write(`node: ${n} events in ${cpuSeconds.toFixed(2)} s of CPU (${(elapsed / 1e9).toFixed(2)} s wall) → ${nodeRate} events/s per core\n`);

  const common = {
    benchmark: 'enrich',
    artifact,
    bundle_bytes: code.length,
    mix: 'pv 40%, pp 30%, se 15%, ue+2 contexts 15%; web_page on every event',
    config: opts.config ?? 'default',
    avg_message_bytes: avgBytes,
    distinct_messages: messages.length,
    cpu: cpus()[0]?.model ?? 'unknown',
    date: new Date().toISOString(),
  };
  const lines: string[] = [];

  if (opts.rhino) {
    if (!rhinoAvailable()) {
      process.stderr.write('rhino: not installed (apt-get install -y rhino); skipped\n');
    } else {
      const dir = mkdtempSync(join(tmpdir(), 'waymark-bench-'));
      try {
        const count = Math.min(messages.length, 5000);
        writeFileSync(join(dir, 'enrich.js'), code);
        writeFileSync(join(dir, 'events.txt'), messages.slice(0, count).join('\n'));
        writeFileSync(join(dir, 'run.js'), RHINO_HARNESS);
        const out = execFileSync('rhino', ['-opt', '9', join(dir, 'run.js'), dir, String(opts.seconds)], { encoding: 'utf8', timeout: 600000, maxBuffer: 1 << 20 });
        const result = JSON.parse(out.trim().split('\n').pop() as string) as { events: number; seconds: number; wall: number; bad: number };
        const rate = Math.round(result.events / result.seconds);
        process.stderr.write(`rhino: ${result.events} events in ${result.seconds.toFixed(2)} s of CPU (${result.wall.toFixed(2)} s wall) → ${rate} events/s per core (${result.bad} bad)\n`);
        lines.push(JSON.stringify({ ...common, events_per_second: rate, engine: 'rhino', events: result.events, cpu_seconds: +result.seconds.toFixed(2), wall_seconds: +result.wall.toFixed(2) }));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  lines.push(JSON.stringify({ ...common, events_per_second: nodeRate, engine: 'node', node: process.version, events: n, cpu_seconds: +cpuSeconds.toFixed(2), wall_seconds: +(elapsed / 1e9).toFixed(2), wall_events_per_second: Math.round(n / (elapsed / 1e9)) }));
  process.stdout.write(lines.join('\n') + '\n');
}

/** Rhino shell script: loads the bundle, warms up, then calls `process` for a fixed time. */
const RHINO_HARNESS = `
var dir = arguments[0];
var seconds = Number(arguments[1]);
load(dir + '/enrich.js');
var events = String(readFile(dir + '/events.txt')).split('\\n');
var bad = 0;
function one(i) { try { process(events[i % events.length]); } catch (e) { bad++; } }
for (var w = 0; w < 3000; w++) one(w);
bad = 0;
var n = 0;
var threads = java.lang.management.ManagementFactory.getThreadMXBean();
var start = java.lang.System.nanoTime();
var cpuStart = threads.getCurrentThreadCpuTime();
var elapsed = 0;
while (elapsed < seconds * 1e9) {
  for (var i = 0; i < 200; i++) one(n + i);
  n += 200;
  elapsed = java.lang.System.nanoTime() - start;
}
var cpu = threads.getCurrentThreadCpuTime() - cpuStart;
print(JSON.stringify({ events: n, seconds: cpu / 1e9, wall: elapsed / 1e9, bad: bad }));
`;

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
