/**
 * The local runner's core, without I/O: JSONL lines of payloads in, good rows and bad rows out (as JSON text).
 * A payload_data envelope holding a batch is split into one input per event first (the collector does the same),
 * so files of raw tracker POST bodies can be enriched too.
 */
import { PAYLOAD_DATA_PREFIX } from '../adapters';
import { Enricher } from '../enrich';
import { isArray, isObject, startsWith } from '../es5';

export interface LineOutput {
  readonly good: string[];
  readonly bad: string[];
}

/** Enriches one input line into zero (blank line), one or (split batch) several results. */
export function enrichLine(enricher: Enricher, line: string, out: LineOutput): void {
  if (/^\s*$/.test(line)) return;
  const inputs = splitBatch(line);
  for (let i = 0; i < inputs.length; i++) {
    const result = enricher.enrich(inputs[i]);
    if (result.row !== undefined) out.good.push(JSON.stringify(result.row));
    else out.bad.push(JSON.stringify(result.badRow));
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
