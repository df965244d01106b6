/**
 * The local runner's core, without I/O: JSONL lines of payloads in, good rows and bad rows out (as JSON text).
 * A payload_data envelope holding a batch is split into one input per event first (the collector does the same),
 * so files of raw tracker POST bodies can be enriched too. The enrichment is a function, so the same core runs the
 * TypeScript sources ({@link enricherText}) or a shipped UDF bundle (udf-runner.ts).
 */
import { PAYLOAD_DATA_PREFIX } from '../adapters';
import { Enricher } from '../enrich';
import { isArray, isObject, startsWith } from '../es5';

/** One message enriched: the row's JSON text, or the bad row's. */
export type EnrichText = (message: string) => { good: string; bad?: undefined } | { good?: undefined; bad: string };

export interface LineOutput {
  readonly good: string[];
  readonly bad: string[];
}

/** An enricher built from the sources, as an {@link EnrichText}. */
export function enricherText(enricher: Enricher): EnrichText {
  return function (message) {
    const result = enricher.enrichToJson(message);
    return result.json !== undefined ? { good: result.json } : { bad: JSON.stringify(result.badRow) };
  };
}

/** Enriches one input line into zero (blank line), one or (split batch) several results. */
export function enrichLine(enrich: EnrichText, line: string, out: LineOutput): void {
  if (/^\s*$/.test(line)) return;
  const inputs = splitBatch(line);
  for (let i = 0; i < inputs.length; i++) {
    const result = enrich(inputs[i]);
    if (result.good !== undefined) out.good.push(result.good);
    else out.bad.push(result.bad);
  }
}

/** A payload_data batch → one payload_data input per event; anything else → itself. */
export function splitBatch(line: string): string[] {
  if (line.indexOf('payload_data') === -1) return [line];
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return [line];
  }
  if (!isObject(json) || typeof json.schema !== 'string' || !startsWith(json.schema, PAYLOAD_DATA_PREFIX) || !isArray(json.data) || json.data.length < 2) {
    return [line];
  }
  const schema = json.schema;
  return json.data.map(function (event) {
    return JSON.stringify({ schema: schema, data: [event] });
  });
}
