/**
 * The bounded delivery buffer between the HTTP side and the sink.
 *
 * A request's records are accepted all-or-nothing (`offer`), and only then is the request answered 2xx. Accepted
 * records stay counted against the bounds until the sink has confirmed them; failed writes are retried with
 * exponential backoff (one probe batch at a time while the sink fails), never dropped. When the bounds are reached,
 * or the sink has failed for longer than `sinkUnhealthyAfterMs`, offers are refused and the HTTP side answers 503.
 */
import type { Sink, SinkRecord } from './sinks/types';
import { describeError, Logger, silentLogger } from './log';

export interface BufferOptions {
  readonly maxEvents: number;
  readonly maxBytes: number;
  readonly batchSize: number;
  readonly maxInflightBatches: number;
  readonly retryInitialMs: number;
  readonly retryMaxMs: number;
  readonly sinkUnhealthyAfterMs: number;
}

export type OfferResult = 'accepted' | 'full' | 'unhealthy' | 'closed';

/** Called once when all records of one offer were written (true), or never if they are still pending at exit. */
export type DeliveredCallback = () => void;

interface Ticket {
  pending: number;
  readonly done: DeliveredCallback;
}

interface Entry {
  readonly record: SinkRecord;
  readonly bytes: number;
  readonly ticket: Ticket | null;
}

export interface BufferStats {
  /** Records held (queued, in flight or waiting for a retry). */
  readonly events: number;
  readonly bytes: number;
  readonly accepted: number;
  readonly delivered: number;
  readonly refusedFull: number;
  readonly refusedUnhealthy: number;
  readonly failedWrites: number;
  readonly inflightBatches: number;
  readonly sinkHealthy: boolean;
  /** Milliseconds the sink has been failing (0 when it is fine). */
  readonly sinkFailingForMs: number;
  /** Why the last write failed while the sink fails, else null. */
  readonly lastError: string | null;
}

/** Memory a record costs besides its text, roughly (entry, record object, attributes). */
const ENTRY_OVERHEAD = 160;

export class DeliveryBuffer {
  private queue: Entry[] = [];
  private head = 0;
  private retryQueue: Entry[] = [];
  private count = 0;
  private byteCount = 0;
  private inflight = 0;
  private pumpScheduled = false;
  /** Pending backoff: no writes until it fires (the timer, not the wall clock, decides, so clock steps cannot stall it). */
  private retryTimer: NodeJS.Timeout | null = null;
  private failingSince: number | null = null;
  private consecutiveFailures = 0;
  /** The last write failure while the sink fails (name, code and message only), for /sink-health. */
  private lastError: string | null = null;
  private closed = false;
  /** Set when drain gave up: no more writes or retries. */
  private stopped = false;
  private drainWaiters: (() => void)[] = [];
  private readonly counters = { accepted: 0, delivered: 0, refusedFull: 0, refusedUnhealthy: 0, failedWrites: 0 };

  constructor(
    private readonly sink: Sink,
    private readonly options: BufferOptions,
    private readonly logger: Logger = silentLogger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Accepts all records or none. `onDelivered` fires once the sink has confirmed every one of them. */
  offer(records: readonly SinkRecord[], onDelivered?: DeliveredCallback): OfferResult {
    if (this.closed) return 'closed';
    if (!this.sinkHealthy()) {
      this.counters.refusedUnhealthy++;
      return 'unhealthy';
    }
    let bytes = 0;
    for (const r of records) bytes += r.data.length + ENTRY_OVERHEAD;
    if (this.count + records.length > this.options.maxEvents || this.byteCount + bytes > this.options.maxBytes) {
      this.counters.refusedFull++;
      return 'full';
    }
    if (records.length === 0) {
      onDelivered?.();
      return 'accepted';
    }
    const ticket: Ticket | null = onDelivered ? { pending: records.length, done: onDelivered } : null;
    for (const record of records) this.queue.push({ record, bytes: record.data.length + ENTRY_OVERHEAD, ticket });
    this.count += records.length;
    this.byteCount += bytes;
    this.counters.accepted += records.length;
    this.schedulePump();
    return 'accepted';
  }

  /** True unless the sink has been failing for longer than sinkUnhealthyAfterMs. */
  sinkHealthy(): boolean {
    return this.failingSince === null || this.now() - this.failingSince < this.options.sinkUnhealthyAfterMs;
  }

  /**
   * What `offer` would answer for `events` records of about `bytes` bytes of text, without taking them: asked before a
   * request's records are built. 'never': more than fits() allows, whatever the buffer holds.
   */
  admit(events: number, bytes: number): OfferResult | 'never' {
    if (this.closed) return 'closed';
    if (!this.fits(events, bytes)) return 'never';
    if (!this.sinkHealthy()) {
      this.counters.refusedUnhealthy++;
      return 'unhealthy';
    }
    if (this.count + events > this.options.maxEvents || this.byteCount + bytes + events * ENTRY_OVERHEAD > this.options.maxBytes) {
      this.counters.refusedFull++;
      return 'full';
    }
    return 'accepted';
  }

  /** Whether a request with `events` records of about `bytes` bytes could ever be accepted (by an empty buffer). */
  fits(events: number, bytes: number): boolean {
    return events <= this.options.maxEvents && bytes + events * ENTRY_OVERHEAD <= this.options.maxBytes;
  }

  stats(): BufferStats {
    return {
      events: this.count,
      bytes: this.byteCount,
      ...this.counters,
      inflightBatches: this.inflight,
      sinkHealthy: this.sinkHealthy(),
      sinkFailingForMs: this.failingSince === null ? 0 : this.now() - this.failingSince,
      lastError: this.lastError,
    };
  }

  /**
   * Stops accepting and waits until every held record is written or `timeoutMs` passes.
   * Resolves with the number of records still held (0 = fully drained).
   */
  async drain(timeoutMs: number): Promise<number> {
    this.closed = true;
    if (this.count > 0) {
      // Retry promptly: the remaining time is short.
      if (this.retryTimer !== null) {
        clearTimeout(this.retryTimer);
        this.retryTimer = null;
        this.schedulePump();
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.drainWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    this.stopped = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    return this.count;
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    // Coalesce the records of many requests into one batch.
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private take(): Entry[] {
    const n = this.options.batchSize;
    const batch: Entry[] = [];
    while (batch.length < n && this.retryQueue.length > 0) batch.push(this.retryQueue.shift()!);
    const q = this.queue;
    while (batch.length < n && this.head < q.length) batch.push(q[this.head++]);
    if (this.head === q.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > q.length) {
      this.queue = q.slice(this.head);
      this.head = 0;
    }
    return batch;
  }

  private waiting(): boolean {
    return this.retryQueue.length > 0 || this.head < this.queue.length;
  }

  private pump(): void {
    if (this.retryTimer !== null || this.stopped) return;
    // While the sink fails, probe with one batch at a time.
    const limit = this.failingSince === null ? this.options.maxInflightBatches : 1;
    while (this.inflight < limit && this.waiting()) {
      const batch = this.take();
      this.inflight++;
      let result: Promise<readonly SinkRecord[]>;
      try {
        result = this.sink.write(batch.map((e) => e.record));
      } catch (err) {
        result = Promise.reject(err);
      }
      result.then(
        (failed) => this.settle(batch, failed, null),
        (err: unknown) => this.settle(batch, null, err),
      );
    }
  }

  /** `failed` null with an error: nothing was written. */
  private settle(batch: Entry[], failed: readonly SinkRecord[] | null, err: unknown): void {
    this.inflight--;
    const failedSet = failed === null ? null : failed.length === 0 ? undefined : new Set(failed);
    const retry: Entry[] = [];
    for (const entry of batch) {
      if (failedSet === null || (failedSet !== undefined && failedSet.has(entry.record))) {
        retry.push(entry);
        continue;
      }
      this.count--;
      this.byteCount -= entry.bytes;
      this.counters.delivered++;
      const t = entry.ticket;
      if (t !== null && --t.pending === 0) t.done();
    }
    if (retry.length === 0) {
      if (this.failingSince !== null) {
        this.logger.info('sink recovered', { sink: this.sink.kind, failedForMs: this.now() - this.failingSince, heldEvents: this.count });
      }
      this.failingSince = null;
      this.consecutiveFailures = 0;
      this.lastError = null;
    } else {
      this.counters.failedWrites++;
      this.lastError = err !== null ? describeError(err).error : `${retry.length} of ${batch.length} records not written`;
      this.retryQueue.unshift(...retry);
      const now = this.now();
      if (this.failingSince === null) this.failingSince = now;
      this.consecutiveFailures++;
      const base = Math.min(this.options.retryMaxMs, this.options.retryInitialMs * 2 ** Math.min(this.consecutiveFailures - 1, 30));
      const delay = Math.round(base * (0.75 + Math.random() * 0.5));
      if (this.consecutiveFailures === 1 || this.consecutiveFailures % 10 === 0) {
        this.logger.warn('sink write failed; retrying with backoff', {
          sink: this.sink.kind,
          failedRecords: retry.length,
          consecutiveFailures: this.consecutiveFailures,
          retryInMs: delay,
          heldEvents: this.count,
          ...(err !== null ? describeError(err) : {}),
        });
      }
      if (this.retryTimer === null && !this.stopped) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          this.pump();
        }, this.closed ? Math.min(delay, 500) : delay);
      }
    }
    if (this.count === 0 && this.drainWaiters.length > 0) {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const w of waiters) w();
    }
    this.pump();
  }
}
