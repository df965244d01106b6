import { hasMoreOpeners, jsonDepth, parseJson } from '../../pipeline/json';

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
});
