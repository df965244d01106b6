/**
 * The recovery loop over selected bad rows: re-validate each original message against the current registry (the
 * enrichment itself, built from the schema folders, so "passes" means exactly what the pipeline will do with it),
 * then republish the messages that now pass to the raw topic, recording each replayed id in a state file (and in the
 * message's `waymark_replay_id` attribute) so that a second run never publishes the same message again.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { BadRowRecord } from './rows';

/** What the tool needs of an enricher (pipeline/enrich.ts `Enricher`). */
export interface Revalidator {
  enrichToJson(input: string): { json: string; badRow?: undefined } | { json?: undefined; badRow: { data: { type: string; failure: { messages: ReadonlyArray<{ message?: string; expectation?: string; schemaKey?: string }> } } } };
}

/** Publishes one message; resolves to its message id. */
export type Publisher = (data: Buffer, attributes: Record<string, string>) => Promise<string>;

export const REPLAY_ID_ATTRIBUTE = 'waymark_replay_id';
export const REPLAYED_AT_ATTRIBUTE = 'waymark_replayed_at';

export interface ReplayState {
  readonly version: 1;
  readonly replayed: Record<string, { readonly at: string; readonly topic: string; readonly messageId: string }>;
}

/** Reads a state file; a missing file is an empty state, an unreadable one an error (it is never overwritten). */
export function loadState(file: string): ReplayState {
  if (!existsSync(file)) return { version: 1, replayed: {} };
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`the state file ${file} is not JSON (${(e as Error).message}); it lists what was replayed, so it is not overwritten: fix or move it`);
  }
  const s = parsed as ReplayState;
  if (s === null || typeof s !== 'object' || s.version !== 1 || typeof s.replayed !== 'object' || s.replayed === null) {
    throw new Error(`the state file ${file} is not a Waymark replay state (version 1); it is not overwritten: fix or move it`);
  }
  return { version: 1, replayed: { ...s.replayed } };
}

/** Writes the state atomically (a temporary file renamed over the old one). */
export function saveState(file: string, state: ReplayState): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 1)}\n`);
  renameSync(tmp, file);
}

export interface RecoverOptions {
  /** Re-validate with this enricher; without one every recoverable row counts as passing (`--no-validate`). */
  readonly revalidator?: Revalidator;
  /** Publish (omit for a dry run). */
  readonly replay?: { readonly publish: Publisher; readonly topic: string; readonly stateFile: string; readonly includeFailing?: boolean };
  readonly now?: () => Date;
}

export interface RecoverReport {
  readonly selected: number;
  /** Rows whose message cannot be republished (cut payloads, none). */
  readonly unrecoverable: number;
  readonly wouldPass: number;
  readonly stillFailing: number;
  /** Still-failing rows by their new failure type, with a sample message. */
  readonly stillFailingByType: Record<string, { count: number; sample: string }>;
  readonly alreadyReplayed: number;
  readonly published: number;
  readonly publishErrors: readonly string[];
  readonly dryRun: boolean;
}

function firstMessage(messages: ReadonlyArray<{ message?: string; expectation?: string; schemaKey?: string }>): string {
  const m = messages[0];
  if (!m) return '';
  return [m.schemaKey, m.message ?? m.expectation].filter((x) => x !== undefined).join(': ');
}

export async function recover(records: readonly BadRowRecord[], options: RecoverOptions): Promise<RecoverReport> {
  const now = options.now ?? (() => new Date());
  const replay = options.replay;
  const state = replay ? loadState(replay.stateFile) : { version: 1 as const, replayed: {} };
  let unrecoverable = 0;
  let wouldPass = 0;
  let stillFailing = 0;
  let alreadyReplayed = 0;
  const byType: Record<string, { count: number; sample: string }> = {};
  const toPublish: BadRowRecord[] = [];
  for (const r of records) {
    if (r.payload === null) {
      unrecoverable++;
      continue;
    }
    let passes = true;
    if (options.revalidator) {
      const result = options.revalidator.enrichToJson(r.payload);
      if (result.json === undefined) {
        passes = false;
        const t = result.badRow.data.type;
        byType[t] ??= { count: 0, sample: firstMessage(result.badRow.data.failure.messages) };
        byType[t].count++;
      }
    }
    if (passes) wouldPass++;
    else stillFailing++;
    if (!replay || (!passes && !replay.includeFailing)) continue;
    if (state.replayed[r.id]) {
      alreadyReplayed++;
      continue;
    }
    toPublish.push(r);
  }

  let published = 0;
  const publishErrors: string[] = [];
  if (replay) {
    const CHUNK = 500;
    for (let i = 0; i < toPublish.length; i += CHUNK) {
      const chunk = toPublish.slice(i, i + CHUNK);
      const at = now().toISOString();
      const results = await Promise.allSettled(chunk.map((r) => {
        const attributes: Record<string, string> = {};
        for (const [k, v] of Object.entries(r.attributes)) if (k !== REPLAY_ID_ATTRIBUTE && k !== REPLAYED_AT_ATTRIBUTE) attributes[k] = v;
        attributes[REPLAY_ID_ATTRIBUTE] = r.id;
        attributes[REPLAYED_AT_ATTRIBUTE] = at;
        return replay.publish(Buffer.from(r.payload as string, 'utf8'), attributes);
      }));
      results.forEach((res, k) => {
        const r = chunk[k];
        if (res.status === 'fulfilled') {
          state.replayed[r.id] = { at, topic: replay.topic, messageId: res.value };
          published++;
        } else {
          publishErrors.push(`${r.id}: ${(res.reason as Error)?.message ?? String(res.reason)}`);
        }
      });
      // Recorded after the publish is acknowledged: a crash in between can repeat a message, never lose one.
      saveState(replay.stateFile, state);
    }
    if (toPublish.length === 0) saveState(replay.stateFile, state);
  }
  return { selected: records.length, unrecoverable, wouldPass, stillFailing, stillFailingByType: byType, alreadyReplayed, published, publishErrors, dryRun: !replay };
}
