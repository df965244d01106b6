/** The harness's schema check must be able to fail, or the browser tests' afterEach would assert nothing. */
import { schemaProblems } from './harness';

const ev = (parameters: Record<string, string>) => ({ parameters, networkUserId: null, path: '/', contentType: null });
const ue = (schema: string, data: unknown): string =>
  JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0', data: { schema, data } });

test('schemaProblems accepts valid events and reports unknown schemas and invalid data', () => {
  const link = 'iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1';
  expect(schemaProblems([ev({ e: 'ue', eid: '1', ue_pr: ue(link, { targetUrl: 'https://x.example' }) })])).toEqual([]);
  expect(schemaProblems([ev({ e: 'ue', eid: '2', ue_pr: ue(link, { elementId: 'a' }) })]).join()).toMatch(/targetUrl/);
  expect(schemaProblems([ev({ e: 'ue', eid: '3', ue_pr: ue('iglu:com.acme/nope/jsonschema/1-0-0', {}) })]).join()).toMatch(/not in the registry/);
  const co = JSON.stringify({
    schema: 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0',
    data: [{ schema: 'iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0', data: { id: 'not-a-uuid' } }],
  });
  expect(schemaProblems([ev({ e: 'pv', eid: '4', co })])).toHaveLength(1);
});
