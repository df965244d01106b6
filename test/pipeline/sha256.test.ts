import { createHash } from 'node:crypto';
import { sha256Bytes, sha256Hex } from '../../pipeline/sha256';
import { prng } from '../../pipeline/local/sample-events';

const node = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');

describe('SHA-256', () => {
  it('matches the FIPS 180-4 test vectors', () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
  });

  it('matches node:crypto at every length around the block and padding boundaries', () => {
    for (let n = 0; n <= 200; n++) expect(sha256Hex('a'.repeat(n))).toBe(node('a'.repeat(n)));
  });

  it('hashes the UTF-8 encoding of non-ASCII strings (lone surrogates as U+FFFD, as Node does)', () => {
    for (const s of ['é', '☕ café', '😀'.repeat(50), '日本語'.repeat(40), 'x\ud800y', 'Ü'.repeat(3000)]) expect(sha256Hex(s)).toBe(node(s));
  });

  it('matches node:crypto on random strings and byte arrays', () => {
    const rand = prng(3);
    for (let t = 0; t < 300; t++) {
      let s = '';
      const n = Math.floor(rand() * 300);
      for (let i = 0; i < n; i++) s += String.fromCharCode(rand() < 0.8 ? 32 + Math.floor(rand() * 95) : Math.floor(rand() * 0x3000));
      expect(sha256Hex(s)).toBe(node(s));
      const bytes = Array.from({ length: n }, () => Math.floor(rand() * 256));
      expect(sha256Bytes(bytes)).toBe(node(Buffer.from(bytes)));
    }
  });
});
