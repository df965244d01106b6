/**
 * Memory sink: keeps the latest `maxEvents` records of each stream, readable by tests and the local mode.
 * Older records are counted, then dropped (bounded memory); `events()` parses what is kept.
 */
import type { CollectorPayload, BadRow } from '../payload';
import type { Sink, SinkRecord } from './types';

class Ring {
  private items: string[] = [];
  private start = 0;
  total = 0;
  constructor(private readonly max: number) {}
  push(v: string): void {
    this.total++;
    if (this.items.length < this.max) {
      this.items.push(v);
    } else {
      this.items[this.start] = v;
      this.start = (this.start + 1) % this.max;
    }
  }
  list(): string[] {
    return this.start === 0 ? this.items.slice() : [...this.items.slice(this.start), ...this.items.slice(0, this.start)];
  }
  get size(): number {
    return this.items.length;
  }
  clear(): void {
    this.items = [];
    this.start = 0;
    this.total = 0;
  }
}

export interface MemorySinkContents {
  readonly good: CollectorPayload[];
  readonly bad: BadRow[];
  /** Records ever written since the last clear, including those no longer kept. */
  readonly totals: { readonly good: number; readonly bad: number };
}

export type MemoryListener = (records: readonly SinkRecord[]) => void;

export class MemorySink implements Sink {
  readonly kind = 'memory';
  private readonly good: Ring;
  private readonly bad: Ring;
  private readonly listeners = new Set<MemoryListener>();

  constructor(maxEvents = 10000) {
    this.good = new Ring(maxEvents);
    this.bad = new Ring(maxEvents);
  }

  async write(records: readonly SinkRecord[]): Promise<readonly SinkRecord[]> {
    for (const r of records) (r.stream === 'good' ? this.good : this.bad).push(r.data);
    for (const l of this.listeners) l(records);
    return [];
  }

  /** Parsed copies of the kept records, oldest first. */
  events(): MemorySinkContents {
    return {
      good: this.good.list().map((s) => JSON.parse(s) as CollectorPayload),
      bad: this.bad.list().map((s) => JSON.parse(s) as BadRow),
      totals: { good: this.good.total, bad: this.bad.total },
    };
  }

  /** Raw JSON texts of the kept records, oldest first. */
  raw(): { good: string[]; bad: string[] } {
    return { good: this.good.list(), bad: this.bad.list() };
  }

  counts(): { good: number; bad: number; kept: number } {
    return { good: this.good.total, bad: this.bad.total, kept: this.good.size + this.bad.size };
  }

  clear(): void {
    this.good.clear();
    this.bad.clear();
  }

  /** Calls `listener` with every batch written; returns a function that removes it. */
  subscribe(listener: MemoryListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}
