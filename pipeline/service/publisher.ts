/**
 * Publishes to Pub/Sub through its REST API (`POST /v1/projects/<p>/topics/<t>:publish`,
 * https://cloud.google.com/pubsub/docs/reference/rest/v1/projects.topics/publish) with node:http(s) and a keep-alive
 * agent: no client library in the bundle, and none of fetch's per-request machinery (web streams, Headers, abort
 * signals), which cost more CPU per request than the HTTP exchange itself. Each caller's promise resolves only when
 * Pub/Sub has acknowledged the request that carried its message (it answered 2xx with one message id per message),
 * and rejects when that request failed, so the push handler can answer non-2xx and Pub/Sub redelivers.
 *
 * Batching: the messages of concurrent pushes go in one request per topic. A batch is sent on the next turn of the
 * event loop, unless `maxRequestsPerTopic` requests to that topic are already in flight: then it keeps filling until
 * one of them is answered (or the batch is full), so under load batches grow by themselves instead of requests
 * multiplying, and at low load nothing waits longer than one turn of the loop.
 *
 * Credentials: the access token of the service's own account from the metadata server (Cloud Run), cached until a
 * minute before it expires; none against the emulator (PUBSUB_EMULATOR_HOST), which takes plain HTTP.
 */
import { Agent as HttpAgent, IncomingMessage, request as httpRequest, RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

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
  /** Requests to one topic in flight at once before batches wait for one to be answered. @default 2 */
  readonly maxRequestsPerTopic?: number;
  /** Certificates (PEM) to trust for an https API root instead of the well-known CAs (a test server). */
  readonly ca?: string;
}

interface Pending {
  /** The message data, UTF-8. */
  readonly data: Buffer;
  readonly attributes?: Readonly<Record<string, string>>;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

interface TopicQueue {
  items: Pending[];
  bytes: number;
  scheduled: boolean;
  /** Requests to this topic not answered yet. */
  sending: number;
  readonly path: string;
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
  private readonly queues = new Map<string, TopicQueue>();
  private inFlight = new Set<Promise<void>>();
  private readonly maxMessages: number;
  private readonly maxBytes: number;
  private readonly maxRequestsPerTopic: number;
  private readonly timeoutMs: number;
  private readonly request: typeof httpRequest;
  private readonly target: RequestOptions;
  private readonly basePath: string;
  /** Requests and messages Pub/Sub acknowledged, and failed requests. */
  readonly stats = { requests: 0, messages: 0, failures: 0 };

  constructor(private readonly options: PublisherOptions) {
    this.maxMessages = options.maxMessages ?? 500;
    this.maxBytes = options.maxBytes ?? 4 * 1024 * 1024;
    this.maxRequestsPerTopic = options.maxRequestsPerTopic ?? 2;
    this.timeoutMs = options.timeoutMs ?? 30000;
    const url = new URL(options.apiRoot);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`the Pub/Sub API root must be http(s), got ${options.apiRoot}`);
    const secure = url.protocol === 'https:';
    // Keep-alive: one TCP (and TLS) connection serves many publishes. Idle sockets are closed after 30 s, before
    // a server would close them under us.
    const agentOptions = { keepAlive: true, maxSockets: 64, maxFreeSockets: 16, timeout: 30000, ...(options.ca ? { ca: options.ca } : {}) };
    this.request = secure ? (httpsRequest as unknown as typeof httpRequest) : httpRequest;
    this.target = { host: url.hostname, port: url.port || (secure ? 443 : 80), method: 'POST', agent: secure ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions) };
    this.basePath = url.pathname.replace(/\/+$/, '');
  }

  /** Publishes `data` (text) to `topic` (`projects/<p>/topics/<t>`); resolves once Pub/Sub has acknowledged it. */
  publish(topic: string, data: string, attributes?: Readonly<Record<string, string>>): Promise<void> {
    return new Promise((resolve, reject) => {
      let q = this.queues.get(topic);
      if (!q) {
        q = { items: [], bytes: 0, scheduled: false, sending: 0, path: `${this.basePath}/v1/${topic}:publish` };
        this.queues.set(topic, q);
      }
      const bytes = Buffer.from(data, 'utf8');
      if (q.items.length > 0 && (q.items.length >= this.maxMessages || q.bytes + bytes.length > this.maxBytes)) this.send(topic, q);
      q.items.push({ data: bytes, attributes, resolve, reject });
      q.bytes += bytes.length;
      if (!q.scheduled) {
        q.scheduled = true;
        setImmediate(() => {
          q!.scheduled = false;
          if (q!.sending < this.maxRequestsPerTopic) this.send(topic, q!);
        });
      }
    });
  }

  /** Sends what `q` holds in one request (nothing when empty). */
  private send(topic: string, q: TopicQueue): void {
    if (q.items.length === 0) return;
    const batch = q.items;
    q.items = [];
    q.bytes = 0;
    q.sending++;
    const request = this.post(topic, q.path, batch).then(
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
    void request.finally(() => {
      this.inFlight.delete(request);
      q.sending--;
      // What waited for this answer goes now (unless a turn of the loop is already due to send it).
      if (q.items.length > 0 && !q.scheduled && q.sending < this.maxRequestsPerTopic) this.send(topic, q);
    });
  }

  private async post(topic: string, path: string, batch: readonly Pending[]): Promise<void> {
    const token = await this.options.token();
    // The body as bytes, written once into a buffer of its exact size: the base64 of each message (ASCII) and the
    // JSON around it, instead of one large JSON string encoded again. It is most of the bytes this service writes.
    const tails: Array<Buffer | null> = [];
    let size = OPEN.length + CLOSE.length;
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i];
      const tail = p.attributes ? Buffer.from(`","attributes":${JSON.stringify(p.attributes)}}`, 'utf8') : null;
      tails.push(tail);
      size += (i === 0 ? DATA.length : NEXT_DATA.length) + 4 * Math.ceil(p.data.length / 3) + (tail ? tail.length : CLOSE_MESSAGE.length);
    }
    const body = Buffer.allocUnsafe(size);
    let at = OPEN.copy(body, 0);
    for (let i = 0; i < batch.length; i++) {
      at += (i === 0 ? DATA : NEXT_DATA).copy(body, at);
      at += body.write(batch[i].data.toString('base64'), at, 'latin1');
      at += (tails[i] ?? CLOSE_MESSAGE).copy(body, at);
    }
    at += CLOSE.copy(body, at);
    if (at !== size) throw new Error(`publish body: wrote ${at} of ${size} bytes`);
    const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': body.length };
    if (token) headers.authorization = `Bearer ${token}`;
    const { status, text } = await this.exchange(path, headers, body, topic);
    if (status < 200 || status > 299) throw new PublishError(`publish to ${topic} answered ${status}: ${text.slice(0, 300)}`, status);
    let ids: unknown;
    try {
      ids = (JSON.parse(text) as { messageIds?: unknown }).messageIds;
    } catch {
      ids = undefined;
    }
    if (!Array.isArray(ids) || ids.length !== batch.length) throw new PublishError(`publish to ${topic} acknowledged ${Array.isArray(ids) ? ids.length : 0} of ${batch.length} messages`);
  }

  /** One POST over the keep-alive agent: the status and the body text, or a PublishError (network, timeout). */
  private exchange(path: string, headers: Record<string, string | number>, body: Buffer, topic: string): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (e: unknown): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(e instanceof PublishError ? e : new PublishError(`publish to ${topic} failed: ${(e as Error).message ?? String(e)}`));
      };
      const req = this.request({ ...this.target, path, headers }, (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', fail);
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
        });
      });
      const timer = setTimeout(() => req.destroy(new PublishError(`publish to ${topic} got no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      req.on('error', fail);
      req.end(body);
    });
  }

  /** Sends what is queued and waits for every request in flight. */
  async flushAll(): Promise<void> {
    for (;;) {
      for (const [topic, q] of this.queues) this.send(topic, q);
      if (this.inFlight.size === 0) return;
      await Promise.allSettled([...this.inFlight]);
    }
  }

  /** Closes the idle keep-alive connections (the service is stopping). */
  close(): void {
    (this.target.agent as HttpAgent).destroy();
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
