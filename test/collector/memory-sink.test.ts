/**
 * The memory sink's store: the latest records, intact and in order, whatever their sizes, while the byte arena wraps
 * around and records too large for it are kept aside.
 */
import { MemorySink } from '../../collector/sinks/memory';
import type { SinkRecord } from '../../collector/sinks/types';

/** A deterministic pseudo-random generator (the test must be reproducible). */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
}

const PIECES = ['a', 'é', '–', '😀', '"', '\\', 'x'.repeat(100)];

function record(i: number, size: number, rnd: () => number): string {
  let body = '';
  while (body.length < size) body += PIECES[Math.floor(rnd() * PIECES.length)];
  return JSON.stringify({ i, body });
}

async function writeAll(sink: MemorySink, texts: string[], stream: 'good' | 'bad' = 'good'): Promise<void> {
  // Several records per write, as the delivery buffer hands them over.
  for (let i = 0; i < texts.length; i += 7) {
    const batch: SinkRecord[] = texts.slice(i, i + 7).map((data) => ({ stream, data, attributes: {} }));
    await sink.write(batch);
  }
}

/** The kept records are the latest ones, unchanged and in order: a suffix of what was written. */
function expectSuffix(kept: string[], written: string[]): void {
  expect(kept).toEqual(written.slice(written.length - kept.length));
}

describe('MemorySink', () => {
  test('keeps exactly the latest maxEvents small records, in order, through many wraps of its arena', async () => {
    const rnd = random(7);
    const sink = new MemorySink(50);
    const written = Array.from({ length: 5000 }, (_, i) => record(i, Math.floor(rnd() * 3000), rnd));
    await writeAll(sink, written);
    expect(sink.raw().good).toEqual(written.slice(-50));
    expect(sink.counts()).toEqual({ good: 5000, bad: 0, kept: 50 });
    expect(sink.events().good.map((p) => (p as unknown as { i: number }).i)).toEqual(written.slice(-50).map((_, k) => 4950 + k));
  });

  test('large records: fewer are kept when the arena is full, never a damaged one; the largest are kept aside', async () => {
    const rnd = random(11);
    // 100 slots → a 1 MiB arena, and records of 5,000-40,000 characters: the arena fills long before the slots do,
    // so the writer keeps catching up with the oldest records. One in ten is of 45,000-60,000 characters, which needs
    // more room than an eighth of the arena: it is kept as a string.
    const sink = new MemorySink(100);
    const written: string[] = [];
    for (let round = 0; round < 400; round++) {
      const size = rnd() < 0.1 ? 45000 + Math.floor(rnd() * 15000) : 5000 + Math.floor(rnd() * 35000);
      written.push(record(round, size, rnd));
      await writeAll(sink, written.slice(-1));
      const kept = sink.raw().good;
      expect(kept.length).toBeGreaterThan(0);
      expect(kept.length).toBeLessThanOrEqual(100);
      expectSuffix(kept, written);
    }
    const kept = sink.raw().good;
    // The arena held many of them (not one or two), though fewer than the 100 slots.
    expect(kept.length).toBeGreaterThanOrEqual(20);
    expect(kept.length).toBeLessThan(100);
    expect(sink.counts().good).toBe(400);
  });

  test('slots grow with the records kept, also after the arena dropped the oldest ones', async () => {
    const rnd = random(5);
    const sink = new MemorySink(4000);
    // 300 records of 40,000 characters overflow the 8 MiB arena: the oldest are dropped and the first slot moves on.
    const written = Array.from({ length: 300 }, (_, i) => record(i, 40000, rnd));
    await writeAll(sink, written);
    expect(sink.raw().good.length).toBeLessThan(300);
    expectSuffix(sink.raw().good, written);
    // Then 5,000 small ones: the slots grow from 1,024 to 4,000 while the kept records start mid-way.
    for (let chunk = 0; chunk < 10; chunk++) {
      const small = Array.from({ length: 500 }, (_, i) => record(300 + chunk * 500 + i, 50, rnd));
      written.push(...small);
      await writeAll(sink, small);
      expectSuffix(sink.raw().good, written);
      expect(sink.raw().good.length).toBeGreaterThanOrEqual(Math.min(4000, (chunk + 1) * 500));
    }
    expect(sink.raw().good).toEqual(written.slice(-4000));
    expect(sink.counts()).toEqual({ good: 5300, bad: 0, kept: 4000 });
  });

  test('good and bad records are kept apart; clear forgets both and starts again', async () => {
    const sink = new MemorySink(3);
    await writeAll(sink, ['{"g":1}', '{"g":2}', '{"g":3}', '{"g":4}']);
    await writeAll(sink, ['{"b":1}'], 'bad');
    expect(sink.raw()).toEqual({ good: ['{"g":2}', '{"g":3}', '{"g":4}'], bad: ['{"b":1}'] });
    sink.clear();
    expect(sink.raw()).toEqual({ good: [], bad: [] });
    expect(sink.counts()).toEqual({ good: 0, bad: 0, kept: 0 });
    await writeAll(sink, ['{"g":5}', '']);
    expect(sink.raw().good).toEqual(['{"g":5}', '']);
  });
});
