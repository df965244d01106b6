/**
 * The rows the inspection API serves: the latest good and bad events (bounded per stream: the oldest are counted,
 * then dropped), each with the original collector payload where it is known (decoded for the events page), totals,
 * and a sequence number that changes whenever something arrives, is replayed or is reset.
 */
import { BadEvent, BadFilter, contextColumn, GoodEvent, GoodFilter, matchesBad, matchesGood, summarizeBad, summarizeGood } from './rows';
import { decodePayload, DecodedPayload } from './payload';
import { badFields, EventFields, EventQuery, goodFields, matchesQuery, Queryable } from './query';
import type { BadRowJson, Row } from './udf';

export interface Stored<T> {
  /** Arrival order across both streams (increasing; a reset does not restart it). */
  readonly seq: number;
  /** When the row reached the store (ISO 8601). */
  readonly received: string;
  readonly item: T;
}

export type Stream = 'good' | 'bad';

/** One kept row. */
export class Entry implements Queryable {
  private searchText: string | null = null;
  private decodedPayload: DecodedPayload | null | undefined = undefined;
  readonly fields: EventFields;

  constructor(
    readonly seq: number,
    readonly receivedMs: number,
    readonly stream: Stream,
    readonly good: GoodEvent | null,
    readonly bad: BadEvent | null,
    /** The collector payload the row was made from (JSON text or object), when known. */
    readonly raw: unknown,
    /** The seq of the bad row this good row was replayed from. */
    readonly replayedFrom: number | null = null,
  ) {
    this.fields = good !== null ? goodFields(good) : badFields(bad!, this.payload());
  }

  get received(): string {
    return new Date(this.receivedMs).toISOString();
  }

  /** The original payload decoded (null when not kept). */
  payload(): DecodedPayload | null {
    if (this.decodedPayload === undefined) this.decodedPayload = this.raw === null || this.raw === undefined ? null : decodePayload(this.raw);
    return this.decodedPayload;
  }

  column(name: string): unknown {
    if (this.good !== null) return this.good.event[name];
    const f = this.fields as unknown as Record<string, unknown>;
    const byColumn: Record<string, unknown> = {
      app_id: f.appId, event: f.eventType, event_name: f.eventName, user_id: f.userId, domain_userid: f.domainUserId,
      network_userid: f.networkUserId, domain_sessionid: f.sessionId, event_id: f.eventId, page_url: f.pageUrl, platform: f.platform,
    };
    return name in byColumn ? byColumn[name] : this.payload()?.parameters[name];
  }

  text(): string {
    if (this.searchText === null) {
      const p = this.payload();
      this.searchText = JSON.stringify([this.good?.event ?? this.bad?.badRow ?? null, this.bad?.errors ?? null, p?.parameters ?? null, p?.decoded ?? null]).toLowerCase();
    }
    return this.searchText;
  }
}

export interface Counts {
  readonly total: number;
  readonly good: number;
  readonly bad: number;
  /** Changes whenever rows arrive or are reset (the events page polls it). */
  readonly seq: number;
}

/** How many rows are kept and how many older ones were dropped to stay within the bound, per stream. */
export interface Retention {
  readonly max: number;
  readonly kept: { readonly good: number; readonly bad: number };
  readonly dropped: { readonly good: number; readonly bad: number };
}

export interface EventPage {
  readonly page: number;
  readonly pageSize: number;
  readonly totalItems: number;
  readonly totalPages: number;
  readonly events: readonly Entry[];
}

export interface TimelineBucket {
  /** Start of the bucket (ISO 8601, UTC). */
  readonly time: string;
  readonly good: number;
  readonly bad: number;
}

/** Seqs of one stream in arrival order; removed ones are skipped lazily. */
class SeqQueue {
  private seqs: number[] = [];
  private head = 0;
  push(seq: number): void {
    this.seqs.push(seq);
  }
  shift(): number | undefined {
    if (this.head >= this.seqs.length) return undefined;
    const v = this.seqs[this.head++];
    if (this.head > 1024 && this.head * 2 > this.seqs.length) {
      this.seqs = this.seqs.slice(this.head);
      this.head = 0;
    }
    return v;
  }
  clear(): void {
    this.seqs = [];
    this.head = 0;
  }
}

export class EventStore {
  /** Every kept row by seq; a Map iterates in insertion order, which is seq order. */
  private entries = new Map<number, Entry>();
  private order = { good: new SeqQueue(), bad: new SeqQueue() };
  private kept = { good: 0, bad: 0 };
  private dropped = { good: 0, bad: 0 };
  private goodTotal = 0;
  private badTotal = 0;
  private seq = 0;

  constructor(readonly maxEvents: number, private readonly now: () => number = Date.now) {}

  private add(stream: Stream, make: (seq: number, ms: number) => Entry): Entry {
    const e = make(++this.seq, this.now());
    this.entries.set(e.seq, e);
    this.order[stream].push(e.seq);
    this.kept[stream]++;
    while (this.kept[stream] > this.maxEvents) {
      const oldest = this.order[stream].shift();
      if (oldest === undefined) break;
      if (this.entries.delete(oldest)) {
        this.kept[stream]--;
        this.dropped[stream]++;
      }
    }
    return e;
  }

  /** A good row; `raw` is the collector payload it was enriched from, when known. */
  addGood(row: Row, raw: unknown = null, replayedFrom: number | null = null): Entry {
    this.goodTotal++;
    return this.add('good', (seq, ms) => new Entry(seq, ms, 'good', summarizeGood(row), null, raw, replayedFrom));
  }

  addBad(badRow: BadRowJson): Entry {
    this.badTotal++;
    return this.add('bad', (seq, ms) => new Entry(seq, ms, 'bad', null, summarizeBad(badRow), badRow.data?.payload ?? null));
  }

  get(seq: number): Entry | undefined {
    return this.entries.get(seq);
  }

  /** Forgets a kept bad row that was replayed (it is no longer counted as bad). */
  removeBad(seq: number): boolean {
    const e = this.entries.get(seq);
    if (e === undefined || e.stream !== 'bad') return false;
    this.entries.delete(seq);
    this.kept.bad--;
    this.badTotal = Math.max(0, this.badTotal - 1);
    this.seq++;
    return true;
  }

  /** A kept good row with this event id and fingerprint (a replay must not add the same event twice). */
  findGood(eventId: unknown, fingerprint: unknown): Entry | undefined {
    if (typeof eventId !== 'string') return undefined;
    for (const e of this.entries.values()) {
      if (e.good !== null && e.good.event.event_id === eventId && e.good.event.event_fingerprint === fingerprint) return e;
    }
    return undefined;
  }

  counts(): Counts {
    return { total: this.goodTotal + this.badTotal, good: this.goodTotal, bad: this.badTotal, seq: this.seq };
  }

  retention(): Retention {
    return { max: this.maxEvents, kept: { ...this.kept }, dropped: { ...this.dropped } };
  }

  private newestFirst(stream?: Stream): Entry[] {
    const out: Entry[] = [];
    for (const e of this.entries.values()) if (stream === undefined || e.stream === stream) out.push(e);
    return out.reverse();
  }

  queryGood(f: GoodFilter = {}): Stored<GoodEvent>[] {
    const columns = (f.contexts ?? []).map(contextColumn);
    const out: Stored<GoodEvent>[] = [];
    for (const e of this.newestFirst('good')) {
      if (f.limit !== undefined && out.length >= f.limit) break;
      if (matchesGood(e.good!, f, columns)) out.push({ seq: e.seq, received: e.received, item: e.good! });
    }
    return out;
  }

  queryBad(f: BadFilter = {}): Stored<BadEvent>[] {
    const out: Stored<BadEvent>[] = [];
    for (const e of this.newestFirst('bad')) {
      if (f.limit !== undefined && out.length >= f.limit) break;
      if (matchesBad(e.bad!, f)) out.push({ seq: e.seq, received: e.received, item: e.bad! });
    }
    return out;
  }

  /** One page of the rows matching `q`, newest first (or oldest first). */
  queryEvents(q: EventQuery): EventPage {
    const all = this.newestFirst();
    if (q.order === 'oldest') all.reverse();
    const matching = all.filter((e) => matchesQuery(e, q));
    const totalPages = Math.max(1, Math.ceil(matching.length / q.pageSize));
    const from = (q.page - 1) * q.pageSize;
    return { page: q.page, pageSize: q.pageSize, totalItems: matching.length, totalPages, events: matching.slice(from, from + q.pageSize) };
  }

  /** Rows matching `filter` per `interval` seconds (only buckets that have rows), oldest first. */
  timeline(filter: Omit<EventQuery, 'page' | 'pageSize'>, interval: number): TimelineBucket[] {
    const width = interval * 1000;
    const buckets = new Map<number, { good: number; bad: number }>();
    for (const e of this.entries.values()) {
      if (!matchesQuery(e, filter)) continue;
      const key = Math.floor(e.receivedMs / width) * width;
      let b = buckets.get(key);
      if (b === undefined) buckets.set(key, (b = { good: 0, bad: 0 }));
      b[e.stream]++;
    }
    return [...buckets.entries()].sort((a, b) => a[0] - b[0]).map(([t, c]) => ({ time: new Date(t).toISOString(), good: c.good, bad: c.bad }));
  }

  /** The distinct values of the filterable fields over every kept row (for the page's suggestions), sorted. */
  facets(): { eventTypes: string[]; appIds: string[]; schemas: string[]; failureTypes: string[] } {
    const sets = { eventTypes: new Set<string>(), appIds: new Set<string>(), schemas: new Set<string>(), failureTypes: new Set<string>() };
    for (const e of this.entries.values()) {
      const f = e.fields;
      if (f.eventName !== null) sets.eventTypes.add(f.eventName);
      if (f.eventType !== null) sets.eventTypes.add(f.eventType);
      if (f.appId !== null) sets.appIds.add(f.appId);
      if (f.schema !== null) sets.schemas.add(f.schema);
      if (f.failureType !== null) sets.failureTypes.add(f.failureType);
    }
    const sorted = (x: Set<string>): string[] => [...x].sort();
    return { eventTypes: sorted(sets.eventTypes), appIds: sorted(sets.appIds), schemas: sorted(sets.schemas), failureTypes: sorted(sets.failureTypes) };
  }

  /** Kept bad rows, oldest first. */
  badEntries(): Entry[] {
    return this.newestFirst('bad').reverse();
  }

  reset(): void {
    this.entries.clear();
    this.order.good.clear();
    this.order.bad.clear();
    this.kept = { good: 0, bad: 0 };
    this.dropped = { good: 0, bad: 0 };
    this.goodTotal = 0;
    this.badTotal = 0;
    // The sequence moves on (never back), so a page showing old rows notices the reset.
    this.seq++;
  }
}
