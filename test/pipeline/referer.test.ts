import { attributeCampaign, BUILT_IN_CLICK_IDS, DEFAULT_CAMPAIGN_FIELDS } from '../../pipeline/campaign';
import { BUILT_IN_SOURCES, classifyReferer, hostMatches, indexSources, lookupSource } from '../../pipeline/referer';
import { parseQuery } from '../../pipeline/url';

const index = indexSources(BUILT_IN_SOURCES);
const classify = (refHost: string, query = '', pageHost: string | null = 'shop.example.com', internal: string[] = []) =>
  classifyReferer(index, refHost, parseQuery(query), pageHost, internal);

describe('referer classification', () => {
  it.each([
    ['www.google.com', 'q=blue+mug', 'search', 'Google', 'blue mug'],
    ['www.google.co.uk', '', 'search', 'Google', null],
    ['google.de', 'q=tasse', 'search', 'Google', 'tasse'],
    ['www.bing.com', 'q=kettle', 'search', 'Bing', 'kettle'],
    ['duckduckgo.com', 'q=x', 'search', 'DuckDuckGo', 'x'],
    ['search.yahoo.com', 'p=mug', 'search', 'Yahoo!', 'mug'],
    ['yandex.ru', 'text=%D1%87%D0%B0%D0%B9', 'search', 'Yandex', 'чай'],
    ['www.baidu.com', 'wd=%E8%8C%B6', 'search', 'Baidu', '茶'],
    ['t.co', '', 'social', 'Twitter', null],
    ['l.facebook.com', 'u=https%3A%2F%2Fshop.example.com', 'social', 'Facebook', null],
    ['www.linkedin.com', '', 'social', 'LinkedIn', null],
    ['news.ycombinator.com', '', 'social', 'Hacker News', null],
    ['mail.google.com', '', 'email', 'Gmail', null],
    ['outlook.live.com', '', 'email', 'Outlook.com', null],
    ['googleads.g.doubleclick.net', '', 'paid', 'Google', null],
    ['news.example.org', '', 'unknown', null, null],
    ['google.evil.com', 'q=x', 'unknown', null, null],
  ])('%s?%s → %s / %s / %s', (host, query, medium, source, term) => {
    expect(classify(host, query)).toEqual({ medium, source, term });
  });

  it('treats the page host and the configured internal domains (with subdomains) as internal', () => {
    expect(classify('shop.example.com')).toEqual({ medium: 'internal', source: null, term: null });
    expect(classify('blog.example.com', '', 'shop.example.com', ['example.com'])).toEqual({ medium: 'internal', source: null, term: null });
    expect(classify('blog.example.com', '', 'shop.example.com', [])).toEqual({ medium: 'unknown', source: null, term: null });
    expect(classify('notexample.com', '', 'shop.example.com', ['example.com']).medium).toBe('unknown');
  });

  it('lets configured sources come first', () => {
    const custom = indexSources([{ medium: 'search', source: 'Intranet', domains: ['search.corp.example'], params: ['query'] }, ...BUILT_IN_SOURCES]);
    expect(classifyReferer(custom, 'search.corp.example', parseQuery('query=vpn'), null, [])).toEqual({ medium: 'search', source: 'Intranet', term: 'vpn' });
    expect(lookupSource(custom, 'www.google.fr')?.source).toBe('Google');
  });

  it('matches hosts against domains on label boundaries', () => {
    expect(hostMatches('a.example.com', 'example.com')).toBe(true);
    expect(hostMatches('example.com', 'example.com')).toBe(true);
    expect(hostMatches('badexample.com', 'example.com')).toBe(false);
  });
});

describe('campaign attribution', () => {
  const attribute = (query: string) => attributeCampaign(parseQuery(query), DEFAULT_CAMPAIGN_FIELDS, BUILT_IN_CLICK_IDS);

  it('reads the utm parameters, decoded', () => {
    expect(attribute('utm_source=news&utm_medium=email&utm_campaign=spring%20sale&utm_term=mug&utm_content=hero')).toEqual({
      medium: 'email', source: 'news', term: 'mug', content: 'hero', campaign: 'spring sale', clickId: null, network: null,
    });
  });

  it.each([
    ['gclid=abc', 'abc', 'Google'],
    ['msclkid=m1', 'm1', 'Microsoft'],
    ['fbclid=f1', 'f1', 'Facebook'],
    ['dclid=d1', 'd1', 'DoubleClick'],
    ['ttclid=t1', 't1', 'TikTok'],
    ['li_fat_id=l1', 'l1', 'LinkedIn'],
    ['x=1&wbraid=w1&gclid=g1', 'w1', 'Google'],
  ])('click id %s → %s from %s', (query, id, network) => {
    expect(attribute(query)).toMatchObject({ clickId: id, network });
  });

  it('uses configured field names and click ids', () => {
    const c = attributeCampaign(parseQuery('src=partner&cid=42&acme_click=z'), { ...DEFAULT_CAMPAIGN_FIELDS, source: ['src', 'utm_source'], campaign: ['cid'] }, { ...BUILT_IN_CLICK_IDS, acme_click: 'Acme Ads' });
    expect(c).toMatchObject({ source: 'partner', campaign: '42', clickId: 'z', network: 'Acme Ads' });
  });

  it('ignores empty values', () => {
    expect(attribute('utm_source=&gclid=')).toMatchObject({ source: null, clickId: null });
  });
});
