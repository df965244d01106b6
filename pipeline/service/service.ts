/**
 * The enricher service's HTTP shell around the enrichment core: Pub/Sub push deliveries in, enriched rows and bad
 * rows out to two topics.
 *
 * Routes:
 * - `POST /push`: a delivery of the raw subscription (`{"message": {"data": <base64>, "attributes", "messageId"},
 *   "subscription"}`, https://cloud.google.com/pubsub/docs/push#receive_push). The message is enriched; the good row goes
 *   to the enriched topic, a bad row to the bad topic, each in the form its sink takes (sink-format.ts). The answer
 *   is 204 only after Pub/Sub acknowledged that publish; any failure answers 503 and Pub/Sub redelivers the message.
 * - `POST /dead-letter`: a delivery of the dead-letter topic, where Pub/Sub forwards an enriched row the events
 *   table's BigQuery subscription could not write. It becomes a bad row in the bad topic, hence the bad-rows table,
 *   whose message gives BigQuery's reason (the `CloudPubSubDeadLetterSourceDeliveryErrorMessage` attribute), the
 *   subscription and the number of attempts; the forwarding attributes are kept with the original message too.
 * - `GET /health`: 200 while serving, 503 once draining.
 *
 * Every push request must carry the subscription's OIDC token (oidc.ts) unless authentication is off (the emulator,
 * which sends none). At most `maxConcurrency` deliveries are worked on at once; more answer 429 and Pub/Sub retries
 * them with its backoff. `drain()` (SIGTERM) stops taking deliveries, finishes those in hand and their publishes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Enricher } from '../enrich';
import type { SinkFormat, SourceMessage } from '../sink-format';
import { badRow, rawPayload } from '../badrow';
import { formatTimestamp } from '../time';
import { describeError, Logger } from './log';
import type { PushAuthenticator } from './oidc';

export interface Publish {
  publish(topic: string, data: string, attributes?: Readonly<Record<string, string>>): Promise<void>;
  flushAll(): Promise<void>;
}

export interface EnricherServiceOptions {
  readonly enricher: Enricher;
  readonly format: SinkFormat;
  readonly publisher: Publish;
  /** `projects/<p>/topics/<t>` of the good rows. */
  readonly enrichedTopic: string;
  /** `projects/<p>/topics/<t>` of the bad rows. */
  readonly badTopic: string;
  /** Null turns authentication off (emulator only). */
  readonly auth: PushAuthenticator | null;
  /** Deliveries worked on at once. @default 64 */
  readonly maxConcurrency?: number;
  /** Largest push body accepted (Pub/Sub messages are at most 10 MB, base64 makes that ~13.4 MB). @default 16 MiB */
  readonly maxBodyBytes?: number;
  readonly logger: Logger;
  /** @default Date.now */
  readonly clock?: () => number;
}

export interface ServiceStats {
  received: number;
  good: number;
  bad: number;
  deadLettered: number;
  rejected: number;
  failed: number;
  busy: number;
  inFlight: number;
}

interface PushMessage {
  readonly text: string;
  readonly attributes: Record<string, string>;
  readonly messageId: string;
}

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const SOURCE_ATTRIBUTE_LIMIT = 100;
/** The attribute with BigQuery's reason on a message a BigQuery subscription dead-lettered. */
export const DEAD_LETTER_REASON_ATTRIBUTE = 'CloudPubSubDeadLetterSourceDeliveryErrorMessage';

function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        reject(new HttpError(413, `the push body is larger than ${max} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Parses a push envelope; throws HttpError 400 naming what is wrong. */
export function parsePushEnvelope(body: Buffer): PushMessage {
  let envelope: unknown;
  try {
    envelope = JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'the body is not JSON: expected a Pub/Sub push envelope {"message": {"data": …}}');
  }
  const message = (envelope as { message?: unknown } | null)?.message as { data?: unknown; attributes?: unknown; messageId?: unknown; message_id?: unknown } | undefined;
  if (!message || typeof message !== 'object') throw new HttpError(400, 'the push envelope has no "message" object');
  if (message.data !== undefined && typeof message.data !== 'string') throw new HttpError(400, 'message.data must be a base64 string');
  const attributes: Record<string, string> = {};
  if (message.attributes !== undefined && message.attributes !== null) {
    if (typeof message.attributes !== 'object') throw new HttpError(400, 'message.attributes must be an object');
    for (const [k, v] of Object.entries(message.attributes as Record<string, unknown>).slice(0, SOURCE_ATTRIBUTE_LIMIT)) attributes[k] = String(v);
  }
  const id = message.messageId ?? message.message_id;
  return { text: Buffer.from((message.data as string | undefined) ?? '', 'base64').toString('utf8'), attributes, messageId: typeof id === 'string' ? id : '' };
}

export class EnricherService {
  readonly stats: ServiceStats = { received: 0, good: 0, bad: 0, deadLettered: 0, rejected: 0, failed: 0, busy: 0, inFlight: 0 };
  private draining = false;
  private idle: Array<() => void> = [];
  private readonly maxConcurrency: number;
  private readonly maxBodyBytes: number;
  private readonly clock: () => number;

  constructor(private readonly options: EnricherServiceOptions) {
    this.maxConcurrency = options.maxConcurrency ?? 64;
    this.maxBodyBytes = options.maxBodyBytes ?? 16 * 1024 * 1024;
    this.clock = options.clock ?? Date.now;
  }

  /** The node:http request listener. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/health' && (req.method === 'GET' || req.method === 'HEAD')) {
      this.answer(res, this.draining ? 503 : 200, this.draining ? 'draining' : 'ok');
      return;
    }
    if (path !== '/push' && path !== '/dead-letter') {
      this.answer(res, 404, `no route ${path}: push deliveries go to POST /push and POST /dead-letter, health to GET /health`);
      return;
    }
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      this.answer(res, 405, `${path} takes POST`);
      return;
    }
    if (this.draining) {
      res.setHeader('connection', 'close');
      this.answer(res, 503, 'draining: Pub/Sub will redeliver to another instance');
      return;
    }
    if (this.stats.inFlight >= this.maxConcurrency) {
      this.stats.busy++;
      req.resume();
      res.setHeader('retry-after', '1');
      this.answer(res, 429, `busy: ${this.maxConcurrency} deliveries in hand`);
      return;
    }
    this.stats.inFlight++;
    this.work(req, path === '/dead-letter')
      .then(
        () => {
          res.writeHead(204);
          res.end();
        },
        (e: unknown) => {
          if (e instanceof HttpError) {
            if (e.status === 401 || e.status === 403) this.stats.rejected++;
            this.options.logger.warn('push delivery refused', { status: e.status, reason: e.message });
            this.answer(res, e.status, e.message);
          } else {
            this.stats.failed++;
            this.options.logger.error('push delivery failed: Pub/Sub will redeliver it', describeError(e));
            this.answer(res, 503, 'could not publish the result; the delivery will be retried');
          }
        },
      )
      .finally(() => {
        this.stats.inFlight--;
        if (this.stats.inFlight === 0) for (const f of this.idle.splice(0)) f();
      });
  };

  private async work(req: IncomingMessage, deadLetter: boolean): Promise<void> {
    const [body, auth] = await Promise.all([
      readBody(req, this.maxBodyBytes),
      this.options.auth ? this.options.auth.verify(req.headers.authorization) : Promise.resolve(null),
    ]);
    if (auth && !auth.ok) throw new HttpError(auth.status, auth.reason);
    const message = parsePushEnvelope(body);
    this.stats.received++;
    const source: SourceMessage = { data: message.text, attributes: message.attributes };
    if (deadLetter) {
      await this.publishBad(this.refusedRow(message), source);
      this.stats.deadLettered++;
      return;
    }
    const result = this.options.enricher.enrich(message.text);
    if (result.row !== undefined) {
      const formatted = this.options.format.formatRow(result.row);
      if (formatted.text !== undefined) {
        await this.options.publisher.publish(this.options.enrichedTopic, formatted.text);
        this.stats.good++;
        return;
      }
      await this.publishBad(badRow('enrichment_failures', [{ enrichment: 'sink_format', message: `the row does not fit the events table: ${formatted.refused}` }], this.now(), rawPayload(message.text)), source);
      return;
    }
    await this.publishBad(result.badRow, source);
  }

  private async publishBad(bad: unknown, source: SourceMessage): Promise<void> {
    await this.options.publisher.publish(this.options.badTopic, this.options.format.formatBadRow(bad, source, this.clock()));
    this.stats.bad++;
    // One line per bad row, after its publish: PipelineMonitoring's log-based metric counts these by failure_type.
    this.options.logger.info('bad row', { failure_type: (bad as { data?: { type?: string } }).data?.type ?? 'unknown' });
  }

  /**
   * The bad row for a message the events table's BigQuery subscription gave up on (dead-letter topic), with BigQuery's
   * reason. The dead-letter topic "captures messages that couldn't be written to BigQuery, along with an attribute
   * called CloudPubSubDeadLetterSourceDeliveryErrorMessage that explains the failure reason"
   * (https://cloud.google.com/pubsub/docs/bigquery-troubleshooting); the source subscription and the delivery count
   * are Pub/Sub's forwarding attributes (https://cloud.google.com/pubsub/docs/handling-failures).
   */
  private refusedRow(message: PushMessage): unknown {
    const a = message.attributes;
    const reason = a[DEAD_LETTER_REASON_ATTRIBUTE];
    const why = reason ? reason.substring(0, 2000) : `the reason was not given (the message has no ${DEAD_LETTER_REASON_ATTRIBUTE} attribute)`;
    const where = a.CloudPubSubDeadLetterSourceSubscription ? ` ${a.CloudPubSubDeadLetterSourceSubscription}` : '';
    const attempts = a.CloudPubSubDeadLetterSourceDeliveryCount ? ` after ${a.CloudPubSubDeadLetterSourceDeliveryCount} delivery attempts` : '';
    return badRow('generic_error', [{
      message: `BigQuery refused the enriched row: ${why}; the BigQuery subscription${where} could not write it${attempts} and Pub/Sub forwarded it to the dead-letter topic`,
    }], this.now(), rawPayload(message.text));
  }

  private now(): string {
    return formatTimestamp(this.clock()) ?? '';
  }

  private answer(res: ServerResponse, status: number, text: string): void {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(text + '\n');
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Stops taking deliveries; resolves when those in hand are answered and every publish is done (or on timeout). */
  async drain(timeoutMs = 8000): Promise<{ unfinished: number }> {
    this.draining = true;
    const idle = this.stats.inFlight === 0 ? Promise.resolve() : new Promise<void>((r) => this.idle.push(r));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([idle, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    await Promise.race([this.options.publisher.flushAll(), new Promise<void>((r) => setTimeout(r, 1000).unref())]);
    return { unfinished: this.stats.inFlight };
  }
}
