/**
 * pipeline/host-base64.ts: in Nashorn 15.4 (called as the Dataflow template calls a UDF) the JVM's base64 and UTF-8
 * decoders are taken, and wherever they answer they give exactly what the hand-written decodeBase64Utf8 gives;
 * wherever the hand-written decoder reports an error, the JVM leaves the input to it. Checked over generated inputs:
 * bytes with valid and malformed UTF-8 in both alphabets, padded or not, and short texts over a small alphabet that
 * hits the error rules (padding, lengths, foreign characters, `=` inside, mixed alphabets).
 */
import { hostBase64Utf8 } from '../../pipeline/host-base64';
import { bundleAsEs5Script } from './validation-engines';
import { NashornUdf } from './helpers/nashorn';

const ENTRY = `
import { hostBase64Utf8 } from './pipeline/host-base64';
import { decodeBase64Utf8 } from './pipeline/text';

const host = hostBase64Utf8();
const STD = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
// Byte pieces: ASCII, valid 2/3/4-byte sequences, and malformed ones (overlong, surrogates, truncated, stray, > U+10FFFF).
const PIECES = [[0x41], [0x7b, 0x22], [0xc3, 0xa9], [0xe2, 0x82, 0xac], [0xf0, 0x9f, 0x98, 0x80], [0xc0, 0x80], [0xed, 0xa0, 0x80],
  [0xf0, 0x9f, 0x98], [0x80], [0xbf], [0xf4, 0x90, 0x80, 0x80], [0xff], [0xe0, 0x80], [0xe0, 0xa0], [0xc2], [0xf8, 0x88, 0x80, 0x80, 0x80]];
const CHARS = 'AQgw09+/-_=!. ';

let seed = 1;
// xorshift32: the low bits of a linear congruential generator repeat too soon to reach every combination.
function next(n: number): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) % n;
}
function encode(bytes: number[], alphabet: string, pad: boolean): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += alphabet.charAt(v >> 18) + alphabet.charAt((v >> 12) & 63) + alphabet.charAt((v >> 6) & 63) + alphabet.charAt(v & 63);
  }
  const rest = bytes.length - i;
  if (rest === 1) out += alphabet.charAt(bytes[i] >> 2) + alphabet.charAt((bytes[i] & 3) << 4) + (pad ? '==' : '');
  else if (rest === 2) out += alphabet.charAt(bytes[i] >> 2) + alphabet.charAt(((bytes[i] & 3) << 4) | (bytes[i + 1] >> 4)) + alphabet.charAt((bytes[i + 1] & 15) << 2) + (pad ? '=' : '');
  return out;
}

export function run(start: number, count: number): string {
  seed = start;
  const differ: Array<{ input: string; mine: unknown; host: string | null }> = [];
  let hostAnswered = 0;
  let refused = 0;
  for (let k = 0; k < count; k++) {
    let input = '';
    if (k % 2 === 0) {
      const bytes: number[] = [];
      const pieces = next(12);
      // Half the byte inputs are well-formed UTF-8 (the first five pieces), half may hold malformed sequences.
      const kinds = next(2) === 0 ? 5 : PIECES.length;
      for (let p = 0; p < pieces; p++) {
        const piece = PIECES[next(kinds)];
        for (let b = 0; b < piece.length; b++) bytes.push(piece[b]);
      }
      input = encode(bytes, next(2) === 0 ? STD : URL, next(2) === 0);
    } else {
      const n = next(10);
      for (let c = 0; c < n; c++) input += CHARS.charAt(next(CHARS.length));
    }
    const mine = decodeBase64Utf8(input);
    const got = host === null ? null : host(input);
    if (got !== null) hostAnswered++;
    if (mine.error !== undefined) refused++;
    if (got !== null && (mine.error !== undefined || got !== mine.value)) {
      if (differ.length < 10) differ.push({ input: input, mine: mine, host: got });
    }
  }
  return JSON.stringify({ available: host !== null, hostAnswered: hostAnswered, refused: refused, differ: differ });
}
`;

describe('the JVM base64 decoder in Nashorn (host-base64.ts)', () => {
  let nashorn: NashornUdf;
  beforeAll(async () => {
    const code = await bundleAsEs5Script(ENTRY, 'hostBase64Test');
    nashorn = new NashornUdf(code + '\nfunction process(text) { var a = JSON.parse(text); return hostBase64Test.run(a[0], a[1]); }\n');
  });
  afterAll(async () => {
    await nashorn.close();
  });

  it('is there in Nashorn and, over 20,000 generated inputs, answers only as the hand-written decoder does', async () => {
    const out = await nashorn.call('process', JSON.stringify([7, 20000]));
    if (!('returned' in out) || out.returned === null) throw new Error('no result: ' + JSON.stringify(out));
    const r = JSON.parse(out.returned) as { available: boolean; hostAnswered: number; refused: number; differ: unknown[] };
    expect(r.available).toBe(true);
    expect(r.differ).toEqual([]);
    // The inputs reach both sides of each rule: the host decodes most, the hand-written decoder refuses many.
    expect(r.hostAnswered).toBeGreaterThan(5000);
    expect(r.refused).toBeGreaterThan(3000);
  });
});

describe('outside Nashorn', () => {
  it('there is no host decoder (Node has no Java.type)', () => {
    expect(hostBase64Utf8()).toBeNull();
  });
});
