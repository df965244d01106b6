/**
 * Waymark local mode (`build/waymark-local.js`, started by `npm start`): the collector, enrichment with the shipped
 * UDF bundle, an inspection API and events page, the demo site and the tracker, all on one local URL.
 *
 *   node build/waymark-local.js [--port 8080] [--pubsub]   (see USAGE in ./options)
 *
 * In-process mode (default): the collector's sink runs the UDF on every accepted event and keeps the rows in memory.
 * Pub/Sub mode: collector → emulator raw topic → local enricher (pulls a subscription, runs the UDF) → JSONL files,
 * which the inspection API reads back. Ctrl-C (SIGINT) or SIGTERM stops everything it started, the emulator included.
 */
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError, loadConfig } from '../config';
import { createLogger, describeError } from '../log';
import { Collector, createCollector } from '../server';
import type { Sink } from '../sinks/types';
import { BUILTIN_SCHEMAS_DIR, loadRegistry } from '../../pipeline/registry/load';
import { inspectionRoutes, RowSource } from './api';
import { Emulator, EmulatorError, ensureEmulator } from './emulator';
import { EnrichingSink, memorySource } from './in-process';
import { LocalOptions, resolveOptions, UsageError } from './options';
import { PubSubPipeline, startPubSubPipeline, TOPICS } from './pubsub';
import { staticRoutes } from './static';
import { EventStore } from './store';
import { EnrichOutcome, loadUdf, Udf, UdfLoadError } from './udf';
import { messageText } from './rows';
import type { UdfHolder } from './replay';

/** Collector defaults that suit a laptop: loopback only, plain-http cookies, no load balancer in front, quiet logs. */
export const LOCAL_DEFAULTS: Readonly<Record<string, unknown>> = {
  host: '127.0.0.1',
  'cookie.secure': false,
  'cookie.sameSite': 'Lax',
  xffTrustedHops: null,
  logLevel: 'WARNING',
  shutdownTimeoutMs: 5000,
};

export interface LocalRuntime {
  /** The one local URL, e.g. http://localhost:8080/ */
  readonly url: string;
  readonly port: number;
  readonly options: LocalOptions;
  readonly collector: Collector;
  readonly emulator: Emulator | null;
  /** Stops the collector (draining it), the enricher and the emulator. Idempotent. */
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly argv?: readonly string[];
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Lines for the person at the terminal. @default stdout */
  readonly print?: (line: string) => void;
}

/** Exit codes: 0 for --help, 64 usage, 66 missing input (UDF), 69 unavailable service (emulator, port), 78 configuration. */
export class StartError extends Error {
  constructor(message: string, readonly exitCode: number) {
    super(message);
    this.name = 'StartError';
  }
}

function outcomeLine(outcome: EnrichOutcome): string {
  if ('good' in outcome) {
    const r = outcome.good;
    const name = String(r.event_name ?? r.event ?? 'event');
    const where = typeof r.page_urlpath === 'string' ? ` ${r.page_urlpath}` : '';
    return `  good  ${name.padEnd(16)}${where}`;
  }
  const d = outcome.bad.data;
  const first = d && d.failure && Array.isArray(d.failure.messages) && d.failure.messages.length > 0 ? messageText(d.failure.messages[0]) : '';
  return `  bad   ${String(d?.type ?? 'unknown').padEnd(16)} ${first.length > 160 ? `${first.slice(0, 160)}…` : first}`;
}

/**
 * Prints one line per row, at most `perSecond` a second: under load the rest are counted and summed up once a
 * second. The events page and the API keep the latest `kept` rows of each stream, so the summary says that much
 * and no more.
 */
export function rowPrinter(print: (line: string) => void, perSecond = 20, now: () => number = Date.now, kept = 10000): (o: EnrichOutcome) => void {
  let windowStart = 0;
  let printed = 0;
  let skipped = 0;
  let timer: NodeJS.Timeout | null = null;
  const flush = (): void => {
    timer = null;
    if (skipped > 0) print(`  … and ${skipped} more not printed (the events page keeps the latest ${kept.toLocaleString('en-US')} good and ${kept.toLocaleString('en-US')} bad rows)`);
    skipped = 0;
  };
  return (o) => {
    const t = now();
    if (t - windowStart >= 1000) {
      if (timer !== null) {
        clearTimeout(timer);
        flush();
      }
      windowStart = t;
      printed = 0;
    }
    if (printed < perSecond) {
      printed++;
      print(outcomeLine(o));
      return;
    }
    skipped++;
    timer ??= setTimeout(flush, Math.max(0, windowStart + 1000 - t)).unref();
  };
}

function displayHost(host: string): string {
  return host === '127.0.0.1' || host === '0.0.0.0' || host === '::' || host === '::1' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
}

/** Starts local mode; resolves once it listens. */
export async function startLocal(start: StartOptions = {}): Promise<LocalRuntime> {
  const env = start.env ?? process.env;
  const print = start.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const scriptDir = process.argv[1] ? dirname(process.argv[1]) : process.cwd();
  let options: LocalOptions;
  try {
    options = resolveOptions({ argv: start.argv ?? process.argv.slice(2), env, cwd: process.cwd(), scriptDir, exists: existsSync });
  } catch (e) {
    throw new StartError((e as Error).message, e instanceof UsageError && e.help ? 0 : 64);
  }
  let config;
  try {
    config = { ...loadConfig(env, { defaults: LOCAL_DEFAULTS }).config, port: options.port, host: options.host };
  } catch (e) {
    throw new StartError(e instanceof ConfigError ? e.message : String(e), 78);
  }
  const logger = createLogger({ level: config.logLevel });
  let udf;
  try {
    udf = loadUdf(options.udfPath);
  } catch (e) {
    throw new StartError(e instanceof UdfLoadError ? e.message : String(e), 66);
  }
  if (!existsSync(options.siteDir)) print(`warning: the demo site folder ${options.siteDir} does not exist (--site / WAYMARK_LOCAL_SITE): / answers 404`);
  if (!existsSync(options.trackerPath)) print(`warning: the tracker bundle ${options.trackerPath} does not exist (--tracker / WAYMARK_LOCAL_TRACKER): run \`npm run build\``);

  const store = new EventStore(options.maxEvents);
  const onRow = rowPrinter(print, 20, Date.now, options.maxEvents);
  const holder: UdfHolder = { current: udf, rebuild: parentRebuild() };
  // The registry of /micro/iglu/: the built-ins and the folders the UDF was built for, read again on every request
  // (a schema fixed on disk is served as it is now).
  const schemaDirs = [...(existsSync(BUILTIN_SCHEMAS_DIR) ? [BUILTIN_SCHEMAS_DIR] : []), ...options.schemaDirs];
  const registry = () => loadRegistry(schemaDirs, { builtins: false });
  let emulator: Emulator | null = null;
  let pipeline: PubSubPipeline | null = null;
  let sink: Sink;
  let source: RowSource;
  if (options.mode === 'pubsub') {
    try {
      emulator = await ensureEmulator({ externalHost: options.emulatorHost, dataDir: options.dataDir, path: env.PATH, log: print });
    } catch (e) {
      throw new StartError(e instanceof EmulatorError ? e.message : String(e), 69);
    }
    // The Pub/Sub client reads the emulator's address from the environment; the emulator needs no credentials, so
    // the client need not probe for a Compute Engine metadata server (which warns on a laptop).
    process.env.PUBSUB_EMULATOR_HOST = emulator.host;
    process.env.METADATA_SERVER_DETECTION ??= 'none';
    if (emulator.pgid !== null) print(`Pub/Sub emulator ready on ${emulator.host} (process group ${emulator.pgid}; stopped with local mode)`);
    try {
      pipeline = await startPubSubPipeline({ projectId: options.projectId, dataDir: options.dataDir, udf, store, logger, onRow, print, enricherPath: options.push ? options.enricherPath : undefined });
    } catch (e) {
      await emulator.stop();
      throw new StartError(`cannot set up the topics and subscriptions on the emulator ${emulator.host}: ${describeError(e).error}`, 69);
    }
    sink = pipeline.sink;
    source = pipeline.source;
  } else {
    sink = new EnrichingSink(holder, store, onRow);
    source = memorySource(store, holder);
  }

  const collector = createCollector({
    config,
    sink,
    logger,
    // Inspection API first: the demo site's route is a catch-all.
    extraRoutes: [...inspectionRoutes(source, { registry }), ...staticRoutes({ siteDir: options.siteDir, trackerPath: options.trackerPath })],
  });
  let port: number;
  try {
    port = (await collector.listen(options.port, options.host)).port;
  } catch (e) {
    await pipeline?.stop(0);
    await emulator?.stop();
    const code = (e as NodeJS.ErrnoException).code;
    throw new StartError(
      code === 'EADDRINUSE'
        ? `port ${options.port} on ${options.host} is in use: stop what uses it, or choose another port with --port N (npm start -- --port ${options.port + 1}); --port 0 picks a free one`
        : `cannot listen on ${options.host}:${options.port}: ${(e as Error).message}`,
      69,
    );
  }
  const url = `http://${displayHost(options.host)}:${port}/`;

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      const drained = await collector.shutdown();
      if (drained.remaining > 0) print(`warning: ${drained.remaining} events could not be handed to the sink before the drain timeout`);
      if (pipeline !== null) {
        const { pending } = await pipeline.stop();
        if (pending > 0) print(`warning: ${pending} published events were not enriched before stopping`);
      }
      if (emulator !== null && emulator.pgid !== null) {
        await emulator.stop();
        print('Pub/Sub emulator stopped.');
      }
    })();
    return stopping;
  };

  const base = url.replace(/\/$/, '');
  print('');
  print(`Waymark local is running: ${url}`);
  print('');
  print(`  demo site        ${url}`);
  print(`  events page      ${base}/micro/ui`);
  print(`  inspection API   ${base}/micro/all  /micro/good  /micro/bad  /micro/events  /micro/timeline  /micro/reset`);
  print(`  schemas (Iglu)   ${base}/micro/iglu/<vendor>/<name>/jsonschema/<version>`);
  print(`  collector        ${base}/com.snowplowanalytics.snowplow/tp2  (also /i)`);
  if (options.mode === 'pubsub' && options.push) {
    print(`  enrichment       Pub/Sub emulator ${emulator?.host} (topic ${TOPICS.raw}) → push → enricher service ${options.enricherPath} → topics ${TOPICS.enriched}, ${TOPICS.bad} → ${options.dataDir}`);
  } else if (options.mode === 'pubsub') {
    print(`  enrichment       Pub/Sub emulator ${emulator?.host} (topic ${TOPICS.raw}) → local enricher → ${options.dataDir}`);
  } else {
    print(`  enrichment       in-process, ${options.udfPath}`);
  }
  print('');
  print('Press Ctrl-C to stop. Events appear below as they are enriched:');
  return { url, port, options, collector, emulator, stop };
}

/**
 * When `npm start` runs this bundle, it listens on an IPC channel and rebuilds the enrichment UDF from the schema
 * folders on request (a replay after a schema was fixed); the answer is the path of the UDF to load. Without that
 * parent there is nothing to rebuild with: a replay uses the UDF in use.
 */
function parentRebuild(): (() => Promise<Udf>) | undefined {
  if (typeof process.send !== 'function') return undefined;
  let next = 0;
  const waiting = new Map<number, { resolve: (path: string) => void; reject: (e: Error) => void }>();
  process.on('message', (m: unknown) => {
    const msg = m as { type?: unknown; id?: unknown; path?: unknown; message?: unknown };
    const w = typeof msg.id === 'number' ? waiting.get(msg.id) : undefined;
    if (w === undefined) return;
    waiting.delete(msg.id as number);
    if (msg.type === 'waymark:udf' && typeof msg.path === 'string') w.resolve(msg.path);
    else w.reject(new Error(typeof msg.message === 'string' ? msg.message : 'the UDF rebuild failed'));
  });
  // The channel must not keep the process alive (it stops on a signal, like without a parent).
  process.channel?.unref();
  return async () => {
    const id = ++next;
    const path = await new Promise<string>((resolve, reject) => {
      waiting.set(id, { resolve, reject });
      process.send!({ type: 'waymark:rebuild-udf', id }, undefined, {}, (e) => {
        if (e) {
          waiting.delete(id);
          reject(e);
        }
      });
    });
    return loadUdf(path);
  };
}

/** Runs local mode until SIGINT/SIGTERM. */
export async function main(): Promise<void> {
  let runtime: LocalRuntime;
  try {
    runtime = await startLocal();
  } catch (e) {
    const code = e instanceof StartError ? e.exitCode : 1;
    if (code === 0) process.stdout.write(`${(e as Error).message}\n`);
    else process.stderr.write(`waymark local: ${(e as Error).message}\n`);
    process.exit(code);
  }
  let firstSignal = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    const now = Date.now();
    if (firstSignal !== 0) {
      // A signal relayed by npm/tsx arrives together with the terminal's: only a later one forces the exit.
      if (now - firstSignal > 1500) {
        process.stderr.write('waymark local: stopping now\n');
        process.exit(130); // the emulator's process group is killed by its exit handler
      }
      return;
    }
    firstSignal = now;
    process.stdout.write(`\nStopping (${signal}) …\n`);
    const force = setTimeout(() => {
      process.stderr.write('waymark local: did not stop within 30 s, exiting\n');
      process.exit(1);
    }, 30000);
    force.unref();
    runtime.stop().then(
      () => {
        process.stdout.write('Stopped.\n');
        process.exit(0);
      },
      (e: unknown) => {
        process.stderr.write(`waymark local: error while stopping: ${describeError(e).error}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('uncaughtException', (e) => {
    process.stderr.write(`waymark local: unexpected error: ${describeError(e).error}\n`);
    onSignal('SIGTERM');
  });
}

if (require.main === module) {
  void main();
}
