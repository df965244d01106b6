/**
 * The enricher: one input message in, exactly one good row or one bad row out. Pure over plain data, engine-neutral
 * (ES5 built-ins only), configured once by {@link createEnricher} with the compiled validators and the deployment's
 * enrichment configuration. The stages, in the order they run (each a module with one job, each stopping the event
 * with its own failure type):
 *
 *   size guard → JSON          stages/input.ts         size_violation, collector_payload_format_violation
 *   adapter (input format)     stages/adapter.ts       adapter_failures (a collector bad row passes through)
 *   tracker protocol           stages/protocol.ts      tracker_protocol_violations
 *   schemas                    stages/schemas.ts       schema_violations
 *   the event's own fields     stages/event-fields.ts  (collector, ETL and event-type columns; cannot fail)
 *   enrichments                enrichments/index.ts    enrichment_failures (the enrichments' order is its list)
 *   row                        stages/row.ts           (self-describing columns, the row object or its JSON)
 *
 * One event is one {@link EventState} the stages fill in place. An exception anywhere is a bug, not bad data: it
 * still gives one bad row (generic_error) with the payload, never a crash of the caller.
 */
import type { RawEvent } from './adapters';
import { BadRow, badRow, FailureMessage, FailureType } from './badrow';
import { resolveEnrichmentConfig, ResolvedConfig } from './config';
import { createEnrichmentRunner } from './enrichments';
import { formatTimestamp } from './time';
import type { ValidatorSet } from './validation/types';
import { adaptMessage } from './stages/adapter';
import { errorText, EventState, newEventState, StageFailure } from './stages/event';
import { setEventFields } from './stages/event-fields';
import { readMessage } from './stages/input';
import { mapProtocol } from './stages/protocol';
import { addSelfDescribingColumns, Row, toJson, toRow } from './stages/row';
import { createSchemaStage } from './stages/schemas';

export type { Row } from './stages/row';

export type EnrichResult = { row: Row; badRow?: undefined } | { row?: undefined; badRow: BadRow };

/** The good row already serialised (what the UDF returns), or the bad row. */
export type EnrichJsonResult = { json: string; badRow?: undefined } | { json?: undefined; badRow: BadRow };

export interface EnricherOptions {
  /** Compiled validators keyed by full Iglu schema key (`waymark:validators` in the UDF). */
  readonly validators: ValidatorSet;
  /** The deployment's enrichment configuration (see config.ts); checked once here. @default all defaults */
  readonly config?: unknown;
  /** Milliseconds since the epoch for etl_tstamp and failure timestamps; inject a fixed clock in tests. @default Date.now */
  readonly clock?: () => number;
}

export interface Enricher {
  /** Enriches one message: the text of a Pub/Sub message or one JSONL line. */
  enrich(input: string): EnrichResult;
  /**
   * Like {@link enrich}, with the good row as JSON text: exactly `JSON.stringify(enrich(input).row)`, written
   * directly (the UDF's hot path).
   */
  enrichToJson(input: string): EnrichJsonResult;
  /** Enriches an already-parsed message (`raw`, when known, is kept in bad rows instead of re-serialising). */
  enrichJson(json: unknown): EnrichResult;
  /** Enriches one adapted event. */
  enrichEvent(event: RawEvent, payload: unknown): EnrichResult;
  /** The configuration in effect, defaults filled in. */
  readonly config: ResolvedConfig;
}

/** Creates an enricher. Throws (with a message naming the setting) when the configuration is invalid. */
export function createEnricher(options: EnricherOptions): Enricher {
  const config = resolveEnrichmentConfig(options.config);
  const validators = options.validators;
  const clock = options.clock || Date.now;
  const schemas = createSchemaStage(validators, config);
  const enrichments = createEnrichmentRunner(config);

  // The last etl time and its text: events of the same millisecond share them.
  let lastNow = -1;
  let lastNowText = '';
  function nowText(now: number): string {
    if (now !== lastNow) {
      lastNowText = formatTimestamp(now) || '1970-01-01T00:00:00.000Z';
      lastNow = now;
    }
    return lastNowText;
  }

  function failure(type: FailureType, messages: readonly FailureMessage[], payload: unknown, now: number): { badRow: BadRow } {
    return { badRow: badRow(type, messages, nowText(now), payload) };
  }

  /** Message text → the event's state or a bad row. */
  function fromText(input: string, now: number): EventState | { badRow: BadRow } {
    const read = readMessage(input, config);
    if (read.type !== undefined) return failure(read.type, read.messages, read.payload, now);
    return fromJson(read.value, now);
  }

  function fromJson(json: unknown, now: number): EventState | { badRow: BadRow } {
    const adapted = adaptMessage(json, validators);
    if (adapted.event !== undefined) return fromEvent(adapted.event, json, now);
    if (adapted.badRow !== undefined) return { badRow: adapted.badRow };
    return failure(adapted.type, adapted.messages, json, now);
  }

  /** The stages after the adapter, in order; the first that fails ends the event. */
  function fromEvent(event: RawEvent, payload: unknown, now: number): EventState | { badRow: BadRow } {
    try {
      const s = newEventState(event);
      let failed: StageFailure | null = mapProtocol(s, config);
      if (failed === null) failed = schemas.check(s);
      if (failed === null) {
        setEventFields(s, config, now, nowText(now));
        failed = enrichments(s);
      }
      if (failed !== null) return failure(failed.type, failed.messages, payload, now);
      addSelfDescribingColumns(s);
      return s;
    } catch (e) {
      // A bug, not bad data: still one bad row, with the payload, never a crash of the caller.
      return failure('generic_error', [{ message: errorText(e) }], payload, now);
    }
  }

  function asRow(b: EventState | { badRow: BadRow }): EnrichResult {
    return 'vals' in b ? { row: toRow(b) } : b;
  }

  return {
    enrich: function (input: string): EnrichResult {
      return asRow(fromText(input, clock()));
    },
    enrichToJson: function (input: string): EnrichJsonResult {
      const b = fromText(input, clock());
      return 'vals' in b ? { json: toJson(b) } : b;
    },
    enrichJson: function (json: unknown): EnrichResult {
      return asRow(fromJson(json, clock()));
    },
    enrichEvent: function (event: RawEvent, payload: unknown): EnrichResult {
      return asRow(fromEvent(event, payload, clock()));
    },
    config: config,
  };
}
