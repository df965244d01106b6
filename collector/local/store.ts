/**
 * The rows the inspection API serves: the latest good and bad events (bounded: the oldest are counted, then
 * dropped), with totals and a sequence number that changes whenever something arrives or is reset.
 */
import { BadEvent, BadFilter, contextColumn, GoodEvent, GoodFilter, matchesBad, matchesGood, summarizeBad, summarizeGood } from './rows';
import type { BadRowJson, Row } from './udf';

export interface Stored<T> {
  /** Arrival order across both streams (increasing; a reset does not restart it). */
  readonly seq: number;
  /** When the row reached the store (ISO 8601). */
  readonly received: string;
  readonly item: T;
}

class Ring<T> {
  private items: T[] = [];
  private start = 0;
  constructor(private readonly max: number) {}
  push(v: T): void {
    if (this.items.length < this.max) this.items.push(v);
    else {
      this.items[this.start] = v;
      this.start = (this.start + 1) % this.max;
    }
  }
  /** Newest first. */
  newestFirst(): T[] {
    const out: T[] = [];
    for (let i = this.items.length - 1; i >= 0; i--) out.push(this.items[(this.start + i) % this.items.length]);
    return out;
  }
  get size(): number {
    return this.items.length;
  }
  clear(): void {
    this.items = [];
    this.start = 0;
  }
}

export interface Counts {
  readonly total: number;
  readonly good: number;
  readonly bad: number;
  /** Changes whenever rows arrive or are reset (the events page polls it). */
  readonly seq: number;
}

export class EventStore {
  private good: Ring<Stored<GoodEvent>>;
  private bad: Ring<Stored<BadEvent>>;
  private goodTotal = 0;
  private badTotal = 0;
  private seq = 0;

  constructor(readonly maxEvents: number, private readonly now: () => number = Date.now) {
    this.good = new Ring(maxEvents);
    this.bad = new Ring(maxEvents);
  }

  addGood(row: Row): void {
    this.goodTotal++;
    this.good.push({ seq: ++this.seq, received: new Date(this.now()).toISOString(), item: summarizeGood(row) });
  }

  addBad(badRow: BadRowJson): void {
    this.badTotal++;
    this.bad.push({ seq: ++this.seq, received: new Date(this.now()).toISOString(), item: summarizeBad(badRow) });
  }

  counts(): Counts {
    return { total: this.goodTotal + this.badTotal, good: this.goodTotal, bad: this.badTotal, seq: this.seq };
  }

  queryGood(f: GoodFilter = {}): Stored<GoodEvent>[] {
    const columns = (f.contexts ?? []).map(contextColumn);
    const out: Stored<GoodEvent>[] = [];
    for (const s of this.good.newestFirst()) {
      if (f.limit !== undefined && out.length >= f.limit) break;
      if (matchesGood(s.item, f, columns)) out.push(s);
    }
    return out;
  }

  queryBad(f: BadFilter = {}): Stored<BadEvent>[] {
    const out: Stored<BadEvent>[] = [];
    for (const s of this.bad.newestFirst()) {
      if (f.limit !== undefined && out.length >= f.limit) break;
      if (matchesBad(s.item, f)) out.push(s);
    }
    return out;
  }

  reset(): void {
    this.good.clear();
    this.bad.clear();
    this.goodTotal = 0;
    this.badTotal = 0;
    // The sequence moves on (never back), so a page showing old rows notices the reset.
    this.seq++;
  }
}
