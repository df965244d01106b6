/**
 * Push authentication (pipeline/service/oidc.ts) with locally signed tokens: Google's rules for authenticated push
 * (https://cloud.google.com/pubsub/docs/authenticate-push-subscriptions): RS256 by a key of the certs endpoint,
 * `iss` accounts.google.com or https://accounts.google.com, `aud` the subscription's audience, `email` the push
 * service account with `email_verified`, not expired.
 */
import { generateKeyPairSync } from 'node:crypto';
import { PushAuthenticator } from '../../pipeline/service/oidc';
import { LocalIssuer } from './support';

const AUD = 'https://enricher.example/push';
const EMAIL = 'push@p.iam.gserviceaccount.com';
const issuer = new LocalIssuer();
const auth = (clock?: () => number): PushAuthenticator => new PushAuthenticator({ audience: AUD, serviceAccountEmail: EMAIL, jwks: issuer.source(), clock });
const bearer = (t: string): string => `Bearer ${t}`;

describe('PushAuthenticator', () => {
  const a = auth();

  test('accepts a token Google would send for this subscription (both issuer spellings)', async () => {
    await expect(a.verify(bearer(issuer.token()))).resolves.toEqual({ ok: true, email: EMAIL });
    await expect(a.verify(bearer(issuer.token({ iss: 'accounts.google.com' })))).resolves.toEqual({ ok: true, email: EMAIL });
  });

  test.each([
    ['wrong audience', 403, { aud: 'https://other.example/push' }, /audience/],
    ['wrong service account', 403, { email: 'someone@else.iam.gserviceaccount.com' }, /not the push service account/],
    ['unverified email', 403, { email_verified: false }, /not verified/],
    ['wrong issuer', 401, { iss: 'https://evil.example' }, /issuer .* is not Google/],
    ['expired', 401, { exp: Math.floor(Date.now() / 1000) - 3600, iat: Math.floor(Date.now() / 1000) - 7200 }, /expired/],
    ['no expiry', 401, { exp: undefined }, /expired/],
    ['issued in the future', 401, { iat: Math.floor(Date.now() / 1000) + 3600 }, /future/],
  ])('%s → %d', async (_what, status, claims, reason) => {
    const r = await a.verify(bearer(issuer.token(claims)));
    expect(r).toMatchObject({ ok: false, status });
    expect(r.ok ? '' : r.reason).toMatch(reason);
  });

  test('unsigned tokens are refused: alg none, an empty signature, a signature by another key, a tampered claim', async () => {
    const [h, c, s] = issuer.token().split('.');
    const none = Buffer.from(JSON.stringify({ alg: 'none', kid: issuer.kid })).toString('base64url');
    await expect(a.verify(bearer(`${none}.${c}.`))).resolves.toMatchObject({ ok: false, status: 401, reason: expect.stringMatching(/RS256/) });
    await expect(a.verify(bearer(`${h}.${c}.`))).resolves.toMatchObject({ ok: false, status: 401, reason: expect.stringMatching(/no signature/) });
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    await expect(a.verify(bearer(issuer.token({}, {}, other)))).resolves.toMatchObject({ ok: false, status: 401, reason: expect.stringMatching(/signature is invalid/) });
    const tampered = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(c, 'base64url').toString()), email: 'x@y.z' })).toString('base64url');
    await expect(a.verify(bearer(`${h}.${tampered}.${s}`))).resolves.toMatchObject({ ok: false, status: 401, reason: expect.stringMatching(/signature is invalid/) });
  });

  test('missing or malformed headers and unknown keys are 401 with a reason', async () => {
    await expect(a.verify(undefined)).resolves.toMatchObject({ ok: false, status: 401, reason: expect.stringMatching(/no Authorization header/) });
    await expect(a.verify('Basic dXNlcjpwdw==')).resolves.toMatchObject({ ok: false, status: 401, reason: expect.stringMatching(/not a Bearer JWT/) });
    await expect(a.verify('Bearer a.b.c')).resolves.toMatchObject({ ok: false, status: 401, reason: expect.stringMatching(/not a JWT/) });
    await expect(a.verify(bearer(issuer.token({}, { kid: 'rotated-away' })))).resolves.toMatchObject({ ok: false, status: 401, reason: expect.stringMatching(/not one of Google's/) });
  });

  test('the key set is cached for its max-age, refetched when it expires', async () => {
    let now = Date.now();
    const fetchesBefore = issuer.fetches;
    const cached = auth(() => now);
    for (let i = 0; i < 5; i++) expect((await cached.verify(bearer(issuer.token()))).ok).toBe(true);
    expect(issuer.fetches - fetchesBefore).toBe(1);
    now += 3600000 + 1;
    // The token is checked against the clock too: sign one valid at the new time.
    expect((await cached.verify(bearer(issuer.token({ iat: Math.floor(now / 1000), exp: Math.floor(now / 1000) + 600 })))).ok).toBe(true);
    expect(issuer.fetches - fetchesBefore).toBe(2);
  });

  test('a configuration without audience or account is refused at construction', () => {
    expect(() => new PushAuthenticator({ audience: '', serviceAccountEmail: EMAIL })).toThrow(/audience/);
    expect(() => new PushAuthenticator({ audience: AUD, serviceAccountEmail: '' })).toThrow(/service account/);
  });
});

describe('verified tokens are remembered, not trusted forever', () => {
  test('a remembered token still expires; a different token with the same claims is verified on its own', async () => {
    let now = Date.now();
    const a = auth(() => now);
    const token = issuer.token({ exp: Math.floor(now / 1000) + 120 });
    expect((await a.verify(bearer(token))).ok).toBe(true);
    expect((await a.verify(bearer(token))).ok).toBe(true);
    now += 10 * 60 * 1000;
    await expect(a.verify(bearer(token))).resolves.toMatchObject({ ok: false, status: 401, reason: expect.stringMatching(/expired/) });
    const [h, c, s] = issuer.token().split('.');
    const forged = `${h}.${c}.${s.slice(0, -4)}AAAA`;
    await expect(a.verify(bearer(forged))).resolves.toMatchObject({ ok: false, status: 401 });
  });
});
