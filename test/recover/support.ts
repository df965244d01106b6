/**
 * Bad rows made by the real enricher: a GET of a self-describing event of the demo's button_click schema
 * (examples/schemas), which is a schema violation for a registry of the built-ins only and passes with the examples.
 */
import { join } from 'node:path';
import { createNodeEnricher } from '../../pipeline/local/node-enricher';

export const ROOT = join(__dirname, '..', '..');
export const EXAMPLE_SCHEMAS = join(ROOT, 'examples', 'schemas');
export const BUTTON_CLICK = 'iglu:io.waymark.example/button_click/jsonschema/1-0-0';

export function buttonClickQuery(eventId: string, buttonId = 'buy'): string {
  const ue = { schema: 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0', data: { schema: BUTTON_CLICK, data: { buttonId } } };
  return `e=ue&p=web&tv=js-3.0.0&aid=shop&eid=${eventId}&ue_px=${Buffer.from(JSON.stringify(ue)).toString('base64url')}`;
}

export function buttonClickPayload(eventId: string, buttonId = 'buy'): string {
  return JSON.stringify({
    schema: 'iglu:io.waymark/collector_payload/jsonschema/1-0-1',
    data: { timestamp: '2024-05-01T12:00:00.000Z', collector: 'waymark-collector-0.1.0', method: 'GET', path: '/i', querystring: buttonClickQuery(eventId, buttonId) },
  });
}

/** The bad row the enricher makes of a payload (built-in schemas only); throws when it passes. */
export function badRowOf(payload: string): Record<string, any> {
  const r = createNodeEnricher({}).enrichToJson(payload);
  if (r.json !== undefined) throw new Error('expected a bad row');
  return r.badRow as unknown as Record<string, any>;
}

/** A dead-letter row as the Dataflow template writes it: Nashorn's ScriptException message around the bad-row JSON. */
export function deadLetterRow(payload: string, timestamp = '2024-05-01 12:00:01.123000 UTC'): Record<string, unknown> {
  return {
    timestamp,
    payloadString: payload,
    payloadBytes: Buffer.from(payload).toString('base64'),
    attributes: [{ key: 'e', value: 'ue' }, { key: 'aid', value: 'shop' }],
    errorMessage: `Error: ${JSON.stringify(badRowOf(payload))} in <eval> at line number 1 at column number 48213`,
    stacktrace: 'javax.script.ScriptException: Error: ... in <eval> at line number 1 at column number 48213\n\tat org.openjdk.nashorn...',
  };
}
