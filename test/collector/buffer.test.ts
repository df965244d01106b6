import { BufferOptions, DeliveryBuffer } from '../../collector/buffer';
import type { Sink, SinkRecord } from '../../collector/sinks/types';
import { waitFor } from './support';

/** A sink that fails on demand: `mode` decides each write's fate; it records what it was given. */
class ScriptedSink implements Sink {
  readonly kind = 'scripted';
  written: string[] = [];
  writes = 0;
  inflight = 0;
  maxInflight = 0;
  mode: 'ok' | 'fail' | 'half' = 'ok';
  async write(records: readonly SinkRecord[]): Promise<readonly SinkRecord[]> {
    this.writes++;
    this.inflight++;
    this.maxInflight = Math.max(this.maxInflight, this.inflight);
    await new Promise((r) => setTimeout(r, 1));
    this.inflight--;
    if (this.mode === 'fail') throw new Error('UNAVAILABLE: sink down');
    if (this.mode === 'half') {
      // Odd positions fail; the rest are written.
      const failed = records.filter((_, i) => i % 2 === 1);
      this.written.push(...records.filter((_, i) => i % 2 === 0).map((r) => r.data));
      return failed;
    }
    this.written.push(...records.map((r) => r.data));
    return [];
  }
  async close(): Promise<void> {}
}

const OPTIONS: BufferOptions = { maxEvents: 100, maxBytes: 1_000_000, batchSize: 10, maxInflightBatches: 4, retryInitialMs: 2, retryMaxMs: 20, sinkUnhealthyAfterMs: 60_000 };
const records = (from: number, n: number): SinkRecord[] => Array.from({ length: n }, (_, i) => ({ stream: 'good' as const, data: `e${from + i}`, attributes: {} }));

describe('DeliveryBuffer', () => {
  test('accepts a request all-or-nothing up to maxEvents, then refuses "full"; space frees once the sink has written', async () => {
    const sink = new ScriptedSink();
    sink.mode = 'fail';
    const buffer = new DeliveryBuffer(sink, OPTIONS);
    expect(buffer.offer(records(0, 60))).toBe('accepted');
    expect(buffer.offer(records(60, 41))).toBe('full'); // 101 > 100: none of the 41 is taken
    expect(buffer.offer(records(60, 40))).toBe('accepted');
    expect(buffer.offer(records(100, 1))).toBe('full');
    expect(buffer.stats()).toMatchObject({ events: 100, accepted: 100, refusedFull: 2 });
    sink.mode = 'ok';
    await waitFor('the buffer to empty', () => (buffer.stats().events === 0 ? true : undefined));
    expect(new Set(sink.written).size).toBe(100);
    expect(buffer.offer(records(100, 1))).toBe('accepted');
    await buffer.drain(5000);
  });

  test('bytes are bounded too', () => {
    const buffer = new DeliveryBuffer(new ScriptedSink(), { ...OPTIONS, maxBytes: 2000 });
    const big = [{ stream: 'good' as const, data: 'x'.repeat(1500), attributes: {} }];
    expect(buffer.offer(big)).toBe('accepted');
    expect(buffer.offer(big)).toBe('full');
  });

  test('failed writes are retried with backoff until they succeed; nothing is lost; while failing one probe batch at a time', async () => {
    const sink = new ScriptedSink();
    sink.mode = 'fail';
    const buffer = new DeliveryBuffer(sink, OPTIONS);
    for (let i = 0; i < 9; i++) expect(buffer.offer(records(i * 10, 10))).toBe('accepted');
    await waitFor('several failed writes', () => (sink.writes >= 6 ? true : undefined));
    expect(sink.written).toEqual([]);
    expect(buffer.stats().events).toBe(90);
    const inflightWhileFailing = sink.maxInflight;
    sink.mode = 'ok';
    await waitFor('everything written', () => (buffer.stats().events === 0 ? true : undefined));
    expect(new Set(sink.written)).toEqual(new Set(records(0, 90).map((r) => r.data)));
    expect(buffer.stats()).toMatchObject({ delivered: 90, sinkHealthy: true, sinkFailingForMs: 0 });
    expect(buffer.stats().failedWrites).toBeGreaterThanOrEqual(6);
    // The first failure can happen with several batches in flight; after that only one probe at a time.
    expect(inflightWhileFailing).toBeLessThanOrEqual(OPTIONS.maxInflightBatches);
    sink.maxInflight = 0;
    sink.mode = 'fail';
    buffer.offer(records(1000, 50));
    await waitFor('failing again', () => (buffer.stats().sinkFailingForMs > 0 ? true : undefined));
    sink.maxInflight = 0;
    const before = sink.writes;
    await waitFor('more probes', () => (sink.writes > before + 5 ? true : undefined));
    expect(sink.maxInflight).toBe(1);
    sink.mode = 'ok';
    expect(await buffer.drain(10000)).toBe(0);
  });

  test('partially failed writes retry only the failed records', async () => {
    const sink = new ScriptedSink();
    sink.mode = 'half';
    const buffer = new DeliveryBuffer(sink, { ...OPTIONS, batchSize: 8 });
    buffer.offer(records(0, 8));
    await waitFor('everything written', () => (buffer.stats().events === 0 ? true : undefined));
    // 8 → 4 written, 4 retried → 2 written ... the last single record is position 0 and succeeds: no duplicates.
    expect([...sink.written].sort()).toEqual(records(0, 8).map((r) => r.data).sort());
  });

  test('a sink failing longer than sinkUnhealthyAfterMs makes offers "unhealthy" until it recovers', async () => {
    let now = 1_000_000;
    const sink = new ScriptedSink();
    sink.mode = 'fail';
    const buffer = new DeliveryBuffer(sink, { ...OPTIONS, sinkUnhealthyAfterMs: 5000 }, undefined, () => now);
    buffer.offer(records(0, 1));
    await waitFor('a failed write', () => (sink.writes > 0 && buffer.stats().failedWrites > 0 ? true : undefined));
    expect(buffer.sinkHealthy()).toBe(true);
    now += 5001;
    expect(buffer.sinkHealthy()).toBe(false);
    expect(buffer.offer(records(1, 1))).toBe('unhealthy');
    sink.mode = 'ok';
    await waitFor('recovery', () => (buffer.sinkHealthy() ? true : undefined));
    expect(buffer.offer(records(1, 1))).toBe('accepted');
    expect(buffer.stats().refusedUnhealthy).toBe(1);
    await buffer.drain(5000);
  });

  test('onDelivered fires once every record of the offer is written', async () => {
    const sink = new ScriptedSink();
    const buffer = new DeliveryBuffer(sink, { ...OPTIONS, batchSize: 3 });
    const fired: number[] = [];
    buffer.offer(records(0, 7), () => fired.push(sink.written.length));
    buffer.offer([], () => fired.push(-1));
    await waitFor('delivery', () => (fired.length === 2 ? true : undefined));
    expect(fired).toEqual([-1, 7]);
  });

  test('drain: stops accepting, waits for the sink, reports what is left when time runs out', async () => {
    const sink = new ScriptedSink();
    sink.mode = 'fail';
    const buffer = new DeliveryBuffer(sink, OPTIONS);
    buffer.offer(records(0, 5));
    expect(await buffer.drain(50)).toBe(5);
    expect(buffer.offer(records(5, 1))).toBe('closed');

    const ok = new DeliveryBuffer(new ScriptedSink(), OPTIONS);
    ok.offer(records(0, 30));
    expect(await ok.drain(5000)).toBe(0);
  });
});
