/**
 * The Dataflow UDF entry (bundled to `enrich.js`, ES5, run by the Google templates in Nashorn). The schema registry's
 * compiled validators and the deployment's enrichment configuration are virtual modules generated at build time.
 * The bundler turns the two exports into global functions of the script:
 * - `process(message)`: streaming (PubSub_to_BigQuery_Flex). Returns the row as a JSON string, or throws an Error
 *   whose message is the bad-row JSON; the template writes the exception's getMessage() to the dead-letter table's
 *   errorMessage with the payload. In Nashorn that text is `Error: <bad-row JSON> in <eval> at line number N at
 *   column number M`: the bad row is the text from its first `{` to its last `}` (docs/data-pipeline.md). The JSON
 *   is written by stringifyJson, so it is the same bytes in Nashorn as in Node (lone surrogates escaped).
 * - `processBatch(line)`: batch (GCS_Text_to_BigQuery_Flex has no dead-letter, a throw would fail the job). Returns
 *   the row, or null for a bad event (the template drops it; the raw archive keeps it for replay).
 */
import { validators } from 'waymark:validators';
import config from 'waymark:config';
import { badRow } from './badrow';
import { createEnricher, EnrichJsonResult } from './enrich';
import { stringifyJson } from './json';
import { formatTimestamp } from './time';

const enricher = createEnricher({ validators: validators, config: config });

function run(input: unknown): EnrichJsonResult {
  try {
    return enricher.enrichToJson(input === null || input === undefined ? (input as unknown as string) : String(input));
  } catch (e) {
    // enrich() already turns every failure into a bad row; this only guards against the unforeseen.
    const message = e instanceof Error ? e.name + ': ' + e.message : String(e);
    return { badRow: badRow('generic_error', [{ message: message.substring(0, 500) }], formatTimestamp(Date.now()) || '', typeof input === 'string' ? input.substring(0, 100000) : null) };
  }
}

/** Streaming entry: the row JSON, or throws an Error whose message is the bad-row JSON. */
export function process(input: string): string {
  const result = run(input);
  if (result.json !== undefined) return result.json;
  throw new Error(stringifyJson(result.badRow));
}

/** Batch entry: the row JSON, or null for a bad event (never throws). */
export function processBatch(input: string): string | null {
  const result = run(input);
  return result.json !== undefined ? result.json : null;
}
