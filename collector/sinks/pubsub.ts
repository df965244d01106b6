/**
 * Pub/Sub sink: good records → the raw topic, bad rows → the bad topic (@google-cloud/pubsub).
 *
 * Batching is tuned for throughput (up to 1000 messages / 8 MB per publish request, 20 ms to fill one); the client's
 * own retries are bounded by `publishTimeoutMs` so that a failing publish comes back to the collector's buffer,
 * which retries it with backoff. Honours PUBSUB_EMULATOR_HOST.
 */
import { PubSub, Topic } from '@google-cloud/pubsub';
import type { SinkConfig } from '../config';
import type { Sink, SinkRecord } from './types';

type PubSubSinkConfig = Extract<SinkConfig, { type: 'pubsub' }>;

export class PubSubSink implements Sink {
  readonly kind = 'pubsub';
  private readonly client: PubSub;
  private readonly good: Topic;
  private readonly bad: Topic;

  constructor(private readonly config: PubSubSinkConfig) {
    // Reconnect within seconds after an outage (gRPC's default backoff grows to two minutes); google-gax passes
    // `grpc.*` options to the channel.
    const channelOptions: Record<string, number> = { 'grpc.max_reconnect_backoff_ms': 5000 };
    this.client = new PubSub({ ...(config.projectId === null ? {} : { projectId: config.projectId }), ...channelOptions });
    const timeout = config.publishTimeoutMs;
    const options = {
      batching: { maxMessages: config.batchMaxMessages, maxMilliseconds: config.batchMaxMilliseconds, maxBytes: config.batchMaxBytes },
      gaxOpts: {
        timeout,
        retry: {
          backoffSettings: {
            initialRetryDelayMillis: 100,
            retryDelayMultiplier: 2,
            maxRetryDelayMillis: Math.max(100, Math.min(5000, timeout / 4)),
            initialRpcTimeoutMillis: timeout,
            rpcTimeoutMultiplier: 1,
            maxRpcTimeoutMillis: timeout,
            totalTimeoutMillis: timeout,
          },
        },
      },
    };
    this.good = this.client.topic(config.goodTopic, options);
    this.bad = this.client.topic(config.badTopic, options);
  }

  async write(records: readonly SinkRecord[]): Promise<readonly SinkRecord[]> {
    const publishes = records.map((r) =>
      (r.stream === 'good' ? this.good : this.bad).publishMessage({ data: Buffer.from(r.data, 'utf8'), attributes: r.attributes as Record<string, string> }),
    );
    // A guard in case a publish never settles: the records are then retried (at-least-once; duplicates possible).
    let timer: NodeJS.Timeout | undefined;
    const guard = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.config.publishTimeoutMs + 5000);
    });
    const results = await Promise.race([Promise.allSettled(publishes), guard]);
    clearTimeout(timer);
    if (results === 'timeout') throw new Error(`publish did not settle within ${this.config.publishTimeoutMs + 5000} ms`);
    const failed: SinkRecord[] = [];
    let firstError: unknown;
    results.forEach((res, i) => {
      if (res.status === 'rejected') {
        failed.push(records[i]);
        firstError ??= res.reason;
      }
    });
    // Every record failed: reject, so the buffer logs what went wrong.
    if (failed.length === records.length && failed.length > 0) throw firstError;
    return failed;
  }

  /**
   * Asks Pub/Sub for each topic (one call, no retries, at most 10 s): unreachable (UNAVAILABLE, DEADLINE_EXCEEDED) or a
   * missing topic (NOT_FOUND) fails the start with the reason. PERMISSION_DENIED counts as reachable: the collector's
   * account usually holds only roles/pubsub.publisher on its topics, which has no pubsub.topics.get
   * (https://cloud.google.com/pubsub/docs/access-control#roles).
   */
  async check(): Promise<void> {
    const timeout = Math.min(10000, this.config.publishTimeoutMs);
    for (const topic of [this.good, this.bad]) {
      try {
        await topic.getMetadata({ timeout, retry: null } as never);
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (code === 7) continue; // PERMISSION_DENIED: Pub/Sub answered
        const what = code === 5 ? 'does not exist' : code === 14 || code === 4 ? `is unreachable (${(err as Error).message.slice(0, 200)})` : `cannot be checked (${(err as Error).message.slice(0, 200)})`;
        throw new Error(`pubsub sink: topic ${topic.name} ${what}`);
      }
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.good.flush(), this.bad.flush()]);
    await this.client.close();
  }
}
