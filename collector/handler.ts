/**
 * The collector as an exported HTTP handler, for Cloud Functions gen2 (entry point `collect`) and App Engine / any
 * Express-style host. Configuration comes from the environment like the standalone server, except that `ackMode`
 * defaults to `delivered`: serverless instances may be frozen right after answering, so the handler answers 2xx only
 * once the sink has the events.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ConfigError, loadConfig } from './config';
import { createLogger, describeError } from './log';
import { Collector, CollectorOptions, createCollector, RequestHandler } from './server';

/** Defaults of the exported handler that differ from the standalone server's. */
export const HANDLER_DEFAULTS: Readonly<Record<string, unknown>> = { ackMode: 'delivered' };

/** Builds a collector for hosting platforms; its `handler` is the `(req, res)` function to export. */
export function createHandlerCollector(options: CollectorOptions = {}, env: Readonly<Record<string, string | undefined>> = process.env): Collector {
  if (options.config !== undefined) return createCollector(options);
  const loaded = loadConfig(env, { defaults: HANDLER_DEFAULTS });
  const collector = createCollector({ ...options, config: loaded.config });
  for (const w of loaded.warnings) collector.logger.warn(w);
  return collector;
}

/** A `(req, res)` handler with its own collector (configuration from the environment unless given). */
export function createHandler(options: CollectorOptions = {}): RequestHandler {
  return createHandlerCollector(options).handler;
}

let shared: Collector | null = null;
let configProblem: string | null = null;

/**
 * Cloud Functions gen2 entry point (`--entry-point=collect`): the collector is created on the first request from
 * the environment. A configuration error is logged (naming the settings) and answered 500 until it is fixed.
 */
export function collect(req: IncomingMessage, res: ServerResponse): void {
  if (shared === null && configProblem === null) {
    try {
      shared = createHandlerCollector();
      shared.logger.info('collector handler ready', { sink: shared.sink.kind, ackMode: shared.config.ackMode });
    } catch (err) {
      configProblem = err instanceof ConfigError ? err.message : describeError(err).error;
      createLogger().error(configProblem);
    }
  }
  if (shared === null) {
    res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('collector misconfigured (see logs)');
    return;
  }
  shared.handler(req, res);
}
