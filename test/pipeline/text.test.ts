import { decodeBase64Bytes, decodeBase64Utf8, decodeUtf8, encodeBase64UrlUtf8, encodeUtf8 } from '../../pipeline/text';
import { prng } from '../../pipeline/local/sample-events';

const SAMPLES = ['', 'a', 'ab', 'abc', 'abcd', '{"schema":"iglu:x/y/jsonschema/1-0-0"}', 'héllo wörld', '☕ café', '😀 𝄞 👍🏽', '日本語のテキスト', 'x'.repeat(10000)];

describe('base64 → UTF-8 (ue_px, cx)', () => {
  it.each(SAMPLES)('decodes URL-safe without padding, URL-safe with padding and standard base64 alike: %j', (s) => {
    const bytes = Buffer.from(s, 'utf8');
    expect(decodeBase64Utf8(bytes.toString('base64url'))).toEqual({ value: s });
    expect(decodeBase64Utf8(bytes.toString('base64'))).toEqual({ value: s });
    expect(decodeBase64Utf8(encodeBase64UrlUtf8(s))).toEqual({ value: s });
  });

  it('decodes random bytes exactly as Node does, malformed UTF-8 becoming U+FFFD', () => {
    const rand = prng(7);
    for (let t = 0; t < 3000; t++) {
      const bytes = Buffer.alloc(Math.floor(rand() * 40));
      for (let i = 0; i < bytes.length; i++) bytes[i] = rand() < 0.5 ? Math.floor(rand() * 256) : 0x80 + Math.floor(rand() * 0x50);
      expect(decodeBase64Utf8(bytes.toString('base64url')).value).toBe(bytes.toString('utf8'));
    }
  });

  it('says what is wrong with broken input', () => {
    expect(decodeBase64Utf8('eyJhIjoxfQ$')).toEqual({ error: 'character "$" at position 10 is not base64' });
    expect(decodeBase64Utf8('abcde')).toEqual({ error: 'length 5 (without padding) is not a valid base64 length: the input is truncated' });
    expect(decodeBase64Utf8('ab=dabcd')).toEqual({ error: 'character "=" at position 2 is not base64' });
    expect(decodeBase64Utf8('ab=')).toEqual({ error: 'padding "=" is only valid when the length is a multiple of 4' });
    expect(decodeBase64Utf8('a===')).toEqual({ error: 'character "=" at position 1 is not base64' });
    expect(decodeBase64Utf8('éabc')).toEqual({ error: 'character "é" at position 0 is not base64' });
  });

  it('decodeBase64Bytes gives the bytes', () => {
    expect(decodeBase64Bytes('AP-_')).toEqual({ bytes: [0x00, 0xff, 0xbf] });
    expect(decodeBase64Bytes('AP+/')).toEqual({ bytes: [0x00, 0xff, 0xbf] });
  });
});

describe('UTF-8', () => {
  it('decodeUtf8 handles every sequence length and rejects overlong forms and surrogates', () => {
    expect(decodeUtf8([0x41, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80])).toBe('Aé€😀');
    expect(decodeUtf8([0xc0, 0x80])).toBe('\ufffd\ufffd'); // overlong NUL
    expect(decodeUtf8([0xed, 0xa0, 0x80])).toBe('\ufffd\ufffd\ufffd'); // encoded surrogate
    expect(decodeUtf8([0xf0, 0x9f, 0x98])).toBe('\ufffd'); // truncated
    expect(decodeUtf8([0xf4, 0x90, 0x80, 0x80])).toBe('\ufffd\ufffd\ufffd\ufffd'); // above U+10FFFF
  });

  it('encodeUtf8 matches Node, lone surrogates becoming U+FFFD', () => {
    for (const s of SAMPLES.concat(['\ud800', 'a\udc00b', '\ud83d\ude00'])) expect(encodeUtf8(s)).toEqual(Array.from(Buffer.from(s, 'utf8')));
  });
});
