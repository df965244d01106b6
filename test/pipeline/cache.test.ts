import { createTextCache } from '../../pipeline/cache';

describe('text cache', () => {
  it('returns what was stored for exactly that text', () => {
    const cache = createTextCache<number>(10);
    expect(cache.get('a')).toBeUndefined();
    cache.set('a', 1);
    cache.set('ab', 2);
    expect([cache.get('a'), cache.get('ab'), cache.get('b')]).toEqual([1, 2, undefined]);
    cache.set('a', 3);
    expect(cache.get('a')).toBe(3);
  });

  it("treats Object.prototype's names as ordinary texts and never stores texts starting with __", () => {
    const cache = createTextCache<string>(100);
    for (const name of ['constructor', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', '__proto__', '__defineGetter__', '__parent__']) {
      expect([name, cache.get(name)]).toEqual([name, undefined]);
      cache.set(name, 'v-' + name);
    }
    expect(cache.get('constructor')).toBe('v-constructor');
    expect(cache.get('toString')).toBe('v-toString');
    expect(cache.get('__proto__')).toBeUndefined();
    expect(cache.get('__parent__')).toBeUndefined();
    // Storing those did not disturb the cache itself.
    cache.set('x', 'y');
    expect(cache.get('x')).toBe('y');
  });

  it('starts over when full, so memory stays bounded', () => {
    const cache = createTextCache<number>(3);
    for (let i = 0; i < 3; i++) cache.set('k' + i, i);
    expect(cache.get('k0')).toBe(0);
    cache.set('k3', 3); // over the bound: the earlier entries are gone
    expect([cache.get('k0'), cache.get('k1'), cache.get('k2'), cache.get('k3')]).toEqual([undefined, undefined, undefined, 3]);
  });

  it('answers right for many similar texts looked up in turn (recent-entry table collisions)', () => {
    const cache = createTextCache<number>(10000);
    const texts: string[] = [];
    for (let i = 0; i < 3000; i++) texts.push('iglu:com.example/' + ['alpha', 'bravo', 'delta'][i % 3] + '/jsonschema/1-0-' + (i % 1000) + (i >= 1000 ? 'x' : ''));
    texts.forEach((t, i) => cache.set(t, i));
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < texts.length; i += 1 + round) expect(cache.get(texts[i])).toBe(i);
      for (let i = texts.length - 1; i >= 0; i -= 7) expect(cache.get(texts[i])).toBe(i);
    }
    expect(cache.get('iglu:com.example/alpha/jsonschema/1-0-9999')).toBeUndefined();
  });
});
