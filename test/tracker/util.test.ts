/** Pure helpers of the tracker, checked against Node's own implementations. */
import { createHash } from 'node:crypto';
import { base64url, sha1, uuid } from '../../tracker/util';

describe('sha1 (the cookie name suffix)', () => {
  const samples = ['', 'a', 'abc', '127.0.0.1/', 'www.example.com/', 'x'.repeat(55), 'y'.repeat(56), 'z'.repeat(64), 'é😀ü', 'q'.repeat(1000)];
  test.each(samples)('matches node:crypto for %j', (s) => {
    expect(sha1(s)).toBe(createHash('sha1').update(s, 'utf8').digest('hex'));
  });
});

test('base64url encodes UTF-8, URL-safe, without padding', () => {
  for (const s of ['', 'a', 'ab', 'abc', '{"a":"é😀"}', '??>>~~', 'x'.repeat(300)]) {
    const enc = base64url(s);
    expect(enc).toMatch(/^[A-Za-z0-9_-]*$/);
    expect(Buffer.from(enc, 'base64url').toString('utf8')).toBe(s);
  }
});

test('uuid is a random v4 UUID', () => {
  const ids = Array.from({ length: 500 }, uuid);
  for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  expect(new Set(ids).size).toBe(ids.length);
});
