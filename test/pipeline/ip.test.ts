import { anonymiseIp, normaliseIp, parseIpv6 } from '../../pipeline/ip';
import { prng } from '../../pipeline/local/sample-events';

describe('IP addresses', () => {
  it('normalises IPv4, IPv6 (RFC 5952) and IPv4-mapped IPv6', () => {
    expect(normaliseIp(' 203.0.113.7 ')).toBe('203.0.113.7');
    expect(normaliseIp('2001:DB8:85a3:0:0:8a2e:370:7334')).toBe('2001:db8:85a3::8a2e:370:7334');
    expect(normaliseIp('2001:0db8:0000:0000:0001:0000:0000:0001')).toBe('2001:db8::1:0:0:1');
    expect(normaliseIp('[::1]')).toBe('::1');
    expect(normaliseIp('::ffff:198.51.100.7')).toBe('198.51.100.7');
    expect(normaliseIp('fe80::1%eth0')).toBe('fe80::1');
    for (const bad of ['256.1.1.1', '1.2.3', 'example.com', '1::2::3', '12345::', '', 'unknown']) expect(normaliseIp(bad)).toBeNull();
  });

  it('parses every IPv6 form into eight groups', () => {
    expect(parseIpv6('::')).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseIpv6('1::')).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseIpv6('::2:3')).toEqual([0, 0, 0, 0, 0, 0, 2, 3]);
    expect(parseIpv6('1:2:3:4:5:6:7:8')).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(parseIpv6('1:2:3:4:5:6:7:8:9')).toBeNull();
  });

  it('anonymises the configured number of IPv4 octets and IPv6 segments', () => {
    expect(anonymiseIp('203.0.113.7', 1, 2)).toBe('203.0.113.x');
    expect(anonymiseIp('203.0.113.7', 2, 2)).toBe('203.0.x.x');
    expect(anonymiseIp('203.0.113.7', 4, 2)).toBe('x.x.x.x');
    expect(anonymiseIp('203.0.113.7', 0, 2)).toBe('203.0.113.7');
    expect(anonymiseIp('2001:db8:85a3::8a2e:370:7334', 1, 2)).toBe('2001:db8:85a3:0:0:8a2e:x:x');
    expect(anonymiseIp('2001:db8:85a3::8a2e:370:7334', 1, 8)).toBe('x:x:x:x:x:x:x:x');
    expect(anonymiseIp('::ffff:198.51.100.7', 1, 2)).toBe('198.51.100.x');
    expect(anonymiseIp('not an ip', 1, 2)).toBeNull();
  });

  it('gives the same IPv4 results through the fast path for normal addresses as through the general parser', () => {
    const reference = (s: string): string | null => {
      const m = /^\s*(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\s*$/.exec(s);
      if (!m) return null;
      const octets = m.slice(1).map(Number);
      return octets.some((o) => o > 255) ? null : octets.join('.');
    };
    const rand = prng(17);
    const pieces = ['0', '1', '9', '10', '99', '100', '199', '255', '256', '300', '999', '00', '01', '007', '1000', '', 'a', ' '];
    const inputs = ['0.0.0.0', '255.255.255.255', '1.2.3.4.', '.1.2.3', '1..2.3', '1.2.3.04', '1.2.3.4 ', '1.2.3', '1.2.3.4.5'];
    for (let i = 0; i < 3000; i++) inputs.push([0, 1, 2, 3].map(() => pieces[Math.floor(rand() * pieces.length)]).join('.'));
    for (const ip of inputs) {
      expect([ip, normaliseIp(ip)]).toEqual([ip, reference(ip)]);
      const want = reference(ip);
      expect([ip, anonymiseIp(ip, 1, 2)]).toEqual([ip, want === null ? null : want.replace(/\.\d+$/, '.x')]);
      expect([ip, anonymiseIp(ip, 2, 2)]).toEqual([ip, want === null ? null : want.replace(/\.\d+\.\d+$/, '.x.x')]);
    }
  });
});
