/**
 * The HTTP shell: `createCollector` wires routes, the service, the bounded buffer and a sink into one
 * `(req, res)` handler, usable by a standalone node:http server (`listen`) or by Cloud Functions / App Engine.
 */
import { randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse, STATUS_CODES } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { DeliveryBuffer } from './buffer';
import { CollectorConfig, loadConfig } from './config';
import { corsHeaders, originAllowed, preflightHeaders } from './http-parts';
import { createLogger, describeError, Logger } from './log';
import { allowHeader, builtinRoutes, ExtraRoute, findExtraRoute, MethodTable } from './routes';
import { EventKind, handleEvent, Outcome, oversizedHead, ServiceContext } from './service';
import { createSink } from './sinks';
import { MemorySink } from './sinks/memory';
import type { Sink, SinkRecord } from './sinks/types';
import { COLLECTOR_VERSION } from './version';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface CollectorOptions {
  /** @default loadConfig(process.env).config */
  readonly config?: CollectorConfig;
  /** A sink object (e.g. a MemorySink the caller keeps, or a local runner's own). @default built from config.sink */
  readonly sink?: Sink;
  /** Routes served besides the built-in ones (built-ins win on the same path). */
  readonly extraRoutes?: readonly ExtraRoute[];
  /** Called with a request's records right after the buffer accepted them (before the sink has them). */
  readonly onAccepted?: (records: readonly SinkRecord[]) => void;
  readonly logger?: Logger;
  /** The instance's state beyond this process (multi-process mode): null when it may serve, else why /health is 503. */
  readonly instanceHealth?: () => string | null;
  /** Clock and id generator, for tests. */
  readonly now?: () => number;
  readonly uuid?: () => string;
}

export interface ShutdownResult {
  /** Records still held when the drain time ran out (0 = nothing lost). */
  readonly remaining: number;
  readonly delivered: number;
}

export interface Collector {
  readonly config: CollectorConfig;
  readonly sink: Sink;
  /** The sink when it is a MemorySink (readable by tests and the local mode), else null. */
  readonly memory: MemorySink | null;
  readonly buffer: DeliveryBuffer;
  readonly logger: Logger;
  /** The request handler (node:http, Cloud Functions, App Engine). */
  readonly handler: RequestHandler;
  /** The server once `listen` was called. */
  readonly server: Server | null;
  /** Starts a node:http server with the configured timeouts and limits. */
  listen(port?: number, host?: string): Promise<AddressInfo>;
  /** Stops accepting (503 + Connection: close), drains the buffer within shutdownTimeoutMs, closes the sink. */
  shutdown(): Promise<ShutdownResult>;
}

const ROBOTS = 'User-agent: *\nDisallow: /\n';

/** Writes a whole answer. `headers` is a flat [name, value, ...] list owned by the caller (it is extended). */
function send(res: ServerResponse, status: number, headers: string[], body: Buffer | string, close = false, encoding: 'utf8' | 'latin1' = 'utf8'): void {
  if (res.headersSent || res.destroyed) return;
  if (close) {
    headers.push('Connection', 'close');
    if (!res.req.complete && res.socket) lingerOnClose(res.socket);
  }
  headers.push('Content-Length', String(typeof body !== 'string' ? body.length : encoding === 'latin1' ? body.length : Buffer.byteLength(body)));
  res.writeHead(status, headers);
  // A string body goes out in the same write as the headers.
  if (typeof body === 'string') res.end(body, encoding);
  else res.end(body);
}

/** How long a closing connection keeps discarding what the client still sends after the answer. */
const LINGER_MS = 2000;

/**
 * Lingering close for answers sent before the request body was read (oversized bodies): closing a socket with
 * unread data makes the kernel send a reset, and a client that is still writing may then never read the answer —
 * a tracker would take the reset for a network error and retry the same payload forever. So after the answer the
 * socket half-closes and discards incoming bytes until the client closes too, for at most LINGER_MS.
 */
function lingerOnClose(socket: Socket): void {
  socket.destroySoon = function lingeringDestroySoon(this: Socket): void {
    this.on('data', () => undefined);
    this.end();
    this.resume();
    destroyAfterClientEnds(this);
  };
}

/** Destroys a half-closed socket once the client closes its side too, or after LINGER_MS. */
function destroyAfterClientEnds(socket: Duplex): void {
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('end', () => {
    clearTimeout(timer);
    socket.destroy();
  });
  socket.once('close', () => clearTimeout(timer));
}

/** What Node answers to the other client errors (its defaults, kept): timeouts 408, chunk extensions 413, else 400. */
function defaultClientErrorAnswer(code: string | undefined): string {
  const status = code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW' ? 413 : 400;
  return `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\n\r\n`;
}

/** A whole HTTP/1.1 answer written on a raw socket (no ServerResponse exists for a request that failed to parse). */
function rawAnswer(status: number, headers: readonly string[], body: string): string {
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n`;
  for (let i = 0; i + 1 < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return `${head}Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/** Request headers accepted (Node's server keeps MAX_HEADER_COUNT + 1 so that one more is seen and refused). */
export const MAX_HEADER_COUNT = 1000;

const plain = (extra: string[] = []): string[] => [...extra, 'Content-Type', 'text/plain; charset=utf-8', 'Cache-Control', 'no-cache, no-store, must-revalidate'];

type BodyResult = { body: Buffer } | { overflow: { head: Buffer; totalBytes: number } } | { busy: true } | { gone: true };

export function createCollector(options: CollectorOptions = {}): Collector {
  const config = options.config ?? loadConfig(process.env).config;
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const sink = options.sink ?? createSink(config.sink);
  const memory = sink instanceof MemorySink ? sink : null;
  const now = options.now ?? Date.now;
  const buffer = new DeliveryBuffer(sink, config.buffer, logger, now);
  const routes = builtinRoutes(config);
  const extraRoutes = options.extraRoutes ?? [];
  const ctx: ServiceContext = { config, now, uuid: options.uuid ?? randomUUID, admit: (events, bytes) => buffer.admit(events, bytes) };
  const retryAfter = String(config.retryAfterSeconds);
  let draining = false;
  let server: Server | null = null;
  let shutdownPromise: Promise<ShutdownResult> | null = null;
  // Bytes of request bodies being read right now: bounded like the buffer, so memory stays bounded under any load.
  let bodyBytesInFlight = 0;
  const bodyBudget = config.buffer.maxBytes;

  const unavailable = (res: ServerResponse, origin: string | undefined, reason: string, close = false): void => {
    const cors = originAllowed(origin, config.cors.allowedOrigins) ? corsHeaders(origin) : [];
    send(res, 503, plain([...cors, 'Retry-After', retryAfter]), reason, close || draining);
  };

  function refusedAnswer(res: ServerResponse, origin: string | undefined, result: 'full' | 'unhealthy' | 'closed'): void {
    unavailable(res, origin, result === 'full' ? 'busy: buffer full, retry later' : result === 'unhealthy' ? 'sink unavailable, retry later' : 'shutting down, retry later');
  }

  function readBody(req: IncomingMessage, done: (r: BodyResult) => void): void {
    const limit = config.maxBodyBytes;
    const keep = Math.min(limit, config.badRowMaxPayloadBytes);
    // Cloud Functions (Functions Framework) has already read the body.
    const pre = (req as { rawBody?: unknown }).rawBody;
    if (Buffer.isBuffer(pre)) {
      done(pre.length > limit ? { overflow: { head: pre.subarray(0, keep), totalBytes: pre.length } } : { body: pre });
      return;
    }
    const declaredHeader = req.headers['content-length'];
    const declared = declaredHeader === undefined ? -1 : Number(declaredHeader);
    const chunks: Buffer[] = [];
    let size = 0;
    let reserved = 0;
    let finished = false;
    const finish = (r: BodyResult): void => {
      if (finished) return;
      finished = true;
      bodyBytesInFlight -= reserved;
      reserved = 0;
      req.removeListener('data', onData);
      req.removeListener('end', onEnd);
      req.removeListener('error', onGone);
      req.removeListener('aborted', onGone);
      req.removeListener('close', onGone);
      if (!('body' in r)) req.resume(); // discard the rest; the answer closes the connection
      done(r);
    };
    const reserve = (n: number): boolean => {
      if (bodyBytesInFlight + n > bodyBudget) return false;
      bodyBytesInFlight += n;
      reserved += n;
      return true;
    };
    const overflow = (total: number): void => finish({ overflow: { head: Buffer.concat(chunks).subarray(0, keep), totalBytes: total } });
    function onData(chunk: Buffer): void {
      const taking = size <= limit ? Math.min(chunk.length, limit + 1 - size) : 0;
      if (taking > 0) {
        if (!reserve(taking)) return finish({ busy: true });
        chunks.push(taking === chunk.length ? chunk : chunk.subarray(0, taking));
      }
      size += chunk.length;
      if (declared > limit && size >= keep) return overflow(declared);
      if (size > limit) return overflow(Math.max(size, declared));
    }
    function onEnd(): void {
      if (size > limit || declared > limit) return overflow(Math.max(size, declared));
      finish({ body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size) });
    }
    function onGone(): void {
      finish({ gone: true });
    }
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onGone);
    req.on('aborted', onGone);
    req.on('close', onGone);
  }

  function respond(res: ServerResponse, origin: string | undefined, outcome: Outcome): void {
    if (outcome.refused !== undefined) return refusedAnswer(res, origin, outcome.refused);
    const records = outcome.records;
    if (records.length === 0) {
      send(res, outcome.status, outcome.headers, outcome.body, draining || outcome.status === 400, outcome.encoding);
      return;
    }
    let waiting = false;
    let timer: NodeJS.Timeout | undefined;
    const delivered = config.ackMode !== 'buffered'
      ? () => {
          if (!waiting) return;
          waiting = false;
          clearTimeout(timer);
          send(res, outcome.status, outcome.headers, outcome.body, draining, outcome.encoding);
        }
      : undefined;
    const result = buffer.offer(records, delivered);
    if (result !== 'accepted') return refusedAnswer(res, origin, result);
    options.onAccepted?.(records);
    if (delivered === undefined) {
      send(res, outcome.status, outcome.headers, outcome.body, draining || outcome.status === 400, outcome.encoding);
    } else if (!res.headersSent) {
      waiting = true;
      timer = setTimeout(() => {
        if (!waiting) return;
        waiting = false;
        // The records stay buffered and will still be written: a retry may duplicate them (at-least-once).
        unavailable(res, origin, 'sink slow, retry later');
      }, config.deliveryTimeoutMs);
    }
  }

  function handleEventRoute(req: IncomingMessage, res: ServerResponse, kind: EventKind, path: string, query: string): void {
    const origin = req.headers.origin;
    const base = { kind, method: req.method ?? 'GET', path, query, headers: req.headers, remoteAddress: req.socket?.remoteAddress };
    if (kind !== 'post') {
      respond(res, origin, handleEvent(base, ctx));
      return;
    }
    readBody(req, (r) => {
      if ('gone' in r) return;
      if ('busy' in r) return unavailable(res, origin, 'busy, retry later', true);
      try {
        respond(res, origin, handleEvent('body' in r ? { ...base, body: r.body } : { ...base, bodyOverflow: r.overflow }, ctx));
      } catch (err) {
        internalError(res, err);
      }
    });
  }

  function internalError(res: ServerResponse, err: unknown): void {
    logger.error('request failed', describeError(err));
    send(res, 500, plain(), 'internal error', true);
  }

  function builtin(req: IncomingMessage, res: ServerResponse, table: MethodTable, method: string, path: string, query: string): void {
    const route = table.get(method);
    if (route === undefined) {
      send(res, 405, plain(['Allow', allowHeader(table.keys())]), 'method not allowed', draining);
      return;
    }
    switch (route.type) {
      case 'event':
        if (draining) return unavailable(res, req.headers.origin, 'shutting down, retry later', true);
        return handleEventRoute(req, res, route.kind, path, query);
      case 'health': {
        const problem = draining ? 'shutting down' : options.instanceHealth?.() ?? null;
        return send(res, problem === null ? 200 : 503, plain(), problem ?? 'ok', draining);
      }
      case 'sinkHealth': {
        // Honest: 503 from the first failed write until one succeeds (events are still buffered meanwhile, until
        // sinkUnhealthyAfterMs), with how long and why.
        const st = buffer.stats();
        if (st.sinkFailingForMs === 0 && st.lastError === null) return send(res, 200, plain(), 'ok', draining);
        const body = `${st.sinkHealthy ? 'sink failing' : 'sink unhealthy'} for ${st.sinkFailingForMs} ms, ${st.events} events held: ${st.lastError ?? 'write failed'}`;
        return send(res, 503, plain(['Retry-After', retryAfter]), body, draining);
      }
      case 'robots':
        return send(res, 200, ['Content-Type', 'text/plain; charset=utf-8', 'Cache-Control', 'public, max-age=86400'], ROBOTS, draining);
      case 'debugEvents':
        if (memory === null) return send(res, 404, plain(), 'not found');
        if (method === 'DELETE') {
          memory.clear();
          return send(res, 204, [], '', draining);
        }
        // No CORS headers: what the sink holds (IPs, cookies ids) must not be readable by pages of other origins.
        return send(res, 200, ['Content-Type', 'application/json; charset=utf-8', 'Cache-Control', 'no-store'], JSON.stringify(memory.events()), draining);
    }
  }

  const isEventRoute = (method: string, path: string): boolean => routes.get(path)?.get(method)?.type === 'event';
  // Node reports every later chunk of a connection whose parser failed again: answer each connection once.
  const clientErrorAnswered = new WeakSet<Duplex>();

  /**
   * Requests Node's parser refused (the 'clientError' event). Node's own answers are kept (400 malformed, 408
   * timeout), except for a request line plus headers over http.maxHeaderBytes: Node answers 431, which trackers
   * retry forever, so it gets 400 with a reason and, when the request line is readable and names an event route, a
   * size_violation bad row. That answer is followed by a lingering close (the client may still be sending).
   */
  function onClientError(err: Error & { code?: string; rawPacket?: unknown }, socket: Duplex): void {
    if (clientErrorAnswered.has(socket)) return;
    clientErrorAnswered.add(socket);
    socket.on('error', () => socket.destroy());
    // Answer only when no response of this connection has started (else the bytes would corrupt it).
    const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || (inFlight != null && inFlight.headersSent === true)) {
      socket.destroy();
      return;
    }
    if (err.code !== 'HPE_HEADER_OVERFLOW') {
      socket.write(defaultClientErrorAnswer(err.code));
      socket.destroy();
      return;
    }
    let outcome;
    try {
      outcome = oversizedHead({ packet: Buffer.isBuffer(err.rawPacket) ? err.rawPacket : undefined, limit: config.http.maxHeaderBytes }, ctx, isEventRoute);
    } catch (e) {
      logger.error('oversized request failed', describeError(e));
      socket.end(rawAnswer(500, plain(), 'internal error'));
      destroyAfterClientEnds(socket);
      return;
    }
    const answer = (status: number, headers: readonly string[], body: string): void => {
      if (socket.writableEnded || socket.destroyed) return;
      socket.end(rawAnswer(status, headers, body));
      destroyAfterClientEnds(socket);
    };
    const body = String(outcome.body);
    if (outcome.records.length === 0) return answer(outcome.status, outcome.headers, body);
    // ackMode delivered: the answer waits until the sink has the bad row, at most deliveryTimeoutMs.
    const wait: { active: boolean; timer?: NodeJS.Timeout } = { active: config.ackMode !== 'buffered' };
    const busy = (reason: string): void => {
      const cors = originAllowed(outcome.origin, config.cors.allowedOrigins) ? corsHeaders(outcome.origin) : [];
      answer(503, plain([...cors, 'Retry-After', retryAfter]), reason);
    };
    const delivered = (): void => {
      if (!wait.active) return;
      wait.active = false;
      clearTimeout(wait.timer);
      answer(outcome.status, outcome.headers, body);
    };
    const result = buffer.offer(outcome.records, wait.active ? delivered : undefined);
    if (result !== 'accepted') {
      wait.active = false;
      return busy(result === 'full' ? 'busy: buffer full, retry later' : result === 'unhealthy' ? 'sink unavailable, retry later' : 'shutting down, retry later');
    }
    options.onAccepted?.(outcome.records);
    if (!wait.active) return answer(outcome.status, outcome.headers, body);
    wait.timer = setTimeout(() => {
      if (!wait.active) return;
      wait.active = false;
      busy('sink slow, retry later');
    }, config.deliveryTimeoutMs);
    socket.once('close', () => clearTimeout(wait.timer));
  }

  const handler: RequestHandler = (req, res) => {
    try {
      if (req.rawHeaders.length > MAX_HEADER_COUNT * 2) return tooManyHeaders(req, res);
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const path = q < 0 ? url : url.slice(0, q);
      const query = q < 0 ? '' : url.slice(q + 1);
      const method = req.method ?? 'GET';
      if (method === 'OPTIONS') {
        const origin = req.headers.origin;
        if (originAllowed(origin, config.cors.allowedOrigins)) send(res, 204, preflightHeaders(origin, config.cors.maxAgeSeconds), '', draining);
        else send(res, 403, plain(), 'origin not allowed', draining);
        return;
      }
      const table = routes.get(path);
      if (table !== undefined) {
        builtin(req, res, table, method, path, query);
        return;
      }
      const extra = findExtraRoute(extraRoutes, path);
      if (extra !== undefined) {
        if (extra.methods !== undefined && !extra.methods.includes(method)) {
          send(res, 405, plain(['Allow', allowHeader(extra.methods)]), 'method not allowed', draining);
          return;
        }
        Promise.resolve(extra.handle(req, res, { path, query })).catch((err: unknown) => internalError(res, err));
        return;
      }
      send(res, 404, plain(), 'not found', draining);
    } catch (err) {
      internalError(res, err);
    }
  };

  /**
   * More headers than MAX_HEADER_COUNT: refused, because Node keeps only the first maxHeadersCount and a header past
   * them (an `SP-Anonymous`, a do-not-track cookie) would be ignored silently. 400 (not retried) with a size_violation
   * bad row on event routes; the connection closes.
   */
  function tooManyHeaders(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const reason = `payload too large: more than ${MAX_HEADER_COUNT} request headers`;
    const origin = req.headers.origin;
    const cors = originAllowed(origin, config.cors.allowedOrigins) ? corsHeaders(origin) : [];
    const query = q < 0 ? '' : url.slice(q + 1);
    const kind = routes.get(path)?.get(req.method ?? 'GET');
    if (kind?.type !== 'event') return send(res, 400, plain(cors), reason, true);
    // The body (if any) is not read: the answer closes the connection (lingering, see send).
    const outcome = handleEvent({ kind: kind.kind, method: req.method ?? 'GET', path, query, headers: req.headers, remoteAddress: req.socket?.remoteAddress, headerCount: req.rawHeaders.length / 2, maxHeaderCount: MAX_HEADER_COUNT }, ctx);
    const result = outcome.records.length === 0 ? 'accepted' : buffer.offer(outcome.records);
    if (result !== 'accepted') return refusedAnswer(res, origin, result);
    if (outcome.records.length > 0) options.onAccepted?.(outcome.records);
    send(res, outcome.status, outcome.headers, outcome.body, true);
  }

  const collector: Collector = {
    config,
    sink,
    memory,
    buffer,
    logger,
    handler,
    get server() {
      return server;
    },
    listen(port = config.port, host = config.host) {
      if (server !== null) return Promise.reject(new Error('collector is already listening'));
      const http = config.http;
      const s = createServer(
        {
          maxHeaderSize: http.maxHeaderBytes,
          headersTimeout: http.headersTimeoutMs,
          requestTimeout: http.requestTimeoutMs,
          keepAliveTimeout: http.keepAliveTimeoutMs,
          connectionsCheckingInterval: Math.min(1000, http.headersTimeoutMs),
        },
        handler,
      );
      if (http.maxConnections > 0) s.maxConnections = http.maxConnections;
      s.maxHeadersCount = MAX_HEADER_COUNT + 1;
      // CONNECT (proxy tunnelling) is not served: answer instead of dropping the connection silently.
      s.on('connect', (_req: IncomingMessage, socket: Duplex) => {
        socket.on('error', () => socket.destroy());
        socket.end('HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD, POST, OPTIONS\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      });
      s.on('clientError', onClientError);
      server = s;
      return new Promise((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, host, () => {
          s.removeListener('error', reject);
          s.on('error', (err) => logger.error('server error', describeError(err)));
          resolve(s.address() as AddressInfo);
        });
      });
    },
    shutdown() {
      shutdownPromise ??= (async () => {
        draining = true;
        const s = server;
        const closed = s === null ? Promise.resolve() : new Promise<void>((resolve) => s.close(() => resolve()));
        s?.closeIdleConnections();
        const before = buffer.stats();
        logger.info('shutting down: draining the buffer', { heldEvents: before.events, timeoutMs: config.shutdownTimeoutMs });
        const remaining = await buffer.drain(config.shutdownTimeoutMs);
        const after = buffer.stats();
        if (remaining > 0) {
          logger.error('shutdown: events not delivered before the drain timeout', { lostEvents: remaining, sink: sink.kind, timeoutMs: config.shutdownTimeoutMs });
        }
        try {
          await Promise.race([sink.close(), new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
        } catch (err) {
          logger.warn('sink close failed', describeError(err));
        }
        s?.closeAllConnections();
        await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
        logger.info('collector stopped', { accepted: after.accepted, delivered: after.delivered, remaining, refusedFull: after.refusedFull, refusedUnhealthy: after.refusedUnhealthy, version: COLLECTOR_VERSION });
        return { remaining, delivered: after.delivered };
      })();
      return shutdownPromise;
    },
  };
  return collector;
}
