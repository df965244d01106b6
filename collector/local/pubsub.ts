/**
 * Pub/Sub mode: the real chain on one machine. The collector publishes to the raw topic (bad rows to the bad topic)
 * of the emulator; a local enricher pulls the raw subscription, runs the shipped UDF bundle on every message and
 * appends good rows to `<dataDir>/good.jsonl` and bad rows to `<dataDir>/bad.jsonl` (the collector's own bad rows
 * too, from the bad topic), acknowledging a message only once its line is written. The inspection API reads those
 * files back (see {@link fileSource}).
 */
import { PubSub, Message, Subscription } from '@google-cloud/pubsub';
import { appendFile, mkdir, open, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { startEnricherService } from './push';
import type { Logger } from '../log';
import { describeError } from '../log';
import { PubSubSink } from '../sinks/pubsub';
import type { Sink, SinkRecord } from '../sinks/types';
import type { RowSource } from './api';
import { EventStore } from './store';
import { EnrichOutcome, localBadRow, Udf } from './udf';
import type { BadRowJson, Row } from './udf';

export const TOPICS = { raw: 'waymark-raw', bad: 'waymark-bad', enriched: 'waymark-enriched' } as const;
export const SUBSCRIPTIONS = { enrich: 'waymark-raw-enrich', bad: 'waymark-bad-local', push: 'waymark-raw-push', enriched: 'waymark-enriched-local' } as const;

const ALREADY_EXISTS = 6;

export interface DataFiles {
  readonly good: string;
  readonly bad: string;
}

export function dataFiles(dataDir: string): DataFiles {
  return { good: join(dataDir, 'good.jsonl'), bad: join(dataDir, 'bad.jsonl') };
}

/**
 * One queue for every file operation (appends, reads, truncation), so that a reset never races a write and a
 * reader never sees half of a batch.
 */
export class FileQueue {
  private chain: Promise<unknown> = Promise.resolve();
  run<T>(op: () => Promise<T>): Promise<T> {
    const result = this.chain.then(op, op);
    this.chain = result.catch(() => undefined);
    return result;
  }
}

/** Appends lines in batches (one write per file per tick) and resolves each line's promise once it is on disk. */
export class JsonlWriter {
  private pending: { good: string[]; bad: string[]; done: Array<{ resolve: () => void; reject: (e: unknown) => void }> } = { good: [], bad: [], done: [] };
  private scheduled = false;

  constructor(private readonly files: DataFiles, private readonly queue: FileQueue) {}

  append(stream: 'good' | 'bad', line: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending[stream].push(line);
      this.pending.done.push({ resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = { good: [], bad: [], done: [] };
    this.queue
      .run(async () => {
        if (batch.good.length > 0) await appendFile(this.files.good, batch.good.join('\n') + '\n');
        if (batch.bad.length > 0) await appendFile(this.files.bad, batch.bad.join('\n') + '\n');
      })
      .then(
        () => batch.done.forEach((d) => d.resolve()),
        (e: unknown) => batch.done.forEach((d) => d.reject(e)),
      );
  }
}

/** Reads what was appended to a JSONL file since the last call (a partial last line waits for its newline). */
export class JsonlTail {
  private offset = 0;
  constructor(readonly file: string) {}

  /** New complete lines; `restarted` when the file got shorter (emptied by someone): then lines are from the start. */
  async read(): Promise<{ lines: string[]; restarted: boolean }> {
    let fh;
    try {
      fh = await open(this.file, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        const restarted = this.offset > 0;
        this.offset = 0;
        return { lines: [], restarted };
      }
      throw e;
    }
    try {
      const { size } = await fh.stat();
      let restarted = false;
      if (size < this.offset) {
        this.offset = 0;
        restarted = true;
      }
      const lines: string[] = [];
      let carry = Buffer.alloc(0);
      let position = this.offset;
      const chunk = Buffer.alloc(1 << 20);
      while (position < size) {
        const { bytesRead } = await fh.read(chunk, 0, Math.min(chunk.length, size - position), position);
        if (bytesRead === 0) break;
        position += bytesRead;
        const data = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, bytesRead)]) : Buffer.from(chunk.subarray(0, bytesRead));
        let start = 0;
        for (let nl = data.indexOf(10, start); nl !== -1; nl = data.indexOf(10, start)) {
          const line = data.subarray(start, nl).toString('utf8');
          if (line.trim() !== '') lines.push(line);
          start = nl + 1;
        }
        this.offset += start;
        carry = data.subarray(start);
      }
      return { lines, restarted };
    } finally {
      await fh.close();
    }
  }

  rewind(): void {
    this.offset = 0;
  }
}

/**
 * The collector payloads of the good rows this process enriched, by event id (bounded like the store), so the events
 * page can show what the tracker sent; rows of earlier runs read from the files have none.
 */
export class PayloadMemory {
  private byEventId = new Map<string, string>();
  constructor(private readonly max: number) {}
  remember(row: Row, payload: string): void {
    if (typeof row.event_id !== 'string') return;
    this.byEventId.delete(row.event_id);
    this.byEventId.set(row.event_id, payload);
    if (this.byEventId.size > this.max) this.byEventId.delete(this.byEventId.keys().next().value as string);
  }
  get(row: Row): string | null {
    return typeof row.event_id === 'string' ? (this.byEventId.get(row.event_id) ?? null) : null;
  }
}

/** The inspection API's view of the data folder: the files are read back into a bounded store on every request. */
export function fileSource(files: DataFiles, store: EventStore, queue: FileQueue, payloads?: PayloadMemory): RowSource {
  const good = new JsonlTail(files.good);
  const bad = new JsonlTail(files.bad);
  const ingest = async (): Promise<void> => {
    let [g, b] = await Promise.all([good.read(), bad.read()]);
    if (g.restarted || b.restarted) {
      // A file was emptied behind our back: start over from both files.
      store.reset();
      good.rewind();
      bad.rewind();
      [g, b] = await Promise.all([good.read(), bad.read()]);
    }
    for (const line of g.lines) {
      try {
        const row = JSON.parse(line) as Row;
        store.addGood(row, payloads?.get(row) ?? null);
      } catch (e) {
        store.addBad(localBadRow(`unreadable line in ${files.good}: ${(e as Error).message}`, line));
      }
    }
    for (const line of b.lines) {
      try {
        store.addBad(JSON.parse(line) as BadRowJson);
      } catch (e) {
        store.addBad(localBadRow(`unreadable line in ${files.bad}: ${(e as Error).message}`, line));
      }
    }
  };
  return {
    mode: 'pubsub',
    current: () =>
      queue.run(async () => {
        await ingest();
        return store;
      }),
    reset: () =>
      queue.run(async () => {
        await Promise.all([truncate(files.good, 0).catch(ignoreMissing), truncate(files.bad, 0).catch(ignoreMissing)]);
        good.rewind();
        bad.rewind();
        store.reset();
      }),
  };
}

function ignoreMissing(e: NodeJS.ErrnoException): void {
  if (e.code !== 'ENOENT') throw e;
}

/** Counts the records a sink really wrote (to know when the enricher has caught up at shutdown). */
class CountingSink implements Sink {
  readonly kind: string;
  written = { good: 0, bad: 0 };
  constructor(private readonly inner: Sink) {
    this.kind = inner.kind;
  }
  async write(records: readonly SinkRecord[]): Promise<readonly SinkRecord[]> {
    const failed = await this.inner.write(records);
    const failedSet = new Set(failed);
    for (const r of records) if (!failedSet.has(r)) this.written[r.stream]++;
    return failed;
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

export interface PubSubPipelineOptions {
  readonly projectId: string;
  readonly dataDir: string;
  readonly udf: Udf;
  readonly store: EventStore;
  readonly logger: Logger;
  /** Called with every row written (for the terminal). */
  readonly onRow?: (outcome: EnrichOutcome) => void;
  /**
   * Enrich with the enricher service bundle at this path (a child process) behind a push subscription of the raw
   * topic, reading its rows back from the enriched and bad topics; without it, the local pull enricher runs the UDF.
   */
  readonly enricherPath?: string;
  /** Lines for the terminal (the enricher service's warnings and errors). */
  readonly print?: (line: string) => void;
}

export interface PubSubPipeline {
  /** The collector's sink: good → raw topic, bad → bad topic. */
  readonly sink: Sink;
  readonly source: RowSource;
  readonly files: DataFiles;
  /** Rows written since start. */
  stats(): { published: { good: number; bad: number }; written: { good: number; bad: number }; failed: number };
  /** Waits (bounded) until everything published was enriched and written, then stops pulling. Call after the collector drained. */
  stop(timeoutMs?: number): Promise<{ pending: number }>;
}

async function ensure(create: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (e) {
    if ((e as { code?: unknown }).code !== ALREADY_EXISTS) throw e;
  }
}

/** Creates the topics and subscriptions on the emulator (PUBSUB_EMULATOR_HOST must be set) and starts the enricher. */
export async function startPubSubPipeline(options: PubSubPipelineOptions): Promise<PubSubPipeline> {
  const { projectId, logger } = options;
  const files = dataFiles(options.dataDir);
  await mkdir(options.dataDir, { recursive: true });
  const queue = new FileQueue();
  const writer = new JsonlWriter(files, queue);
  const client = new PubSub({ projectId });
  await ensure(() => client.createTopic(TOPICS.raw));
  await ensure(() => client.createTopic(TOPICS.bad));
  await ensure(() => client.topic(TOPICS.bad).createSubscription(SUBSCRIPTIONS.bad, { ackDeadlineSeconds: 60 }));
  const push = options.enricherPath !== undefined;
  let service: Awaited<ReturnType<typeof startEnricherService>> | null = null;
  if (push) {
    // raw → push subscription → enricher service → enriched / bad topics → pull subscriptions → files.
    await ensure(() => client.createTopic(TOPICS.enriched));
    await ensure(() => client.topic(TOPICS.enriched).createSubscription(SUBSCRIPTIONS.enriched, { ackDeadlineSeconds: 60 }));
    service = await startEnricherService({
      bundle: options.enricherPath!,
      emulatorHost: process.env.PUBSUB_EMULATOR_HOST ?? '',
      enrichedTopic: `projects/${projectId}/topics/${TOPICS.enriched}`,
      badTopic: `projects/${projectId}/topics/${TOPICS.bad}`,
      print: options.print ?? (() => undefined),
    });
    options.print?.(`Enricher service ${options.enricherPath} listening on 127.0.0.1:${service.port} (pid ${service.pid}; stopped with local mode)`);
    const pushConfig = { pushEndpoint: `http://127.0.0.1:${service.port}/push` };
    try {
      await client.topic(TOPICS.raw).createSubscription(SUBSCRIPTIONS.push, { ackDeadlineSeconds: 60, pushConfig });
    } catch (e) {
      if ((e as { code?: unknown }).code !== ALREADY_EXISTS) {
        await service.stop();
        throw e;
      }
      // Left by an earlier run (an emulator that kept running): point it at this run's enricher.
      await client.subscription(SUBSCRIPTIONS.push).modifyPushConfig(pushConfig);
    }
  } else {
    await ensure(() => client.topic(TOPICS.raw).createSubscription(SUBSCRIPTIONS.enrich, { ackDeadlineSeconds: 60 }));
  }

  const sink = new CountingSink(
    new PubSubSink({
      type: 'pubsub',
      projectId,
      goodTopic: TOPICS.raw,
      badTopic: TOPICS.bad,
      batchMaxMessages: 100,
      batchMaxMilliseconds: 10,
      batchMaxBytes: 4 * 1024 * 1024,
      publishTimeoutMs: 15000,
    }),
  );
  const written = { good: 0, bad: 0 };
  const received = { enrich: 0, bad: 0, enriched: 0 };
  const payloads = new PayloadMemory(options.store.maxEvents);
  let failed = 0;

  const handle = (sub: 'enrich' | 'bad' | 'enriched') => (message: Message): void => {
    const text = message.data.toString('utf8');
    let outcome: EnrichOutcome;
    if (sub === 'enrich') {
      outcome = options.udf.enrich(text);
    } else if (sub === 'enriched') {
      // The enricher service's good row (WAYMARK_ROW_SINK=dataflow: the row as the UDF returns it).
      let parsed: unknown = null;
      try {
        parsed = JSON.parse(text);
      } catch {
        // kept below as a local bad row
      }
      outcome = parsed !== null && typeof parsed === 'object' ? { good: parsed as Row } : { bad: localBadRow('the enricher service published a good row that is not JSON', text) };
    } else {
      let parsed: unknown = null;
      try {
        parsed = JSON.parse(text);
      } catch {
        // kept below as a local bad row
      }
      outcome = { bad: parsed !== null && typeof parsed === 'object' ? (parsed as BadRowJson) : localBadRow('the collector published a bad row that is not JSON', text) };
    }
    const stream = 'good' in outcome ? 'good' : 'bad';
    if ('good' in outcome && sub === 'enrich') payloads.remember(outcome.good, text);
    writer.append(stream, JSON.stringify('good' in outcome ? outcome.good : outcome.bad)).then(
      () => {
        received[sub]++;
        written[stream]++;
        message.ack();
        options.onRow?.(outcome);
      },
      (e: unknown) => {
        failed++;
        logger.error('cannot write a row: the message will be redelivered', { file: files[stream], ...describeError(e) });
        message.nack();
      },
    );
  };
  const first = push ? 'enriched' : 'enrich';
  const subscriptions: Subscription[] = [
    client.subscription(SUBSCRIPTIONS[first], { flowControl: { maxMessages: 1000 } }),
    client.subscription(SUBSCRIPTIONS.bad, { flowControl: { maxMessages: 1000 } }),
  ];
  subscriptions[0].on('message', handle(first));
  subscriptions[1].on('message', handle('bad'));
  for (const s of subscriptions) s.on('error', (e: unknown) => logger.error('subscription error', { subscription: s.name, ...describeError(e) }));

  let stopped: Promise<{ pending: number }> | null = null;
  return {
    sink,
    files,
    source: fileSource(files, options.store, queue, payloads),
    stats: () => ({ published: { ...sink.written }, written: { ...written }, failed }),
    stop(timeoutMs = 5000) {
      stopped ??= (async () => {
        const deadline = Date.now() + timeoutMs;
        // Push: every raw message comes back as one message on the enriched or the bad topic.
        const behind = (): number =>
          push
            ? Math.max(0, sink.written.good + sink.written.bad - received.enriched - received.bad)
            : Math.max(0, sink.written.good - received.enrich) + Math.max(0, sink.written.bad - received.bad);
        while (behind() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        const pending = behind();
        await service?.stop();
        await Promise.allSettled(subscriptions.map((s) => s.close()));
        await queue.run(async () => undefined);
        await client.close().catch(() => undefined);
        return { pending };
      })();
      return stopped;
    },
  };
}
