import { decodeQueryComponent, parseQuery, parseUrl, queryParam } from '../../pipeline/url';

describe('URL parsing', () => {
  it('decomposes http(s) URLs with default ports', () => {
    expect(parseUrl('https://Shop.Example.COM/p/blue-mug?a=1&b=2#reviews')).toEqual({
      url: { scheme: 'https', host: 'shop.example.com', port: 443, path: '/p/blue-mug', query: 'a=1&b=2', fragment: 'reviews' },
    });
    expect(parseUrl('http://example.com')).toEqual({ url: { scheme: 'http', host: 'example.com', port: 80, path: '/', query: null, fragment: null } });
    expect(parseUrl('HTTP://example.com:8080/x?')).toEqual({ url: { scheme: 'http', host: 'example.com', port: 8080, path: '/x', query: '', fragment: null } });
  });

  it('drops user info, handles IPv6 hosts and trailing dots', () => {
    expect(parseUrl('https://user:pw@example.com./a').url).toMatchObject({ host: 'example.com', path: '/a' });
    expect(parseUrl('http://[2001:DB8::1]:8080/').url).toMatchObject({ host: '2001:db8::1', port: 8080 });
  });

  it('keeps URLs without authority as scheme and path', () => {
    expect(parseUrl('android-app://com.google.android.gm/')).toMatchObject({ url: { scheme: 'android-app', host: 'com.google.android.gm' } });
    expect(parseUrl('mailto:someone@example.com').url).toEqual({ scheme: 'mailto', host: null, port: null, path: 'someone@example.com', query: null, fragment: null });
    expect(parseUrl('file:///C:/site/index.html').url).toEqual({ scheme: 'file', host: null, port: null, path: '/C:/site/index.html', query: null, fragment: null });
  });

  it('does not decompose strings without a scheme', () => {
    expect(parseUrl('www.example.com/page')).toEqual({});
    expect(parseUrl('/relative')).toEqual({});
  });

  it('rejects definitely broken URLs with a reason', () => {
    expect(parseUrl('https://example.com:80a/')).toEqual({ error: 'invalid port "80a"' });
    expect(parseUrl('https://example.com:99999/')).toEqual({ error: 'invalid port "99999"' });
    expect(parseUrl('https://exa mple.com/')).toEqual({ error: 'invalid character in host "exa mple.com"' });
    expect(parseUrl('https:///path')).toEqual({ error: 'empty host in https URL' });
    expect(parseUrl('http://[::1/')).toEqual({ error: 'unterminated IPv6 address in host' });
  });

  it('decodes query components leniently', () => {
    expect(decodeQueryComponent('spring+sale%21')).toBe('spring sale!');
    expect(decodeQueryComponent('%E2%98%95%20caf%C3%A9')).toBe('☕ café');
    expect(decodeQueryComponent('100%')).toBe('100%');
    expect(decodeQueryComponent('%E2%98%95%zz%ff')).toBe('☕%zz%ff');
    expect(parseQuery('a=1&&b&c=x%3Dy&a=2')).toEqual([['a', '1'], ['b', ''], ['c', 'x=y'], ['a', '2']]);
    expect(queryParam(parseQuery('a=1&a=2'), 'a')).toBe('1');
    expect(queryParam(parseQuery(null), 'a')).toBeNull();
  });
});
