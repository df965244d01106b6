/**
 * Fuzzing: whatever arrives — random bytes, mutated and truncated payloads, broken base64, deep nesting, huge fields —
 * the enricher gives exactly one good row or one valid bad row, never another kind of error and never a hang.
 * Deterministic (seeded) and bounded. All inputs, the huge and deep ones included, also go through the shipped bundle
 * in a vm context stripped of the built-ins Nashorn lacks (each call bounded by a generous vm timeout, so a hang fails
 * instead of stalling the suite); a subset — every huge and deep input, the special ones and a sample of the random
 * and mutated ones — runs in Nashorn 15.4, called as the Dataflow template calls it, and must give the vm's outcomes
 * byte for byte (rows, and bad rows recovered from the dead-letter text by the documented rule).
 */
import { ATOMIC_COLUMN_NAMES } from '../../pipeline/columns';
import { Enricher } from '../../pipeline/enrich';
import { encodeBase64UrlUtf8 } from '../../pipeline/text';
import { prng, sampleCollectorPayloads } from '../../pipeline/local/sample-events';
import { CORPUS_NOW, loadCorpus } from './helpers/corpus';
import { builtInRegistry, testEnricher } from './helpers/enricher';
import { callBounded, loadInStrippedVm, Outcome } from './helpers/engines';
import { NashornUdf, runInNashorn } from './helpers/nashorn';
import { udfBundleSource } from './helpers/udf-bundle';

const rand = prng(20240501);
const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)];
const int = (n: number): number => Math.floor(rand() * n);

function randomString(n: number, alphabet?: string): string {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet ? alphabet.charAt(int(alphabet.length)) : String.fromCharCode(int(0x10000));
  return s;
}

function mutate(s: string): string {
  switch (int(6)) {
    case 0: return s.substring(0, int(s.length + 1)); // truncate
    case 1: { const at = int(s.length); return s.substring(0, at) + randomString(1 + int(5)) + s.substring(at); } // insert
    case 2: { const at = int(s.length); return s.substring(0, at) + s.substring(at + 1 + int(20)); } // delete
    case 3: { const at = int(s.length); return s.substring(0, at) + pick(['"', '{', '[', '}', ']', ',', ':', '\\', '\u0000', '\ud800']) + s.substring(at + 1); }
    case 4: return s.replace(/"(e|eid|tv|dtm|cx|ue_px|url|timestamp)":"[^"]*"/, (_m, k: string) => `"${k}":${pick(['""', '"x"', 'null', '1', '[]', '{}', '"' + randomString(int(50)) + '"'])}`);
    default: return s.replace(/"(cx|ue_px)":"([^"]*)"/, (_m, k: string, v: string) => `"${k}":"${v.substring(0, int(v.length + 1)) + pick(['', '=', '==', '$', 'A', '_-'])}"`);
  }
}

function nested(depth: number): string {
  let s = '1';
  for (let i = 0; i < depth; i++) s = rand() < 0.5 ? `[${s}]` : `{"k":${s}}`;
  return s;
}

/** The kinds of input: the extreme ones (`huge`, `deep`, `special`) all run in Nashorn, the others sampled. */
type Kind = 'random' | 'noise' | 'mutated' | 'deep' | 'huge' | 'special';

function cases(): Array<{ kind: Kind; text: string }> {
  const corpus = loadCorpus().map((c) => c.message);
  const sample = sampleCollectorPayloads(50, 9);
  const out: Array<{ kind: Kind; text: string }> = [];
  const add = (kind: Kind, text: string): void => {
    out.push({ kind, text });
  };
  for (let i = 0; i < 300; i++) add('random', randomString(int(200))); // random UTF-16, lone surrogates included
  for (let i = 0; i < 100; i++) add('noise', randomString(int(200), '{}[]":,0123456789truefalsnl \\')); // JSON-ish noise
  for (let i = 0; i < 1500; i++) {
    let s = pick(rand() < 0.5 ? corpus : sample);
    for (let k = 1 + int(3); k > 0; k--) s = mutate(s);
    add('mutated', s);
  }
  for (const depth of [10, 39, 40, 41, 100, 5000, 100000]) {
    add('deep', nested(depth));
    const json = nested(depth);
    add('deep', JSON.stringify({ e: 'ue', eid: '6f1d2a4e-8c3b-4e5f-9a7d-0b1c2d3e4f5a', tv: 't', ue_pr: json }));
    add('deep', JSON.stringify({ e: 'pv', eid: '6f1d2a4e-8c3b-4e5f-9a7d-0b1c2d3e4f5a', tv: 't', cx: encodeBase64UrlUtf8(json) }));
  }
  for (const size of [40000, 500000, 1100000]) {
    add('huge', JSON.stringify({ e: 'pv', eid: '6f1d2a4e-8c3b-4e5f-9a7d-0b1c2d3e4f5a', tv: 't', page: 'x'.repeat(size) }));
    add('huge', JSON.stringify({ e: 'ue', eid: '6f1d2a4e-8c3b-4e5f-9a7d-0b1c2d3e4f5a', tv: 't', ue_px: 'A'.repeat(size) }));
    add('huge', JSON.stringify({ e: 'pv', eid: '6f1d2a4e-8c3b-4e5f-9a7d-0b1c2d3e4f5a', tv: 't', url: 'https://x.example/?' + 'a=1&'.repeat(size / 4) }));
    add('huge', JSON.stringify({ e: 'pv', eid: '6f1d2a4e-8c3b-4e5f-9a7d-0b1c2d3e4f5a', tv: 't', ua: 'Mozilla/5.0 ' + '('.repeat(size / 10) }));
  }
  add('huge', JSON.stringify(Object.fromEntries(Array.from({ length: 5000 }, (_v, i) => ['p' + i, 'v']))));
  add('special', JSON.stringify({ __proto__: { e: 'pv' }, constructor: 'x', hasOwnProperty: 'y', e: 'pv', eid: '6f1d2a4e-8c3b-4e5f-9a7d-0b1c2d3e4f5a', tv: 't', toString: 'z' }));
  add('special', '{"e":"ue","eid":"6f1d2a4e-8c3b-4e5f-9a7d-0b1c2d3e4f5a","tv":"t","ue_pr":"{\\"schema\\":\\"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0\\",\\"data\\":{\\"schema\\":\\"iglu:io.waymark.example/button_click/jsonschema/1-0-0\\",\\"data\\":{\\"__proto__\\":{\\"x\\":1},\\"buttonId\\":\\"b\\"}}}"}');
  // Good rows holding lone surrogates, in an atomic column and in a self-describing one: Nashorn's own JSON.stringify
  // writes them raw, Node's escapes them.
  add('special', JSON.stringify({ e: 'pv', eid: '6f1d2a4e-8c3b-4e5f-9a7d-0b1c2d3e4f5a', tv: 't', page: 'a\ud800b\udfff' }));
  add('special', JSON.stringify({ e: 'ue', eid: '6f1d2a4e-8c3b-4e5f-9a7d-0b1c2d3e4f5a', tv: 't', ue_pr: JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0', data: { schema: 'iglu:io.waymark.example/button_click/jsonschema/1-0-0', data: { buttonId: 'b\udc00"' } } }) }));
  return out;
}

const cased = cases();
const inputs = cased.map((c) => c.text);
const columns = new Set(ATOMIC_COLUMN_NAMES);
const badRowValidator = builtInRegistry().validators['iglu:io.waymark/bad_row/jsonschema/1-0-0'];

/** Per call in the vm: far above any input's real cost, so only a hang reaches it (then the test fails, naming it). */
const VM_CALL_TIMEOUT_MS = 60000;

/** Every huge, deep and special input, and every 5th of the others. */
const nashornSubset = cased.filter((c, i) => c.kind === 'huge' || c.kind === 'deep' || c.kind === 'special' || i % 5 === 0);

/** A bundle outcome is a JSON row object returned, or a bad row (valid against its schema) thrown. */
function checkBundleOutcome(out: Outcome): void {
  if ('returned' in out) {
    expect(typeof out.returned).toBe('string');
    const parsed = JSON.parse(out.returned as string) as unknown;
    expect(typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)).toBe(true);
  } else {
    const row = JSON.parse(out.thrown) as { schema: string; data: unknown };
    expect(row.schema).toBe('iglu:io.waymark/bad_row/jsonschema/1-0-0');
    expect(badRowValidator(row.data)).toEqual([]);
  }
}

function check(enricher: Enricher, input: string): 'good' | 'bad' {
  const result = enricher.enrich(input);
  expect(Object.keys(result).length).toBe(1);
  if (result.row) {
    for (const k of Object.keys(result.row)) expect(columns.has(k) || /^(unstruct_event|contexts)_[a-z0-9_]+_[0-9]+$/.test(k)).toBe(true);
    expect(enricher.enrichToJson(input).json).toBe(JSON.stringify(result.row));
    return 'good';
  }
  expect(result.badRow?.schema).toBe('iglu:io.waymark/bad_row/jsonschema/1-0-0');
  expect(badRowValidator(result.badRow?.data)).toEqual([]);
  expect(JSON.parse(JSON.stringify(result.badRow))).toEqual(result.badRow);
  return 'bad';
}

describe('fuzzing the enricher', () => {
  it(`${inputs.length} hostile inputs each give one good row or one valid bad row`, () => {
    const enricher = testEnricher(CORPUS_NOW);
    const seen = { good: 0, bad: 0 };
    for (const input of inputs) seen[check(enricher, input)]++;
    // Both outcomes occur: the mutations are not all fatal, and not all harmless.
    expect(seen.good).toBeGreaterThan(50);
    expect(seen.bad).toBeGreaterThan(500);
  });

  it('the shipped bundle (stripped vm) returns a row or throws a valid bad row for every input, the huge and deep ones included', async () => {
    const udf = loadInStrippedVm((await udfBundleSource()).code, CORPUS_NOW);
    expect(inputs.some((s) => s.length > 1000000)).toBe(true);
    for (const input of inputs) {
      const out = callBounded(udf.context, 'process', input, VM_CALL_TIMEOUT_MS);
      checkBundleOutcome(out);
      const batch = callBounded(udf.context, 'processBatch', input, VM_CALL_TIMEOUT_MS);
      expect('returned' in batch).toBe(true);
      // The batch entry gives the same row, or null for a bad row.
      expect(batch).toEqual('returned' in out ? out : { returned: null });
    }
  });

  it(`in Nashorn 15.4, ${nashornSubset.length} inputs (every huge, deep and special one, a sample of the rest) give the vm's outcomes byte for byte`, async () => {
    const code = (await udfBundleSource()).code;
    const udf = loadInStrippedVm(code, CORPUS_NOW);
    const nashorn = new NashornUdf(code, { now: CORPUS_NOW });
    let results: Array<{ streaming: Outcome; batch: Outcome }>;
    try {
      results = await runInNashorn(nashorn, nashornSubset.map((c) => c.text));
    } finally {
      await nashorn.close();
    }
    expect(results).toHaveLength(nashornSubset.length);
    const seen = { good: 0, bad: 0, loneSurrogate: 0, loneSurrogateRows: 0 };
    nashornSubset.forEach((c, i) => {
      checkBundleOutcome(results[i].streaming);
      const inVm = callBounded(udf.context, 'process', c.text, VM_CALL_TIMEOUT_MS);
      // Byte for byte: the UDF writes its JSON with stringifyJson, so lone surrogates are escaped alike.
      expect({ kind: c.kind, index: i, ...results[i] })
        .toEqual({ kind: c.kind, index: i, streaming: inVm, batch: 'returned' in inVm ? inVm : { returned: null } });
      seen['returned' in inVm ? 'good' : 'bad']++;
      if (/\\ud[89a-f][0-9a-f]{2}/.test('returned' in inVm ? String(inVm.returned) : inVm.thrown)) seen['returned' in inVm ? 'loneSurrogateRows' : 'loneSurrogate']++;
    });
    // The sample has both outcomes, and outputs where an engine's own JSON.stringify would differ.
    expect(seen.good).toBeGreaterThan(20);
    expect(seen.bad).toBeGreaterThan(100);
    expect(seen.loneSurrogate).toBeGreaterThan(10);
    expect(seen.loneSurrogateRows).toBeGreaterThanOrEqual(2);
  });
});
