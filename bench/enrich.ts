/**
 * `npm run bench:enrich`: the shipped enrichment UDF bundle (ES5, as Dataflow's Nashorn runs it) over a realistic mix
 * of CollectorPayloads — 40% page views, 30% page pings, 15% structured events, 15% self-describing events with two
 * entities; every event carries the web_page entity — in Nashorn 15.4 (the production engine, called as the Dataflow
 * template calls it: scripts/nashorn.ts, test/support/java/UdfHarness.java) and in Node, in the same run.
 * Prints progress to stderr and ends with one JSON line per engine on stdout, Node's last:
 *   {"benchmark":"enrich","events_per_second":N,"engine":"nashorn",...}
 *   {"benchmark":"enrich","events_per_second":N,"engine":"node",...}
 * Both read the row text they get back (its length and a character from its middle), as the template's next step
 * must.
 *
 * Nashorn: one JVM, one engine, `process` called for --nashorn-seconds of the JVM's process CPU time (all its threads:
 * the JIT compilers and GC included) in windows of --window events. Nashorn compiles and re-compiles the script while
 * it runs, so its first events are slow: the warm-up is the events and CPU seconds until the first window whose rate
 * is within 10% of the steady rate; the steady rate is that of the last half of the run's CPU time. Both are reported.
 *
 * Node: each engine runs in a process of its own holding only the bundle and the messages, as the template's engine
 * does: in this (tsx) process, next to the builder (esbuild, the TypeScript compiler) and its garbage, the same bundle
 * measured about 8% slower. The rate is events per second of the measuring process's CPU time (user + system), so
 * time other processes hold the shared cores does not count, and the engine's helper threads (GC, JIT) do.
 *
 *   tsx bench/enrich.ts [--events N] [--seconds S] [--nashorn-seconds S] [--window N] [--no-nashorn]
 *                       [--bundle FILE] [--compare FILE] [--jfr FILE] [--save FILE] [--config '{"enrichments":{"eventFingerprint":false}}']
 * --bundle measures another UDF file instead of building the current one; --compare FILE measures FILE (e.g. an older
 * build) first in the same run, its lines marked "compared":true before the current bundle's; --jfr FILE records
 * the Nashorn run with Java Flight Recorder (`jfr print --events jdk.ExecutionSample FILE`: script functions appear
 * as methods of jdk.nashorn.internal.scripts.Script$... classes, named after the JavaScript functions); --save FILE
 * writes the measured bundle to FILE (the line numbers of a profile are its lines; a later run can --compare it).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { defaultEnrichmentBundle, EnrichmentSettings } from '../lib/private/enrichment';
import { sampleCollectorPayloads } from '../pipeline/local/sample-events';
import { NashornUdf } from '../scripts/nashorn';

interface Options {
  events: number;
  seconds: number;
  nashornSeconds: number;
  window: number;
  nashorn: boolean;
  bundle: string | undefined;
  jfr: string | undefined;
  save: string | undefined;
  compare: string | undefined;
  config: EnrichmentSettings | undefined;
}

const USAGE = 'usage: bench/enrich.ts [--events N] [--seconds S] [--nashorn-seconds S] [--window N] [--no-nashorn] [--bundle FILE] [--compare FILE] [--jfr FILE] [--save FILE] [--config JSON]';

function parseArgs(argv: string[]): Options {
  const o: Options = { events: 20000, seconds: 8, nashornSeconds: 60, window: 2000, nashorn: true, bundle: undefined, jfr: undefined, save: undefined, compare: undefined, config: undefined };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--events') o.events = Number(argv[++i]);
    else if (argv[i] === '--seconds') o.seconds = Number(argv[++i]);
    else if (argv[i] === '--nashorn-seconds') o.nashornSeconds = Number(argv[++i]);
    else if (argv[i] === '--window') o.window = Number(argv[++i]);
    else if (argv[i] === '--no-nashorn') o.nashorn = false;
    else if (argv[i] === '--no-rhino') continue; // Rhino is no longer measured; accepted for old command lines
    else if (argv[i] === '--bundle') o.bundle = argv[++i];
    else if (argv[i] === '--jfr') o.jfr = argv[++i];
    else if (argv[i] === '--save') o.save = argv[++i];
    else if (argv[i] === '--compare') o.compare = argv[++i];
    else if (argv[i] === '--config') o.config = JSON.parse(argv[++i]) as EnrichmentSettings;
    else throw new Error(`unknown argument ${argv[i]}; ${USAGE}`);
  }
  if (!(o.events > 0) || !(o.seconds > 0) || !(o.nashornSeconds > 0) || !(o.window > 0)) throw new Error(USAGE);
  return o;
}

interface NashornResult {
  events: number;
  cpu_seconds: number;
  wall_seconds: number;
  steady_events: number;
  steady_cpu_seconds: number;
  warmup_events: number;
  warmup_cpu_seconds: number;
  warmup_wall_seconds: number;
  first_window_events_per_second: number;
  bad: number;
}

/** Steady rate over the last half of the CPU time; warm-up until the first window within 10% of it. */
function analyse(measured: Array<{ events: number; cpu: number; wall: number; bad: number }>): NashornResult {
  const windows = [{ events: 0, cpu: 0, wall: 0, bad: 0 }, ...measured];
  const last = windows[windows.length - 1];
  let half = 0;
  while (half < windows.length - 2 && windows[half].cpu < last.cpu / 2) half++;
  const base = windows[half];
  const steadyEvents = last.events - base.events;
  const steadyCpu = last.cpu - base.cpu;
  const steady = steadyEvents / steadyCpu;
  let warm = windows.length - 1;
  for (let i = 1; i < windows.length; i++) {
    const rate = (windows[i].events - windows[i - 1].events) / (windows[i].cpu - windows[i - 1].cpu);
    if (rate >= 0.9 * steady) {
      warm = i - 1;
      break;
    }
  }
  const w = windows[warm];
  return {
    events: last.events,
    cpu_seconds: +last.cpu.toFixed(2),
    wall_seconds: +last.wall.toFixed(2),
    steady_events: steadyEvents,
    steady_cpu_seconds: +steadyCpu.toFixed(2),
    warmup_events: w.events,
    warmup_cpu_seconds: +w.cpu.toFixed(2),
    warmup_wall_seconds: +w.wall.toFixed(2),
    first_window_events_per_second: Math.round(windows[1].events / windows[1].cpu),
    bad: last.bad,
  };
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  // The shipped UDF: the constructs' build of the built-in registry plus examples/schemas (the sample events'
  // self-describing events and entities), with the (default) configuration.
  let code: string;
  let artifact: string;
  if (opts.bundle !== undefined) {
    code = readFileSync(opts.bundle, 'utf8');
    artifact = basename(opts.bundle);
  } else {
    const bundle = defaultEnrichmentBundle({ config: opts.config, schemaFolders: [join(__dirname, '..', 'examples', 'schemas')] });
    code = bundle.contents.toString('utf8');
    artifact = bundle.hashedName;
  }
  // --save: the measured bundle, to --compare a later build against it (line numbers in a --jfr profile are its lines).
  if (opts.save !== undefined) writeFileSync(opts.save, code);
  const messages = sampleCollectorPayloads(opts.events);
  const avgBytes = Math.round(messages.reduce((n, m) => n + m.length, 0) / messages.length);
  process.stderr.write(`bundle: ${artifact}, ${code.length} bytes; ${messages.length} distinct messages, ${avgBytes} bytes on average\n`);

  // --compare: the other bundle first (Nashorn, then Node), then this one, in the same run.
  const others = opts.compare !== undefined ? [{ code: readFileSync(opts.compare, 'utf8'), artifact: basename(opts.compare) }] : [];
  const results: Array<{ artifact: string; bytes: number; nashorn: NashornResult | null; node: HarnessResult }> = [];
  for (const b of [...others, { code, artifact }]) {
    const r = await measure(b.code, b.artifact, messages, opts);
    results.push({ artifact: b.artifact, bytes: b.code.length, ...r });
  }
  const lines: string[] = [];
  for (const r of results) {
    const common = {
      benchmark: 'enrich',
      artifact: r.artifact,
      bundle_bytes: r.bytes,
      mix: 'pv 40%, pp 30%, se 15%, ue+2 contexts 15%; web_page on every event',
      config: opts.config ?? 'default',
      avg_message_bytes: avgBytes,
      distinct_messages: messages.length,
      cpu: cpus()[0]?.model ?? 'unknown',
      date: new Date().toISOString(),
      ...(r.artifact !== artifact ? { compared: true } : {}),
    };
    if (r.nashorn !== null) {
      const n = r.nashorn;
      lines.push(JSON.stringify({ ...common, events_per_second: Math.round(n.steady_events / n.steady_cpu_seconds), engine: 'nashorn', nashorn: '15.4 --language=es6', ...n }));
    }
    const nodeResult = r.node;
    lines.push(JSON.stringify({ ...common, events_per_second: Math.round(nodeResult.events / nodeResult.seconds), engine: 'node', node: process.version, events: nodeResult.events, cpu_seconds: +nodeResult.seconds.toFixed(2), wall_seconds: +nodeResult.wall.toFixed(2), wall_events_per_second: Math.round(nodeResult.events / nodeResult.wall) }));
  }
  process.stdout.write(lines.join('\n') + '\n');
}

/** One bundle in Nashorn (unless --no-nashorn), then in Node. */
async function measure(code: string, artifact: string, messages: string[], opts: Options): Promise<{ nashorn: NashornResult | null; node: HarnessResult }> {
  const dir = mkdtempSync(join(tmpdir(), 'waymark-bench-'));
  let nodeResult: HarnessResult;
  let nashornResult: NashornResult | null = null;
  try {
    writeFileSync(join(dir, 'enrich.js'), code);
    writeFileSync(join(dir, 'events.txt'), messages.join('\n'));
    writeFileSync(join(dir, 'run-node.js'), NODE_HARNESS);
    if (opts.nashorn) {
      const jvmArgs = opts.jfr !== undefined ? [`-XX:StartFlightRecording=filename=${opts.jfr},settings=profile`, '-XX:FlightRecorderOptions:stackdepth=1024'] : [];
      const udf = new NashornUdf(code, { jvmArgs });
      try {
        const windows = await udf.bench(join(dir, 'events.txt'), opts.nashornSeconds, opts.window);
        nashornResult = analyse(windows);
        const rates = windows.map((w, i) => Math.round((w.events - (i > 0 ? windows[i - 1].events : 0)) / (w.cpu - (i > 0 ? windows[i - 1].cpu : 0))));
        process.stderr.write(`nashorn ${artifact}: events/CPU-s per window of ${opts.window} events: ${rates.join(' ')}\n`);
      } finally {
        await udf.close();
      }
      const r = nashornResult;
      if (r.bad > 0) throw new Error(`${r.bad} sample events became bad rows in Nashorn; the benchmark measures good rows only`);
      process.stderr.write(`nashorn ${artifact}: warm-up ${r.warmup_events} events in ${r.warmup_cpu_seconds} s of CPU (${r.warmup_wall_seconds} s wall; first window ${r.first_window_events_per_second} events/s); ` +
        `steady ${r.steady_events} events in ${r.steady_cpu_seconds} s of CPU → ${Math.round(r.steady_events / r.steady_cpu_seconds)} events/s per JVM\n`);
    }
    nodeResult = runHarness(process.execPath, [join(dir, 'run-node.js'), dir, String(opts.seconds)]);
    if (nodeResult.bad > 0) throw new Error(`${nodeResult.bad} sample events became bad rows; the benchmark measures good rows only`);
    process.stderr.write(`node ${artifact}: ${nodeResult.events} events in ${nodeResult.seconds.toFixed(2)} s of CPU (${nodeResult.wall.toFixed(2)} s wall) → ${Math.round(nodeResult.events / nodeResult.seconds)} events/s per core\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { nashorn: nashornResult, node: nodeResult };
}

interface HarnessResult {
  events: number;
  /** CPU seconds of the measuring process. */
  seconds: number;
  wall: number;
  bad: number;
}

/** Runs a harness; its last stdout line is the result JSON. */
function runHarness(command: string, args: string[]): HarnessResult {
  const out = execFileSync(command, args, { encoding: 'utf8', timeout: 600000, maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').pop() as string) as HarnessResult;
}

/**
 * Node script: loads the bundle in its main realm, scoped inside a function (it declares a global `process`, which
 * must not replace Node's; a vm context would measure V8's slow global-object interceptors rather than the
 * enrichment), warms up, then calls `process` for a fixed time.
 */
const NODE_HARNESS = `
var fs = require('fs');
var path = require('path');
var vm = require('vm');
var dir = process.argv[2];
var seconds = Number(process.argv[3]);
var code = fs.readFileSync(path.join(dir, 'enrich.js'), 'utf8');
var events = fs.readFileSync(path.join(dir, 'events.txt'), 'utf8').split('\\n');
var udf = vm.runInThisContext('(function () {\\n' + code + '\\nreturn process;\\n})', { filename: 'enrich.js' })();
var bad = 0;
var read = 0;
// The row text is read (its length and a character from its middle), as the template's next step must.
function one(i) { try { var row = udf(events[i % events.length]); read += row.length + row.charCodeAt(row.length >> 1); } catch (e) { bad++; } }
for (var i = 0; i < events.length; i++) one(i);
var firstBad = bad;
for (var w = 0; w < 20000; w++) one(w);
bad = firstBad;
var n = 0;
var t0 = process.hrtime.bigint();
var cpu0 = process.cpuUsage();
var elapsed = 0;
while (elapsed < seconds * 1e9) {
  for (var k = 0; k < 1000; k++) one(n + k);
  n += 1000;
  elapsed = Number(process.hrtime.bigint() - t0);
}
var cpu = process.cpuUsage(cpu0);
console.log(JSON.stringify({ events: n, seconds: (cpu.user + cpu.system) / 1e6, wall: elapsed / 1e9, bad: bad, read: read }));
`;

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
