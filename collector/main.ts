/**
 * Standalone collector: `PORT=8080 node collector.js`. Reads the configuration from the environment (and
 * WAYMARK_CONFIG_FILE), listens on PORT, drains and exits on SIGTERM/SIGINT.
 *
 * The same bundle also exports the Cloud Functions handler (`exports.collect`); it starts a server only when run
 * directly with node, not when a hosting platform loads it as a module.
 */
import cluster from 'node:cluster';
import { planWorkers, runPrimary, workerHealth, type ClusterMessage } from './cluster';
import { ConfigError, loadConfig } from './config';
import { createLogger, describeError } from './log';
import { Collector, createCollector } from './server';
import { COLLECTOR_VERSION } from './version';

export { collect, createHandler, createHandlerCollector } from './handler';
export { createCollector } from './server';
export type { Collector, CollectorOptions, RequestHandler, ShutdownResult } from './server';
export { loadConfig, ConfigError, SETTINGS } from './config';
export type { CollectorConfig } from './config';
export { MemorySink } from './sinks/memory';
export type { Sink, SinkRecord } from './sinks/types';
export type { ExtraRoute } from './routes';

/** Starts the standalone server; resolves once it listens. */
export async function main(env: Readonly<Record<string, string | undefined>> = process.env): Promise<Collector> {
  let loaded;
  try {
    loaded = loadConfig(env);
  } catch (err) {
    const log = createLogger();
    log.error(err instanceof ConfigError ? err.message : `cannot load configuration: ${describeError(err).error}`);
    process.exitCode = 78; // EX_CONFIG
    throw err;
  }
  const { config } = loaded;
  // In the multi-process mode every line says which worker wrote it; the primary has logged the warnings already.
  const worker = cluster.isWorker ? cluster.worker!.id : undefined;
  const logger = createLogger({ level: config.logLevel, fields: { worker } });
  if (loaded.sinkDefaulted && worker === undefined) {
    logger.warn('no sink configured: writing events to stdout (set WAYMARK_SINK=pubsub with WAYMARK_PUBSUB_GOOD_TOPIC and WAYMARK_PUBSUB_BAD_TOPIC for production, or file/memory)', { sink: 'stdout' });
  }
  if (worker === undefined) for (const w of loaded.warnings) logger.warn(w);
  const collector = createCollector({ config, logger, instanceHealth: worker === undefined ? undefined : workerHealth() });
  // A sink that cannot work (unwritable folder, unreachable Pub/Sub, missing topic) stops the start, saying why:
  // starting "healthy" would answer 200 to events that can never be written.
  if (collector.sink.check !== undefined) {
    try {
      await collector.sink.check();
    } catch (err) {
      logger.error(`cannot start: ${err instanceof Error ? err.message : String(err)}`, { sink: collector.sink.kind });
      process.exitCode = 1;
      throw err;
    }
  }
  let address;
  try {
    address = await collector.listen();
  } catch (err) {
    // EADDRINUSE, EACCES…: say why, instead of exiting with nothing in the log.
    logger.error(`cannot listen on port ${config.port}`, describeError(err));
    process.exitCode = 1;
    throw err;
  }
  if (worker !== undefined) process.send?.({ waymark: 'listening', port: address.port, host: address.address } satisfies ClusterMessage);
  logger.info(worker === undefined ? 'collector listening' : 'worker listening', {
    pid: process.pid,
    port: address.port,
    host: address.address,
    sink: collector.sink.kind,
    ackMode: config.ackMode,
    debugEndpoints: config.debugEndpoints,
    configSources: loaded.sources.join(', '),
    version: COLLECTOR_VERSION,
  });

  // A reader going away (EPIPE on stdout/stderr) must not become an uncaught exception: log lines are then lost,
  // and the stdout sink sees the error through its write callback and retries (its events stay buffered).
  process.stdout.on('error', () => {});
  process.stderr.on('error', () => {});

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info('signal received: stopping', { signal });
    collector.shutdown().then(
      (r) => process.exit(r.remaining > 0 ? 1 : 0),
      (err: unknown) => {
        logger.error('shutdown failed', describeError(err));
        process.exit(1);
      },
    );
  };
  // `on`, not `once`: a second signal (npm forwarding SIGTERM to its script while the platform signals the whole
  // process group, an impatient Ctrl-C) must not fall through to the default action and cut the drain short.
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  let uncaught = 0;
  process.on('uncaughtException', (err) => {
    // Report the first few only: a failure that repeats must not turn into a busy loop of logging.
    if (++uncaught <= 3) logger.error('uncaught exception: stopping', describeError(err));
    stop('uncaughtException');
  });
  process.on('unhandledRejection', (err) => {
    logger.error('unhandled rejection', describeError(err));
  });
  return collector;
}

/**
 * The standalone entry: one collector process, or (WAYMARK_WORKERS, see cluster.ts) a primary that runs one per core.
 * The configuration is checked in the primary first, so its errors and warnings are reported once.
 */
export async function start(env: Readonly<Record<string, string | undefined>> = process.env): Promise<void> {
  if (cluster.isPrimary) {
    let loaded;
    let plan;
    try {
      loaded = loadConfig(env);
      plan = planWorkers(env, loaded.config.sink.type, undefined, undefined, loaded.config.debugEndpoints);
    } catch (err) {
      // main() reports configuration errors (once, with the exit code 78).
      if (err instanceof ConfigError) return void (await main(env));
      createLogger().error((err as Error).message);
      process.exit(78);
    }
    if (plan.workers > 1) {
      const logger = createLogger({ level: loaded.config.logLevel, fields: { worker: 'primary' } });
      for (const w of loaded.warnings) logger.warn(w);
      process.stdout.on('error', () => {});
      process.stderr.on('error', () => {});
      process.exit(await runPrimary(plan, logger));
    }
  }
  await main(env);
}

// Run when started with node (`node collector.js`, `tsx collector/main.ts`), not when loaded by a host as a module.
if (require.main === module && process.env.FUNCTION_TARGET === undefined) {
  start().catch(() => {
    process.exit(process.exitCode ?? 1);
  });
}
