import { createHash } from 'node:crypto';
import { md5Begin, md5End, md5Hex, md5Restore, md5Save, md5Update, md5UpdateList, md5UpdateSep } from '../../pipeline/md5';
import { prng } from '../../pipeline/local/sample-events';

const node = (s: string | Buffer): string => createHash('md5').update(s).digest('hex');

describe('MD5', () => {
  it('matches the RFC 1321 test suite', () => {
    expect(md5Hex('')).toBe('d41d8cd98f00b204e9800998ecf8427e');
    expect(md5Hex('a')).toBe('0cc175b9c0f1b6a831c399e269772661');
    expect(md5Hex('abc')).toBe('900150983cd24fb0d6963f7d28e17f72');
    expect(md5Hex('message digest')).toBe('f96b697d7cb7938d525a2f31aaf161d0');
    expect(md5Hex('abcdefghijklmnopqrstuvwxyz')).toBe('c3fcd3d76192e4007dfb496cca67e13b');
    expect(md5Hex('12345678901234567890123456789012345678901234567890123456789012345678901234567890')).toBe('57edf4a22be3c955ac49da2e2107b67a');
  });

  it('matches node:crypto at every length around the block and padding boundaries', () => {
    for (let n = 0; n <= 200; n++) expect(md5Hex('a'.repeat(n))).toBe(node('a'.repeat(n)));
  });

  it('hashes the UTF-8 encoding of non-ASCII strings at any alignment (lone surrogates as U+FFFD, as Node does)', () => {
    for (const s of ['é', '☕ café', '😀'.repeat(50), '日本語'.repeat(40), 'x\ud800y', 'x\udc00', '\ud800', 'Ü'.repeat(3000)]) {
      for (const prefix of ['', 'a', 'ab', 'abc']) expect(md5Hex(prefix + s)).toBe(node(prefix + s));
    }
  });

  it('streams: updates in pieces hash like their concatenation', () => {
    const rand = prng(11);
    for (let t = 0; t < 200; t++) {
      const pieces: string[] = [];
      for (let k = Math.floor(rand() * 8); k > 0; k--) {
        let s = '';
        for (let i = Math.floor(rand() * 90); i > 0; i--) s += String.fromCharCode(rand() < 0.85 ? 32 + Math.floor(rand() * 95) : 0x80 + Math.floor(rand() * 0x2000));
        pieces.push(s);
      }
      md5Begin();
      for (const p of pieces) md5Update(p);
      expect(md5End()).toBe(node(pieces.join('')));
      md5Begin();
      for (const p of pieces) md5UpdateSep(p, 1 + (p.length % 100));
      expect(md5End()).toBe(node(pieces.map((p) => p + String.fromCharCode(1 + (p.length % 100))).join('')));
    }
  });

  it('hashes lists in the given order like their concatenation with separators, and continues from saved states', () => {
    const rand = prng(13);
    for (let t = 0; t < 200; t++) {
      const keys: string[] = [];
      const values: string[] = [];
      for (let k = Math.floor(rand() * 30); k > 0; k--) {
        keys.push('k' + Math.floor(rand() * 1000));
        let v = '';
        for (let i = Math.floor(rand() * 70); i > 0; i--) v += String.fromCharCode(rand() < 0.9 ? 32 + Math.floor(rand() * 95) : 0x80 + Math.floor(rand() * 0xd000));
        values.push(v);
      }
      const order = keys.map((_k, i) => i).filter(() => rand() < 0.8).reverse();
      const prefix = 'prefix' + 't'.repeat(t);
      md5Begin();
      md5Update(prefix);
      md5UpdateList(keys, order, 1);
      const saved = md5Save();
      md5UpdateList(values, order, 2);
      const whole = prefix + order.map((i) => keys[i] + '\u0001').join('') + order.map((i) => values[i] + '\u0002').join('');
      expect(md5End()).toBe(node(whole));
      md5Begin();
      md5Update('something else entirely, to disturb the state');
      md5Restore(saved);
      md5UpdateList(values, order, 2);
      expect(md5End()).toBe(node(whole));
    }
  });

  it('hashes a name list and a value list interleaved in one call (the fingerprint text: name, sep, value, sep)', () => {
    const rand = prng(17);
    for (let t = 0; t < 200; t++) {
      const names: string[] = [];
      const values: string[] = [];
      for (let k = Math.floor(rand() * 40); k > 0; k--) {
        names.push('p' + Math.floor(rand() * 100));
        let v = '';
        for (let i = Math.floor(rand() * 120); i > 0; i--) v += String.fromCharCode(rand() < 0.9 ? 32 + Math.floor(rand() * 95) : 0x80 + Math.floor(rand() * 0xd000));
        values.push(v);
      }
      const order = names.map((_n, i) => i).filter(() => rand() < 0.8).reverse();
      md5Begin();
      md5Update('x'.repeat(t % 5));
      md5UpdateList(names, order, 0x1f, values);
      expect(md5End()).toBe(node('x'.repeat(t % 5) + order.map((i) => names[i] + '\u001f' + values[i] + '\u001f').join('')));
    }
  });

  it('matches node:crypto on random strings', () => {
    const rand = prng(5);
    for (let t = 0; t < 300; t++) {
      let s = '';
      const n = Math.floor(rand() * 600);
      for (let i = 0; i < n; i++) s += String.fromCharCode(rand() < 0.8 ? 32 + Math.floor(rand() * 95) : Math.floor(rand() * 0x10000));
      expect(md5Hex(s)).toBe(node(s));
    }
  });
});
