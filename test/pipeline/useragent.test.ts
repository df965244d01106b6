import { parseUserAgent } from '../../pipeline/useragent';

type Expect = [string, string | null, string | null, string, string, string, boolean];

// [user agent, br_family, br_version, br_type, os_name, dvce_type, dvce_ismobile]
const CASES: Array<[string, Expect]> = [
  ['Chrome on Windows', ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36', 'Chrome', '124.0.0.0', 'Browser', 'Windows 10', 'Computer', false]],
  ['Edge', ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.67', 'Edge', '124.0.2478.67', 'Browser', 'Windows 10', 'Computer', false]],
  ['Firefox on macOS', ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:125.0) Gecko/20100101 Firefox/125.0', 'Firefox', '125.0', 'Browser', 'macOS', 'Computer', false]],
  ['Safari on macOS', ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15', 'Safari', '17.4.1', 'Browser', 'macOS', 'Computer', false]],
  ['Mobile Safari', ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1', 'Mobile Safari', '17.4.1', 'Browser (mobile)', 'iOS 17', 'Mobile', true]],
  ['iPad', ['Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1', 'Mobile Safari', '16.6', 'Browser (mobile)', 'iPadOS 16', 'Tablet', true]],
  ['Chrome on iOS', ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1', 'Chrome', '124.0.6367.88', 'Browser (mobile)', 'iOS 17', 'Mobile', true]],
  ['Chrome on Android', ['Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36', 'Chrome', '124.0.6367.82', 'Browser (mobile)', 'Android 14', 'Mobile', true]],
  ['Android tablet', ['Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36', 'Chrome', '124.0.0.0', 'Browser (mobile)', 'Android 13', 'Tablet', true]],
  ['Samsung Internet', ['Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36', 'Samsung Internet', '24.0', 'Browser (mobile)', 'Android 13', 'Mobile', true]],
  ['Android WebView', ['Mozilla/5.0 (Linux; Android 12; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0.0.0 Mobile Safari/537.36', 'Android WebView', '120.0.0.0', 'Application', 'Android 12', 'Mobile', true]],
  ['Facebook in-app', ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/458.0.0.37.108;FBBV/574024587]', 'Facebook', null, 'Application', 'iOS 17', 'Mobile', true]],
  ['Opera', ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36 OPR/109.0.0.0', 'Opera', '109.0.0.0', 'Browser', 'Windows 10', 'Computer', false]],
  ['IE 11', ['Mozilla/5.0 (Windows NT 6.1; Trident/7.0; rv:11.0) like Gecko', 'Internet Explorer', '11.0', 'Browser', 'Windows 7', 'Computer', false]],
  ['Chrome OS', ['Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36', 'Chrome', '124.0.0.0', 'Browser', 'Chrome OS', 'Computer', false]],
  ['Linux Firefox', ['Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0', 'Firefox', '125.0', 'Browser', 'Linux', 'Computer', false]],
  ['PlayStation', ['Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.0 Safari/605.1.15', 'Safari', '13.0', 'Browser', 'PlayStation', 'Game console', false]],
  ['Smart TV', ['Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) 85.0.4183.93/6.0 TV Safari/537.36', 'WebKit', '537.36', 'Browser', 'Tizen', 'Digital media receiver', false]],
  ['Googlebot', ['Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', 'Googlebot', '2.1', 'Robot', 'Unknown', 'Unknown', false]],
  ['Googlebot smartphone', ['Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', 'Googlebot', '2.1', 'Robot', 'Unknown', 'Unknown', false]],
  ['Bingbot', ['Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)', 'Bingbot', '2.0', 'Robot', 'Unknown', 'Unknown', false]],
  ['GPTBot', ['Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)', 'GPTBot', '1.2', 'Robot', 'Unknown', 'Unknown', false]],
  ['HeadlessChrome', ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36', 'HeadlessChrome', '124.0.0.0', 'Robot', 'Unknown', 'Unknown', false]],
  ['unknown crawler', ['Mozilla/5.0 (compatible; AcmeCrawler/3.1; +https://acme.example/crawler)', 'AcmeCrawler', '3.1', 'Robot', 'Unknown', 'Unknown', false]],
  ['facebookexternalhit', ['facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)', 'facebookexternalhit', '1.1', 'Robot', 'Unknown', 'Unknown', false]],
  ['curl', ['curl/8.5.0', 'curl', '8.5.0', 'Tool', 'Unknown', 'Unknown', false]],
  ['python-requests', ['python-requests/2.31.0', 'python-requests', '2.31.0', 'Tool', 'Unknown', 'Unknown', false]],
  ['garbage', ['¯\\_(ツ)_/¯', null, null, 'Unknown', 'Unknown', 'Unknown', false]],
];

describe('user-agent parsing', () => {
  it.each(CASES)('%s', (_name, [ua, family, version, type, osName, device, mobile]) => {
    const info = parseUserAgent(ua);
    expect([info.br_family, info.br_version, info.br_type, info.os_name, info.dvce_type, info.dvce_ismobile]).toEqual([family, version, type, osName, device, mobile]);
    expect(info.is_bot).toBe(type === 'Robot');
  });

  it('names browsers with their major version and their engine', () => {
    const info = parseUserAgent(CASES[0][1][0]);
    expect(info).toMatchObject({ br_name: 'Chrome 124', br_renderengine: 'BLINK', os_family: 'Windows', os_manufacturer: 'Microsoft Corporation' });
    expect(parseUserAgent(CASES[4][1][0])).toMatchObject({ br_name: 'Mobile Safari 17', br_renderengine: 'WEBKIT', os_family: 'iOS', os_manufacturer: 'Apple Inc.' });
    expect(parseUserAgent(CASES[2][1][0]).br_renderengine).toBe('GECKO');
    expect(parseUserAgent(CASES[13][1][0]).br_renderengine).toBe('TRIDENT');
  });

  it('stays fast on hostile input (long strings, repeated tokens)', () => {
    const started = process.hrtime.bigint();
    parseUserAgent('Mozilla/5.0 ' + 'bot'.repeat(100000));
    parseUserAgent('('.repeat(50000) + 'Chrome/' + '1.'.repeat(50000));
    // No wall-clock assertion: reaching this line at all (no catastrophic backtracking) is the test.
    expect(process.hrtime.bigint() > started).toBe(true);
  });
});
