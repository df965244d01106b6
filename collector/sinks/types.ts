/** The one small interface every sink implements (pubsub, stdout, file, memory, or a local runner's own). */

export type Stream = 'good' | 'bad';

/** One message: a serialized CollectorPayload (good) or bad row (bad), with routing attributes. */
export interface SinkRecord {
  readonly stream: Stream;
  /** JSON text of the payload or bad row. */
  readonly data: string;
  /** Routing/filtering attributes (Pub/Sub message attributes); never needed to process `data`. */
  readonly attributes: Readonly<Record<string, string>>;
}

export interface Sink {
  /** `pubsub`, `stdout`, `file`, `memory`, or a custom name. */
  readonly kind: string;
  /**
   * Writes records. Resolves with the records that could not be written (the same objects; empty when all were),
   * which the collector retries with backoff; rejecting means none were written. Must settle in bounded time.
   */
  write(records: readonly SinkRecord[]): Promise<readonly SinkRecord[]>;
  /**
   * Checks at start that writes can succeed (a writable folder, a reachable Pub/Sub with the topics); rejects with an
   * Error whose message says why not. The standalone server does not start when it rejects.
   */
  check?(): Promise<void>;
  /** Flushes and releases resources; called once, after the buffer has drained. */
  close(): Promise<void>;
}
