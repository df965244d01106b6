/**
 * The enricher service entry (bundled to `enricher.js`, node target): `PORT=8080 node enricher.js`. The schema
 * registry's compiled validators and the enrichment configuration are the same virtual modules the Dataflow UDF is
 * built with (lib/private/runtime-bundles.ts), so both paths enrich with the same code and the same data.
 *
 * Environment:
 * - `WAYMARK_ENRICHED_TOPIC`, `WAYMARK_BAD_TOPIC` (required): `projects/<p>/topics/<t>`.
 * - `WAYMARK_PUSH_AUDIENCE`, `WAYMARK_PUSH_SERVICE_ACCOUNT` (required unless `WAYMARK_PUSH_AUTH=off`): the
 *   audience and the service account email of the push subscriptions' OIDC tokens.
 * - `WAYMARK_PUSH_JWKS_URL`: where the token signing keys are read (default Google's certs, oidc.ts).
 * - `WAYMARK_PUSH_AUTH=off`: accept unauthenticated pushes (the emulator sends no token). Refused unless
 *   PUBSUB_EMULATOR_HOST is set, so a deployment cannot run open by mistake.
 * - `WAYMARK_ROW_SINK`: `bigquery-subscription` (default) or `dataflow` (sink-format.ts).
 * - `WAYMARK_MAX_CONCURRENCY` (default 64), `PORT` (default 8080), `PUBSUB_EMULATOR_HOST`, `WAYMARK_PUBSUB_API`
 *   (default https://pubsub.googleapis.com), `WAYMARK_DRAIN_SECONDS` (default 8: Cloud Run allows 10 after SIGTERM).
 */
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { validators } from 'waymark:validators';
import config from 'waymark:config';
import { createEnricher } from '../enrich';
import { createSinkFormat, ROW_SINKS, RowSink } from '../sink-format';
import type { ColumnShapes } from '../warehouse';
import { createLogger, describeError } from './log';
import { GOOGLE_CERTS_URL, googleJwksSource, PushAuthenticator } from './oidc';
import { metadataTokenSource, Publisher } from './publisher';
import { EnricherService } from './service';

export class ServiceConfigError extends Error {}

const TOPIC = /^projects\/[a-z][a-z0-9-]{4,28}[a-z0-9]\/topics\/[A-Za-z][A-Za-z0-9._~%+-]{2,254}$/;

export interface ServiceSettings {
  readonly port: number;
  readonly enrichedTopic: string;
  readonly badTopic: string;
  readonly sink: RowSink;
  readonly auth: { readonly audience: string; readonly serviceAccountEmail: string; readonly jwksUrl: string } | null;
  readonly maxConcurrency: number;
  readonly apiRoot: string;
  readonly emulator: boolean;
  readonly drainMs: number;
}

/** Reads and checks the settings; throws ServiceConfigError naming the variable. */
export function readSettings(env: Readonly<Record<string, string | undefined>>): ServiceSettings {
  const need = (name: string): string => {
    const v = env[name];
    if (!v) throw new ServiceConfigError(`${name} is not set`);
    return v;
  };
  const int = (name: string, dflt: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return dflt;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new ServiceConfigError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
    return n;
  };
  const topic = (name: string): string => {
    const t = need(name);
    if (!TOPIC.test(t)) throw new ServiceConfigError(`${name} must be projects/<project>/topics/<topic>, got ${JSON.stringify(t)}`);
    return t;
  };
  const emulatorHost = env.PUBSUB_EMULATOR_HOST;
  const sink = (env.WAYMARK_ROW_SINK || 'bigquery-subscription') as RowSink;
  if (!ROW_SINKS.includes(sink)) throw new ServiceConfigError(`WAYMARK_ROW_SINK must be one of ${ROW_SINKS.join(', ')}, got ${JSON.stringify(sink)}`);
  let auth: ServiceSettings['auth'];
  if (env.WAYMARK_PUSH_AUTH === 'off') {
    if (!emulatorHost) throw new ServiceConfigError('WAYMARK_PUSH_AUTH=off is for the Pub/Sub emulator only (set PUBSUB_EMULATOR_HOST); a deployment must verify the push OIDC token');
    auth = null;
  } else {
    auth = { audience: need('WAYMARK_PUSH_AUDIENCE'), serviceAccountEmail: need('WAYMARK_PUSH_SERVICE_ACCOUNT'), jwksUrl: env.WAYMARK_PUSH_JWKS_URL || GOOGLE_CERTS_URL };
  }
  return {
    port: int('PORT', 8080, 0, 65535),
    enrichedTopic: topic('WAYMARK_ENRICHED_TOPIC'),
    badTopic: topic('WAYMARK_BAD_TOPIC'),
    sink,
    auth,
    maxConcurrency: int('WAYMARK_MAX_CONCURRENCY', 64, 1, 10000),
    apiRoot: emulatorHost ? `http://${emulatorHost}` : (env.WAYMARK_PUBSUB_API || 'https://pubsub.googleapis.com'),
    emulator: Boolean(emulatorHost),
    drainMs: int('WAYMARK_DRAIN_SECONDS', 8, 0, 3600) * 1000,
  };
}

export interface RunningService {
  readonly server: Server;
  readonly service: EnricherService;
  readonly port: number;
  stop(): Promise<void>;
}

/** Starts the service (used by the bundle's main and by tests that load it in-process). */
export async function start(env: Readonly<Record<string, string | undefined>> = process.env): Promise<RunningService> {
  const logger = createLogger();
  let settings: ServiceSettings;
  try {
    settings = readSettings(env);
  } catch (e) {
    logger.error(`cannot start: ${(e as Error).message}`);
    process.exitCode = 78;
    throw e;
  }
  const enricher = createEnricher({ validators, config });
  const format = createSinkFormat(settings.sink, (enricher.config as unknown as { shapes: ColumnShapes | null }).shapes);
  const publisher = new Publisher({ apiRoot: settings.apiRoot, token: settings.emulator ? () => Promise.resolve(null) : metadataTokenSource() });
  const auth = settings.auth ? new PushAuthenticator({ ...settings.auth, jwks: googleJwksSource(settings.auth.jwksUrl) }) : null;
  const service = new EnricherService({
    enricher,
    format,
    publisher,
    enrichedTopic: settings.enrichedTopic,
    badTopic: settings.badTopic,
    auth,
    maxConcurrency: settings.maxConcurrency,
    logger,
  });
  const server = createServer({ keepAliveTimeout: 620000 }, service.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  logger.info('enricher listening', { port, sink: settings.sink, auth: auth ? 'oidc' : 'off', maxConcurrency: settings.maxConcurrency, enrichedTopic: settings.enrichedTopic, badTopic: settings.badTopic });
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      const closed = new Promise<void>((r) => server.close(() => r()));
      const { unfinished } = await service.drain(settings.drainMs);
      publisher.close();
      server.closeIdleConnections();
      await Promise.race([closed, new Promise((r) => setTimeout(r, 500).unref())]);
      logger.info('enricher stopped', { ...service.stats, unfinished });
    })();
    return stopping;
  };
  return { server, service, port, stop };
}

if (require.main === module) {
  process.stdout.on('error', () => {});
  start().then(
    (running) => {
      const onSignal = (signal: string): void => {
        createLogger().info('signal received: draining', { signal });
        running.stop().then(() => process.exit(running.service.stats.inFlight > 0 ? 1 : 0), () => process.exit(1));
      };
      process.on('SIGTERM', () => onSignal('SIGTERM'));
      process.on('SIGINT', () => onSignal('SIGINT'));
    },
    (e: unknown) => {
      if (!(e instanceof ServiceConfigError)) createLogger().error('cannot start', describeError(e));
      process.exit(process.exitCode || 1);
    },
  );
}
