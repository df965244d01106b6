import { hasMoreOpeners, jsonDepth, parseJson, stringifyJson, wellFormedJsonText } from '../../pipeline/json';

describe('guarded JSON parsing', () => {
  it('measures nesting depth without being fooled by brackets inside strings', () => {
    expect(jsonDepth('{"a":[1,{"b":2}]}', 100)).toBe(3);
    expect(jsonDepth('{"a":"[[[[[[[[[[{{{{{{"}', 100)).toBe(1);
    expect(jsonDepth('{"a":"\\"[[[[[["}', 100)).toBe(1);
    expect(jsonDepth('[[[[[[[[[[', 5)).toBe(6); // stops early
  });

  it('counts openers only up to the limit', () => {
    expect(hasMoreOpeners('{"a":{"b":[1]}}', 3)).toBe(false);
    expect(hasMoreOpeners('{"a":{"b":[{}]}}', 3)).toBe(true);
  });

  it('refuses JSON nested deeper than the limit before JSON.parse sees it', () => {
    const deep = '['.repeat(100000) + ']'.repeat(100000);
    expect(parseJson(deep, 40)).toEqual({ error: 'JSON nested deeper than 40 levels' });
    expect(parseJson('[[[1]]]', 40)).toEqual({ value: [[[1]]] });
    // Many brackets, shallow nesting: accepted.
    expect(parseJson(JSON.stringify(Array.from({ length: 500 }, () => [{}])), 40).value).toHaveLength(500);
  });

  it('reports invalid JSON without the engine-specific message', () => {
    expect(parseJson('{"a":', 40)).toEqual({ error: 'not valid JSON' });
    expect(parseJson('', 40)).toEqual({ error: 'not valid JSON' });
  });

  it('writes lone surrogates as escapes in every engine, as Node\'s JSON.stringify does (Nashorn and Rhino write them raw)', () => {
    // The raw text a JVM engine's JSON.stringify gives for these strings, and Node's well-formed text.
    const cases: Array<[string, string]> = [
      ['a\ud800b', '"a\\ud800b"'],
      ['\udfff', '"\\udfff"'],
      ['x\ud83d', '"x\\ud83d"'],
      ['\ud83d\ude00 ok', '"\ud83d\ude00 ok"'],
      ['\udc00\ud800', '"\\udc00\\ud800"'],
      ['\ud800\ud83d\ude00\ude00', '"\\ud800\ud83d\ude00\\ude00"'],
    ];
    for (const [value, wellFormed] of cases) {
      expect(JSON.stringify(value)).toBe(wellFormed); // Node is the reference
      expect(wellFormedJsonText('"' + value + '"')).toBe(wellFormed);
      expect(stringifyJson({ [value]: [value] })).toBe(JSON.stringify({ [value]: [value] }));
    }
    expect(wellFormedJsonText('{"a":"plain ☕"}')).toBe('{"a":"plain ☕"}');
  });
});
