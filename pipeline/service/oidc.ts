/**
 * Verifies the OIDC token Pub/Sub sends with every push request (`Authorization: Bearer <JWT>`), with node:crypto only.
 * The rules are Google's for authenticated push (https://cloud.google.com/pubsub/docs/authenticate-push-subscriptions,
 * read 2026-12-02): the JWT is signed by Google (RS256, a key of https://www.googleapis.com/oauth2/v3/certs), its `iss`
 * is `accounts.google.com` or `https://accounts.google.com`, its `aud` is the audience configured on the subscription,
 * its `email` is the push service account (with `email_verified`), and it is not expired.
 *
 * A failure says which rule failed and whether it is 401 (no valid Google token: missing, malformed, unsigned, bad
 * signature, wrong issuer, expired) or 403 (a valid Google token for someone else: other audience or account).
 */
import { createPublicKey, KeyObject, verify } from 'node:crypto';

export const GOOGLE_CERTS_URL = 'https://www.googleapis.com/oauth2/v3/certs';
export const GOOGLE_ISSUERS: readonly string[] = ['accounts.google.com', 'https://accounts.google.com'];

/** A JSON Web Key Set, as Google's certs endpoint returns it. */
export interface Jwks {
  readonly keys: ReadonlyArray<{ readonly kid?: string; readonly kty?: string; readonly alg?: string; readonly n?: string; readonly e?: string }>;
}

/** Where keys come from: Google's endpoint in production, a local key set in tests. */
export interface JwksSource {
  /** The key set and how long it may be cached (ms). */
  fetch(): Promise<{ jwks: Jwks; maxAgeMs: number }>;
}

/** Google's certs over HTTPS; the cache lifetime is the response's `Cache-Control: max-age`. */
export function googleJwksSource(url: string = GOOGLE_CERTS_URL): JwksSource {
  return {
    async fetch() {
      const res = await fetch(url);
      if (!res.ok) throw new Error(`${url} answered ${res.status}`);
      const maxAge = /max-age=(\d+)/.exec(res.headers.get('cache-control') ?? '');
      return { jwks: (await res.json()) as Jwks, maxAgeMs: maxAge ? Number(maxAge[1]) * 1000 : 3600000 };
    },
  };
}

export interface PushAuthOptions {
  /** The `aud` the push subscription puts in its tokens (its `oidc_token.audience`, by default the push endpoint URL). */
  readonly audience: string;
  /** The email of the push subscription's service account. */
  readonly serviceAccountEmail: string;
  /** @default Google's certs */
  readonly jwks?: JwksSource;
  /** @default Date.now */
  readonly clock?: () => number;
  /** Tolerated clock skew in seconds for `exp`/`iat`. @default 60 */
  readonly skewSeconds?: number;
}

export type AuthResult = { readonly ok: true; readonly email: string } | { readonly ok: false; readonly status: 401 | 403; readonly reason: string };

function b64urlJson(part: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Refetches for an unknown `kid` at most this often, so forged tokens cannot make us hammer Google. */
const MIN_REFETCH_MS = 30000;
/**
 * Tokens already verified, remembered with their expiry: Pub/Sub sends the same token with many pushes, and an
 * RSA verification costs more CPU than enriching the event. Only fully verified tokens are remembered (by their
 * whole text, signature included), and a remembered token is still checked for expiry at every use.
 */
const VERIFIED_CACHE_SIZE = 256;

export class PushAuthenticator {
  private keys = new Map<string, KeyObject>();
  private expires = 0;
  private lastFetch = 0;
  private loading: Promise<void> | null = null;
  private readonly verified = new Map<string, { exp: number; email: string }>();
  private readonly source: JwksSource;
  private readonly clock: () => number;

  constructor(private readonly options: PushAuthOptions) {
    if (!options.audience) throw new Error('push authentication needs the audience of the push subscription');
    if (!options.serviceAccountEmail) throw new Error('push authentication needs the email of the push service account');
    this.source = options.jwks ?? googleJwksSource();
    this.clock = options.clock ?? Date.now;
  }

  private async load(): Promise<void> {
    this.loading ??= (async () => {
      try {
        this.lastFetch = this.clock();
        const { jwks, maxAgeMs } = await this.source.fetch();
        const next = new Map<string, KeyObject>();
        for (const k of jwks.keys ?? []) {
          if (k.kty !== 'RSA' || !k.kid || !k.n || !k.e) continue;
          next.set(k.kid, createPublicKey({ key: { kty: 'RSA', n: k.n, e: k.e }, format: 'jwk' }));
        }
        this.keys = next;
        this.expires = this.clock() + maxAgeMs;
      } finally {
        this.loading = null;
      }
    })();
    return this.loading;
  }

  private async key(kid: string): Promise<KeyObject | undefined> {
    const now = this.clock();
    if (now >= this.expires || (!this.keys.has(kid) && now - this.lastFetch >= MIN_REFETCH_MS)) await this.load();
    return this.keys.get(kid);
  }

  /** Checks an `Authorization` header value. Never throws for bad input; a failure to fetch the keys rejects. */
  async verify(authorization: string | undefined): Promise<AuthResult> {
    const fail = (status: 401 | 403, reason: string): AuthResult => ({ ok: false, status, reason });
    const skew = this.options.skewSeconds ?? 60;
    const known = authorization === undefined ? undefined : this.verified.get(authorization);
    if (known) {
      if (known.exp + skew >= this.clock() / 1000) return { ok: true, email: known.email };
      this.verified.delete(authorization!);
    }
    const m = /^Bearer ([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]*)$/.exec(authorization ?? '');
    if (!m) return fail(401, authorization ? 'the Authorization header is not a Bearer JWT' : 'no Authorization header: the push subscription must send an OIDC token');
    const header = b64urlJson(m[1]);
    const claims = b64urlJson(m[2]);
    if (!header || !claims) return fail(401, 'the token is not a JWT (header or claims are not JSON)');
    if (header.alg !== 'RS256') return fail(401, `the token is not signed with RS256 (alg ${JSON.stringify(header.alg)})`);
    if (m[3] === '') return fail(401, 'the token has no signature');
    if (typeof header.kid !== 'string') return fail(401, 'the token names no signing key (kid)');
    const key = await this.key(header.kid);
    if (!key) return fail(401, `the token is signed with key ${header.kid}, which is not one of Google's`);
    const signed = verify('RSA-SHA256', Buffer.from(m[1] + '.' + m[2], 'ascii'), key, Buffer.from(m[3], 'base64url'));
    if (!signed) return fail(401, 'the token signature is invalid');
    if (typeof claims.iss !== 'string' || !GOOGLE_ISSUERS.includes(claims.iss)) return fail(401, `the token issuer ${JSON.stringify(claims.iss)} is not Google (${GOOGLE_ISSUERS.join(' or ')})`);
    const now = this.clock() / 1000;
    if (typeof claims.exp !== 'number' || claims.exp + skew < now) return fail(401, 'the token has expired');
    if (typeof claims.iat === 'number' && claims.iat - skew > now) return fail(401, 'the token is issued in the future');
    const aud = claims.aud;
    if (!(aud === this.options.audience || (Array.isArray(aud) && aud.includes(this.options.audience)))) {
      return fail(403, `the token is for audience ${JSON.stringify(aud)}, not this service's (${this.options.audience})`);
    }
    if (claims.email !== this.options.serviceAccountEmail) return fail(403, `the token is for ${JSON.stringify(claims.email)}, not the push service account ${this.options.serviceAccountEmail}`);
    if (claims.email_verified !== true) return fail(403, 'the token email is not verified');
    if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.delete(this.verified.keys().next().value as string);
    this.verified.set(authorization!, { exp: claims.exp, email: claims.email });
    return { ok: true, email: claims.email };
  }
}
