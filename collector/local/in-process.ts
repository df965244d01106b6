/**
 * In-process mode: the collector's sink enriches every accepted CollectorPayload with the shipped UDF bundle and
 * keeps the rows in memory, each good row with the payload it came from; collector bad rows (oversized or malformed
 * requests) are kept as they are. Kept bad rows can be replayed (./replay).
 */
import type { Sink, SinkRecord } from '../sinks/types';
import type { RowSource } from './api';
import { replayBadRows, UdfHolder } from './replay';
import { EventStore } from './store';
import { EnrichOutcome, localBadRow, Udf } from './udf';
import type { BadRowJson } from './udf';

/** Enriches a collector record (a bad row of the collector stays as it is), stores the outcome and returns it. */
export function storeRecord(store: EventStore, udf: Udf, record: SinkRecord): EnrichOutcome {
  let outcome: EnrichOutcome;
  if (record.stream === 'good') {
    outcome = udf.enrich(record.data);
  } else {
    let parsed: unknown;
    try {
      parsed = JSON.parse(record.data);
    } catch {
      parsed = null;
    }
    outcome = { bad: parsed !== null && typeof parsed === 'object' ? (parsed as BadRowJson) : localBadRow('the collector wrote a bad row that is not JSON', record.data) };
  }
  if ('good' in outcome) store.addGood(outcome.good, record.data);
  else store.addBad(outcome.bad);
  return outcome;
}

export class EnrichingSink implements Sink {
  readonly kind = 'local-enrich';
  private readonly holder: UdfHolder;
  constructor(udf: Udf | UdfHolder, private readonly store: EventStore, private readonly onRow?: (outcome: EnrichOutcome) => void) {
    this.holder = 'enrich' in udf ? { current: udf } : udf;
  }

  async write(records: readonly SinkRecord[]): Promise<readonly SinkRecord[]> {
    for (const r of records) {
      const outcome = storeRecord(this.store, this.holder.current, r);
      this.onRow?.(outcome);
    }
    return [];
  }

  async close(): Promise<void> {}
}

/** The rows in memory; with a UDF holder, kept bad rows can be replayed. */
export function memorySource(store: EventStore, holder?: UdfHolder): RowSource {
  return {
    mode: 'in-process',
    current: async () => store,
    reset: async () => store.reset(),
    replay: holder === undefined ? undefined : (seqs) => replayBadRows(store, holder, seqs),
  };
}
