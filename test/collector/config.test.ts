import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig, SETTINGS } from '../../collector/config';

const problemsOf = (env: Record<string, string>, file?: unknown, readFile?: (p: string) => string): string[] => {
  try {
    loadConfig(env, { file, readFile });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return [...(e as ConfigError).problems];
  }
  throw new Error('expected a ConfigError');
};

describe('collector configuration', () => {
  test('no configuration at all: port 8080, stdout sink, and the caller is told the sink was defaulted', () => {
    const { config, sinkDefaulted, sources } = loadConfig({});
    expect(config.port).toBe(8080);
    expect(config.sink).toEqual({ type: 'stdout' });
    expect(sinkDefaulted).toBe(true);
    expect(sources).toEqual(['defaults']);
    expect(config.cookie).toEqual({ enabled: true, name: 'sp', maxAgeSeconds: 31536000, domains: [], fallbackDomain: null, secure: true, httpOnly: true, sameSite: 'None' });
    expect(config.maxBodyBytes).toBe(1048576);
    expect(config.redirect.enabled).toBe(false);
    expect(config.debugEndpoints).toBe(false);
    expect(config.xffTrustedHops).toBe(1);
    expect(config.ackMode).toBe('buffered');
  });

  test('environment variables configure the Pub/Sub sink (inferred from its topics), cookies, paths and limits', () => {
    const { config, sinkDefaulted } = loadConfig({
      PORT: '9090',
      GOOGLE_CLOUD_PROJECT: 'acme-prod',
      WAYMARK_PUBSUB_GOOD_TOPIC: 'raw',
      WAYMARK_PUBSUB_BAD_TOPIC: 'projects/acme-prod/topics/bad',
      WAYMARK_COOKIE_NAME: 'wm',
      WAYMARK_COOKIE_DOMAINS: 'acme.com, .Acme.CO.uk',
      WAYMARK_COOKIE_FALLBACK_DOMAIN: 'acme.net',
      WAYMARK_COOKIE_SAME_SITE: 'lax',
      WAYMARK_DNT_COOKIE_NAME: 'optout',
      WAYMARK_DNT_COOKIE_VALUE: 'yes|1',
      WAYMARK_XFF_TRUSTED_HOPS: 'off',
      WAYMARK_CUSTOM_PATHS: '/acme/events=/com.snowplowanalytics.snowplow/tp2, /acme/px=/i',
      WAYMARK_REDIRECT_ENABLED: 'true',
      WAYMARK_REDIRECT_ALLOWED_DOMAINS: 'acme.com',
      WAYMARK_HEADERS_ALLOWLIST: 'Accept-Language,X-Client-Region',
    });
    expect(sinkDefaulted).toBe(false);
    expect(config.port).toBe(9090);
    expect(config.sink).toMatchObject({ type: 'pubsub', projectId: 'acme-prod', goodTopic: 'raw', badTopic: 'projects/acme-prod/topics/bad', batchMaxMessages: 1000 });
    expect(config.cookie).toMatchObject({ name: 'wm', domains: ['acme.com', 'acme.co.uk'], fallbackDomain: 'acme.net', sameSite: 'Lax' });
    expect(config.doNotTrackCookie?.name).toBe('optout');
    expect(config.doNotTrackCookie?.value.test('yes')).toBe(true);
    expect(config.doNotTrackCookie?.value.test('yess')).toBe(false); // the whole value must match
    expect(config.xffTrustedHops).toBeNull();
    expect(config.customPaths).toEqual({ '/acme/events': '/com.snowplowanalytics.snowplow/tp2', '/acme/px': '/i' });
    expect(config.redirect).toEqual({ enabled: true, allowedDomains: ['acme.com'] });
    expect(config.headersAllowList).toEqual(['accept-language', 'x-client-region']);
  });

  test('a JSON file (WAYMARK_CONFIG_FILE) is read, nested like the dotted keys, and the environment wins over it', () => {
    const file = JSON.stringify({ port: 7000, sink: { type: 'file', directory: '/var/waymark' }, cookie: { name: 'fromfile', domains: ['a.com'] }, customPaths: { '/x/y': '/i' } });
    const { config, sources } = loadConfig(
      { WAYMARK_CONFIG_FILE: '/etc/waymark.json', WAYMARK_COOKIE_NAME: 'fromenv' },
      { readFile: (p) => (p === '/etc/waymark.json' ? file : '') },
    );
    expect(config.port).toBe(7000);
    expect(config.sink).toEqual({ type: 'file', directory: '/var/waymark' });
    expect(config.cookie.name).toBe('fromenv');
    expect(config.cookie.domains).toEqual(['a.com']);
    expect(config.customPaths).toEqual({ '/x/y': '/i' });
    expect(sources).toEqual(['WAYMARK_CONFIG_FILE', 'environment']);
  });

  test('every error names the setting and its environment variable, says what was expected and what was found', () => {
    expect(problemsOf({ PORT: 'http', WAYMARK_COOKIE_MAX_AGE_SECONDS: '-5', WAYMARK_COOKIE_ENABLED: 'maybe', WAYMARK_SINK: 'kafka' })).toEqual([
      'port (PORT) must be an integer from 0 to 65535, got "http"',
      'sink.type (WAYMARK_SINK) must be one of "stdout", "file", "memory", "pubsub", got "kafka"',
      'cookie.enabled (WAYMARK_COOKIE_ENABLED) must be true or false, got "maybe"',
      'cookie.maxAgeSeconds (WAYMARK_COOKIE_MAX_AGE_SECONDS) must be an integer from 1 to 34560000, got "-5"',
    ]);
  });

  test('cross-setting rules: Pub/Sub topics, SameSite=None needs Secure, debug endpoints need the memory sink, redirects need an allow-list', () => {
    expect(problemsOf({ WAYMARK_SINK: 'pubsub' })).toEqual([
      'sink.goodTopic (WAYMARK_PUBSUB_GOOD_TOPIC) is required when sink.type is "pubsub"',
      'sink.badTopic (WAYMARK_PUBSUB_BAD_TOPIC) is required when sink.type is "pubsub"',
    ]);
    expect(problemsOf({ WAYMARK_COOKIE_SECURE: 'false' })).toEqual([
      'cookie.sameSite (WAYMARK_COOKIE_SAME_SITE) "None" requires cookie.secure (WAYMARK_COOKIE_SECURE) true: browsers reject SameSite=None cookies without Secure',
    ]);
    expect(problemsOf({ WAYMARK_DEBUG_ENDPOINTS: 'true' })).toEqual(['debugEndpoints (WAYMARK_DEBUG_ENDPOINTS) needs sink.type "memory" (WAYMARK_SINK=memory), the sink is "stdout"']);
    expect(problemsOf({ WAYMARK_REDIRECT_ENABLED: 'true' })).toEqual([
      'redirect.allowedDomains (WAYMARK_REDIRECT_ALLOWED_DOMAINS) must list at least one domain when redirect.enabled (WAYMARK_REDIRECT_ENABLED) is true: an unrestricted redirect is an open redirect',
    ]);
    expect(problemsOf({ WAYMARK_SINK: 'memory', WAYMARK_PUBSUB_GOOD_TOPIC: 'raw' })).toEqual([
      'sink.goodTopic (WAYMARK_PUBSUB_GOOD_TOPIC) applies only to sink.type "pubsub", but the sink is "memory" (WAYMARK_SINK)',
    ]);
    expect(problemsOf({ WAYMARK_PUBSUB_GOOD_TOPIC: 'raw', WAYMARK_PUBSUB_BAD_TOPIC: 'raw' })).toEqual([
      'sink.goodTopic (WAYMARK_PUBSUB_GOOD_TOPIC) and sink.badTopic (WAYMARK_PUBSUB_BAD_TOPIC) must differ: bad rows would mix with events',
    ]);
    expect(problemsOf({ WAYMARK_CUSTOM_PATHS: '/one=/i,/a/b=/r/tp2' })).toEqual([
      'customPaths (WAYMARK_CUSTOM_PATHS) path "/one" must have exactly two segments, like "/acme/events"',
    ]);
    expect(problemsOf({ WAYMARK_DNT_COOKIE_VALUE: '(' })[0]).toMatch(/^doNotTrackCookie.value \(WAYMARK_DNT_COOKIE_VALUE\) must be a valid regular expression/);
    expect(problemsOf({ WAYMARK_COOKIE_DOMAINS: 'https://acme.com' })).toEqual([
      'cookie.domains (WAYMARK_COOKIE_DOMAINS) item 1: must be a domain name such as "acme.com" (no scheme, port or path), got "https://acme.com"',
    ]);
  });

  test('file problems: unknown keys (typos), bad JSON, unreadable file', () => {
    expect(problemsOf({}, { cookie: { nmae: 'x' }, prot: 1 })).toEqual([
      'configuration object: unknown setting "cookie.nmae" (known here: cookie.enabled, cookie.name, cookie.maxAgeSeconds, cookie.domains, cookie.fallbackDomain, cookie.secure, cookie.httpOnly, cookie.sameSite)',
      expect.stringMatching(/^configuration object: unknown setting "prot"/),
    ]);
    expect(problemsOf({ WAYMARK_CONFIG_FILE: 'c.json' }, undefined, () => '{ "port": ')).toEqual([expect.stringMatching(/^WAYMARK_CONFIG_FILE=c.json: not valid JSON/)]);
    expect(problemsOf({ WAYMARK_CONFIG_FILE: '/nonexistent/waymark.json' })).toEqual(['WAYMARK_CONFIG_FILE=/nonexistent/waymark.json: cannot read the file (ENOENT)']);
    expect(problemsOf({}, { cookie: { maxAgeSeconds: 'long' } })).toEqual([
      'cookie.maxAgeSeconds (WAYMARK_COOKIE_MAX_AGE_SECONDS) must be an integer from 1 to 34560000, got "long" (in configuration object)',
    ]);
  });

  test('every setting has a distinct key and environment variable', () => {
    expect(new Set(SETTINGS.map((s) => s.key)).size).toBe(SETTINGS.length);
    expect(new Set(SETTINGS.map((s) => s.env)).size).toBe(SETTINGS.length);
    for (const s of SETTINGS) expect(s.env).toMatch(/^(PORT|WAYMARK_[A-Z0-9_]+)$/);
  });

  test('collector/README.md documents every setting with its variable, key and default', () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'collector', 'README.md'), 'utf8');
    const rows = new Map(readme.split('\n').filter((l) => l.startsWith('| `')).map((l) => [l.split('|')[1].trim(), l.split('|').map((c) => c.trim())]));
    for (const s of SETTINGS) {
      const row = rows.get(`\`${s.env}\``);
      expect(row && row[2]).toBe(`\`${s.key}\``);
      if (typeof s.def === 'number' || typeof s.def === 'boolean' || (typeof s.def === 'string' && s.def !== '')) expect(row![3]).toBe(String(s.def));
    }
  });
});
