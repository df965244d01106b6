/**
 * The local half of the recovery loop: kept bad rows are enriched again from their original payload, with the
 * enrichment as it is now (after a schema was fixed, the UDF is rebuilt first when the runtime knows how). A row that
 * now passes becomes a good row and leaves the bad ones; one that still fails is kept with its new failure. Replaying
 * twice adds nothing twice: a replayed bad row is gone, and a good row already kept (same event id and fingerprint)
 * is not added again.
 */
import { decodePayload } from './payload';
import type { EventStore } from './store';
import type { Udf } from './udf';

/** The UDF in use, and (when the runtime can rebuild it from the schema folders) a way to get a fresh one. */
export interface UdfHolder {
  current: Udf;
  /** Rebuilds the UDF from the schema folders as they are now and returns it (set as `current` by the caller). */
  readonly rebuild?: () => Promise<Udf>;
}

export interface ReplayResult {
  /** The UDF file that enriched the replay. */
  readonly udf: string;
  /** Whether the UDF was rebuilt from the schema folders first. */
  readonly rebuilt: boolean;
  readonly replayed: number;
  /** Bad rows that became good rows. */
  readonly good: number;
  /** Bad rows that still fail (kept, with the new failure). */
  readonly stillBad: number;
  /** Good rows that were already kept (not added again). */
  readonly duplicates: number;
  readonly skipped: ReadonlyArray<{ readonly seq: number; readonly reason: string }>;
  readonly results: ReadonlyArray<{ readonly seq: number; readonly outcome: 'good' | 'bad' | 'duplicate'; readonly newSeq: number | null }>;
}

export class ReplayError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
    this.name = 'ReplayError';
  }
}

/** Replays the kept bad rows `seqs` (all kept bad rows when omitted), oldest first. */
export async function replayBadRows(store: EventStore, holder: UdfHolder, seqs?: readonly number[]): Promise<ReplayResult> {
  let rebuilt = false;
  if (holder.rebuild) {
    try {
      holder.current = await holder.rebuild();
      rebuilt = true;
    } catch (e) {
      throw new ReplayError(`the enrichment could not be rebuilt from the schema folders, nothing was replayed: ${(e as Error).message}`, 422);
    }
  }
  const udf = holder.current;
  const skipped: Array<{ seq: number; reason: string }> = [];
  const targets = seqs === undefined ? store.badEntries() : seqs.map((seq) => {
    const e = store.get(seq);
    if (e === undefined || e.stream !== 'bad') skipped.push({ seq, reason: e === undefined ? 'no such row is kept (replayed already, dropped or reset)' : 'a good row' });
    return e !== undefined && e.stream === 'bad' ? e : null;
  }).filter((e) => e !== null);
  const results: Array<{ seq: number; outcome: 'good' | 'bad' | 'duplicate'; newSeq: number | null }> = [];
  let good = 0;
  let stillBad = 0;
  let duplicates = 0;
  for (const e of targets) {
    const raw = e.raw;
    if (raw === null || raw === undefined || decodePayload(raw).format === 'unknown') {
      skipped.push({ seq: e.seq, reason: 'its original payload is not a collector payload (nothing to enrich again)' });
      continue;
    }
    const outcome = udf.enrich(typeof raw === 'string' ? raw : JSON.stringify(raw));
    store.removeBad(e.seq);
    if ('good' in outcome) {
      const existing = store.findGood(outcome.good.event_id, outcome.good.event_fingerprint);
      if (existing !== undefined) {
        duplicates++;
        results.push({ seq: e.seq, outcome: 'duplicate', newSeq: existing.seq });
        continue;
      }
      good++;
      results.push({ seq: e.seq, outcome: 'good', newSeq: store.addGood(outcome.good, raw, e.seq).seq });
    } else {
      stillBad++;
      results.push({ seq: e.seq, outcome: 'bad', newSeq: store.addBad(outcome.bad).seq });
    }
  }
  return { udf: udf.path, rebuilt, replayed: results.length, good, stillBad, duplicates, skipped, results };
}
