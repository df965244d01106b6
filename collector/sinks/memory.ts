/**
 * Memory sink: keeps the latest `maxEvents` records of each stream (fewer when they are large: see Ring), readable by
 * tests and the local mode.
 * Older records are counted, then dropped (bounded memory); `events()` parses what is kept.
 */
import type { CollectorPayload, BadRow } from '../payload';
import type { Sink, SinkRecord } from './types';

/** Bytes of arena per kept record (1 MiB at least, 64 MiB at most): room for the usual 1-2 KB records. */
const ARENA_BYTES_PER_RECORD = 2048;
const MIN_ARENA = 1 << 20;
const MAX_ARENA = 64 << 20;
/** A slot whose record is kept as a string (too large for the arena). */
const OUTSIDE = 0xffffffff;

/**
 * The latest `max` records of one stream, as UTF-8 bytes in one circular arena.
 *
 * Speed (the collector's hot path): a kept string outlives the garbage collector's young generation and is copied
 * twice (young, then old) and marked again and again while it is kept; with 10,000 records of about 1 KB kept, that
 * cost 3-8 µs per GET request (docs/BENCHMARKS.md). Bytes in one Buffer are outside the JavaScript heap and cost one
 * copy. The arena is a log: records are written one after the other and wrap around to the start; writing over the
 * oldest records drops them (counted, like records beyond `max`). A record larger than an eighth of the arena is
 * kept as a string instead.
 */
class Ring {
  private arena: Buffer | null = null;
  private readonly arenaBytes: number;
  /** Slots, grown by doubling up to `max` (a large `max` costs nothing until records come). */
  private capacity: number;
  private starts: Uint32Array;
  private lengths: Uint32Array;
  private outside: (string | undefined)[];
  /** Slot of the oldest record, and how many are kept. */
  private oldest = 0;
  private count = 0;
  /** Where the next record's bytes go. */
  private head = 0;
  total = 0;

  constructor(private readonly max: number) {
    this.arenaBytes = Math.min(MAX_ARENA, Math.max(MIN_ARENA, max * ARENA_BYTES_PER_RECORD));
    this.capacity = Math.min(max, 1024);
    this.starts = new Uint32Array(this.capacity);
    this.lengths = new Uint32Array(this.capacity);
    this.outside = new Array<string | undefined>(this.capacity);
  }

  private grow(): void {
    const capacity = Math.min(this.max, this.capacity * 2);
    const starts = new Uint32Array(capacity);
    const lengths = new Uint32Array(capacity);
    const outside = new Array<string | undefined>(capacity);
    for (let i = 0; i < this.count; i++) {
      const slot = (this.oldest + i) % this.capacity;
      starts[i] = this.starts[slot];
      lengths[i] = this.lengths[slot];
      outside[i] = this.outside[slot];
    }
    this.capacity = capacity;
    this.starts = starts;
    this.lengths = lengths;
    this.outside = outside;
    this.oldest = 0;
  }

  push(v: string): void {
    this.total++;
    if (this.count === this.max) this.dropOldest();
    else if (this.count === this.capacity) this.grow();
    const slot = (this.oldest + this.count) % this.capacity;
    // At most 3 bytes per UTF-16 unit: the room to make before writing (the write says how many it took).
    const room = v.length * 3;
    if (room > this.arenaBytes / 8) {
      this.starts[slot] = 0;
      this.lengths[slot] = OUTSIDE;
      this.outside[slot] = v;
    } else {
      if (this.arena === null) this.arena = Buffer.allocUnsafeSlow(this.arenaBytes);
      if (this.head + room > this.arenaBytes) this.head = 0;
      this.makeRoom(this.head, room);
      const written = this.arena.write(v, this.head, 'utf8');
      this.starts[slot] = this.head;
      this.lengths[slot] = written;
      this.outside[slot] = undefined;
      this.head += written;
    }
    this.count++;
  }

  /**
   * Drops records until [from, from + bytes) holds no kept bytes. The oldest record kept in the arena is the first one
   * ahead of `head`, so only it needs looking at, again and again (records kept as strings before it go with it).
   */
  private makeRoom(from: number, bytes: number): void {
    while (this.count > 0) {
      let i = 0;
      while (i < this.count && this.lengths[(this.oldest + i) % this.capacity] === OUTSIDE) i++;
      if (i === this.count) return;
      const slot = (this.oldest + i) % this.capacity;
      const start = this.starts[slot];
      if (start >= from + bytes || start + this.lengths[slot] <= from) return;
      for (let k = 0; k <= i; k++) this.dropOldest();
    }
  }

  private dropOldest(): void {
    this.outside[this.oldest] = undefined;
    this.oldest = (this.oldest + 1) % this.capacity;
    this.count--;
  }

  list(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.count; i++) {
      const slot = (this.oldest + i) % this.capacity;
      const len = this.lengths[slot];
      out.push(len === OUTSIDE ? this.outside[slot]! : this.arena!.toString('utf8', this.starts[slot], this.starts[slot] + len));
    }
    return out;
  }

  get size(): number {
    return this.count;
  }

  clear(): void {
    this.outside.fill(undefined);
    this.arena = null;
    this.oldest = 0;
    this.count = 0;
    this.head = 0;
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
