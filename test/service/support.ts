/**
 * Helpers of the enricher service tests: the shipped service bundle (built by lib/private/enricher-service.ts, as a
 * deployment builds it) run as `node enricher.js`, and locally signed OIDC tokens.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync, KeyObject, sign } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeBundle } from '../../lib/private/bundler';
import { enricherServiceForRegistry } from '../../lib/private/enricher-service';
import { loadRegistry } from '../../pipeline/registry/load';
import type { Jwks, JwksSource } from '../../pipeline/service/oidc';
import { EXAMPLE_SCHEMAS_DIR } from '../helpers/bundles';
import { waitFor } from '../collector/support';

let built: string | undefined;

/** The service bundle for the built-ins plus examples/schemas, written once per worker (kept: the cache of test/helpers/bundles.ts). */
export function enricherBundleFile(): string {
  if (built) return built;
  const b = enricherServiceForRegistry('test', loadRegistry([EXAMPLE_SCHEMAS_DIR]), undefined);
  built = writeBundle(b, join(tmpdir(), 'waymark-test-bundles', b.hash));
  return built;
}

export interface RunningEnricher {
  readonly child: ChildProcess;
  readonly logs: Array<Record<string, unknown>>;
  readonly port: number;
  readonly exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `node enricher.js` with `env` and waits for its "enricher listening" line. */
export async function runEnricher(env: Record<string, string>): Promise<RunningEnricher> {
  const child = spawn(process.execPath, [enricherBundleFile()], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: Array<Record<string, unknown>> = [];
  let buf = '';
  let errText = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => {
    buf += d;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        errText += line + '\n';
      }
    }
  });
  child.stderr!.on('data', (d: Buffer) => (errText += d.toString()));
  let code: number | null | undefined;
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  void exited.then((c) => (code = c));
  await waitFor('the enricher to listen', () => {
    if (code !== undefined) throw new Error(`the enricher exited with ${code}: ${JSON.stringify(logs)} ${errText}`);
    return logs.some((l) => l.message === 'enricher listening') ? true : undefined;
  }, 30000, 50);
  const port = logs.find((l) => l.message === 'enricher listening')!.port as number;
  return {
    child,
    logs,
    port,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (code === undefined) child.kill(signal);
      return exited;
    },
  };
}

/** A local RSA key standing in for Google's, with the JWKS that publishes it, and a token signer. */
export class LocalIssuer {
  readonly kid = 'test-key-1';
  private readonly privateKey: KeyObject;
  readonly jwks: Jwks;
  fetches = 0;
  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.privateKey = privateKey;
    const jwk = publicKey.export({ format: 'jwk' }) as { n: string; e: string };
    this.jwks = { keys: [{ kid: this.kid, kty: 'RSA', alg: 'RS256', n: jwk.n, e: jwk.e }] };
  }
  source(): JwksSource {
    return { fetch: async () => (this.fetches++, { jwks: this.jwks, maxAgeMs: 3600000 }) };
  }
  /** A signed JWT with Google's push claims, overridden by `claims`; `header` overrides the JOSE header. */
  token(claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}, key: KeyObject = this.privateKey): string {
    const now = Math.floor(Date.now() / 1000);
    const h = Buffer.from(JSON.stringify({ alg: 'RS256', kid: this.kid, typ: 'JWT', ...header })).toString('base64url');
    const c = Buffer.from(JSON.stringify({
      iss: 'https://accounts.google.com', aud: 'https://enricher.example/push', email: 'push@p.iam.gserviceaccount.com', email_verified: true,
      iat: now, exp: now + 3600, sub: '1234', ...claims,
    })).toString('base64url');
    const s = sign('RSA-SHA256', Buffer.from(`${h}.${c}`), key).toString('base64url');
    return `${h}.${c}.${s}`;
  }
}
