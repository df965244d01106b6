/**
 * Publishes to Pub/Sub through its REST API (`POST /v1/projects/<p>/topics/<t>:publish`,
 * https://cloud.google.com/pubsub/docs/reference/rest/v1/projects.topics/publish) with Node's fetch: no client library
 * in the bundle. Messages published within one tick (or until a batch is full) go in one request per topic; each
 * caller's promise resolves only when Pub/Sub has acknowledged the request that carried its message (it answered with
 * message ids), and rejects when that request failed, so the push handler can answer non-2xx and Pub/Sub redelivers.
 *
 * Credentials: the access token of the service's own account from the metadata server (Cloud Run), cached until a
 * minute before it expires; none against the emulator (PUBSUB_EMULATOR_HOST), which takes plain HTTP.
 */

export interface PublisherOptions {
  /** API root, e.g. `https://pubsub.googleapis.com` or `http://localhost:8085` for the emulator. */
  readonly apiRoot: string;
  /** Returns an OAuth access token, or null for none (the emulator). */
  readonly token: () => Promise<string | null>;
  /** Most messages per request (the API allows 1,000). @default 500 */
  readonly maxMessages?: number;
  /** Most bytes of data per request (the API allows 10 MB). @default 4 MiB */
  readonly maxBytes?: number;
  /** Gives up on one request after this long. @default 30000 */
  readonly timeoutMs?: number;
}

interface Pending {
  readonly data: string;
  readonly attributes?: Readonly<Record<string, string>>;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

const OPEN = Buffer.from('{"messages":[');
const DATA = Buffer.from('{"data":"');
const NEXT_DATA = Buffer.from(',{"data":"');
const CLOSE_MESSAGE = Buffer.from('"}');
const CLOSE = Buffer.from(']}');

export class PublishError extends Error {
  constructor(message: string, readonly status?: number) {
    super(message);
    this.name = 'PublishError';
  }
}

export class Publisher {
  private readonly queues = new Map<string, { items: Pending[]; bytes: number; scheduled: boolean }>();
  private inFlight = new Set<Promise<void>>();
  private readonly maxMessages: number;
  private readonly maxBytes: number;
  /** Requests and messages Pub/Sub acknowledged, and failed requests. */
  readonly stats = { requests: 0, messages: 0, failures: 0 };

  constructor(private readonly options: PublisherOptions) {
    this.maxMessages = options.maxMessages ?? 500;
    this.maxBytes = options.maxBytes ?? 4 * 1024 * 1024;
  }

  /** Publishes `data` (text) to `topic` (`projects/<p>/topics/<t>`); resolves once Pub/Sub has acknowledged it. */
  publish(topic: string, data: string, attributes?: Readonly<Record<string, string>>): Promise<void> {
    return new Promise((resolve, reject) => {
      let q = this.queues.get(topic);
      if (!q) {
        q = { items: [], bytes: 0, scheduled: false };
        this.queues.set(topic, q);
      }
      const size = Buffer.byteLength(data, 'utf8');
      if (q.items.length > 0 && (q.items.length >= this.maxMessages || q.bytes + size > this.maxBytes)) this.flush(topic);
      q = this.queues.get(topic)!;
      q.items.push({ data, attributes, resolve, reject });
      q.bytes += size;
      if (!q.scheduled) {
        q.scheduled = true;
        setImmediate(() => this.flush(topic));
      }
    });
  }

  private flush(topic: string): void {
    const q = this.queues.get(topic);
    if (!q || q.items.length === 0) return;
    this.queues.set(topic, { items: [], bytes: 0, scheduled: false });
    const batch = q.items;
    const request = this.send(topic, batch).then(
      () => {
        this.stats.requests++;
        this.stats.messages += batch.length;
        for (const p of batch) p.resolve();
      },
      (e: unknown) => {
        this.stats.failures++;
        for (const p of batch) p.reject(e);
      },
    );
    this.inFlight.add(request);
    void request.finally(() => this.inFlight.delete(request));
  }

  private async send(topic: string, batch: readonly Pending[]): Promise<void> {
    const token = await this.options.token();
    // The body as bytes, assembled from the base64 pieces (ASCII), instead of one large JSON string that fetch
    // would encode again: the publish body is most of the bytes this service writes.
    const parts: Buffer[] = [OPEN];
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i];
      parts.push(i === 0 ? DATA : NEXT_DATA, Buffer.from(Buffer.from(p.data, 'utf8').toString('base64'), 'latin1'));
      parts.push(p.attributes ? Buffer.from(`","attributes":${JSON.stringify(p.attributes)}}`, 'utf8') : CLOSE_MESSAGE);
    }
    parts.push(CLOSE);
    const body = Buffer.concat(parts);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(`${this.options.apiRoot}/v1/${topic}:publish`, { method: 'POST', headers, body, signal: AbortSignal.timeout(this.options.timeoutMs ?? 30000) });
    const text = await res.text();
    if (!res.ok) throw new PublishError(`publish to ${topic} answered ${res.status}: ${text.slice(0, 300)}`, res.status);
    let ids: unknown;
    try {
      ids = (JSON.parse(text) as { messageIds?: unknown }).messageIds;
    } catch {
      ids = undefined;
    }
    if (!Array.isArray(ids) || ids.length !== batch.length) throw new PublishError(`publish to ${topic} acknowledged ${Array.isArray(ids) ? ids.length : 0} of ${batch.length} messages`);
  }

  /** Sends what is queued and waits for every request in flight. */
  async flushAll(): Promise<void> {
    for (const topic of [...this.queues.keys()]) this.flush(topic);
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }
}

/** Access tokens from the metadata server, cached until a minute before they expire. */
export function metadataTokenSource(root = 'http://metadata.google.internal/computeMetadata/v1'): () => Promise<string> {
  let cached: { token: string; expires: number } | null = null;
  let loading: Promise<string> | null = null;
  return () => {
    if (cached && Date.now() < cached.expires) return Promise.resolve(cached.token);
    loading ??= (async () => {
      try {
        const res = await fetch(`${root}/instance/service-accounts/default/token`, { headers: { 'Metadata-Flavor': 'Google' }, signal: AbortSignal.timeout(10000) });
        if (!res.ok) throw new PublishError(`the metadata server answered ${res.status} for an access token`);
        const t = (await res.json()) as { access_token: string; expires_in: number };
        cached = { token: t.access_token, expires: Date.now() + Math.max(0, t.expires_in - 60) * 1000 };
        return t.access_token;
      } finally {
        loading = null;
      }
    })();
    return loading;
  };
}
