/**
 * pipeline/host-digest.ts: in Nashorn 15.4 (called as the Dataflow template calls a UDF) the JVM's MD5 and SHA-256
 * are taken, pass their self-checks, and give exactly the hand-written md5.ts/sha256.ts digests, lone surrogates
 * included; in every other engine there is none (the hand-written code runs).
 */
import { hostDigest } from '../../pipeline/host-digest';
import { md5Hex } from '../../pipeline/md5';
import { sha256Hex } from '../../pipeline/sha256';
import { bundleAsEs5Script } from './validation-engines';
import { NashornUdf } from './helpers/nashorn';

const TEXTS = [
  '', 'abc', 'x'.repeat(1000), 'caf\u00e9 \u20ac \ud83d\ude00', 'a\ud800', '\udc00b\ud800c', '\ud800\ud800\udc00', 'e\u0001pv\u0002' + 'y'.repeat(70),
];

const ENTRY = `
import { hostDigest } from './pipeline/host-digest';
import { md5Hex } from './pipeline/md5';
import { sha256Hex } from './pipeline/sha256';
const CHECK = ['abc', 'a\\ud800'];
function checks(f: (s: string) => string): { [k: string]: string } { const o: { [k: string]: string } = {}; for (let i = 0; i < CHECK.length; i++) o[CHECK[i]] = f(CHECK[i]); return o; }
const md5 = hostDigest('MD5', checks(md5Hex));
const sha = hostDigest('SHA-256', checks(sha256Hex));
export function run(text: string): string {
  return JSON.stringify({ md5: md5 === null ? null : md5(text), sha: sha === null ? null : sha(text), jsMd5: md5Hex(text), jsSha: sha256Hex(text) });
}
`;

describe('the JVM digests in Nashorn (host-digest.ts)', () => {
  let nashorn: NashornUdf;
  beforeAll(async () => {
    const code = await bundleAsEs5Script(ENTRY, 'hostDigestTest');
    nashorn = new NashornUdf(code + '\nfunction process(text) { return hostDigestTest.run(text); }\n');
  });
  afterAll(async () => {
    await nashorn.close();
  });

  it('are there in Nashorn and give the hand-written digests for every text, lone surrogates included', async () => {
    for (const text of TEXTS) {
      const out = await nashorn.call('process', text);
      if (!('returned' in out) || out.returned === null) throw new Error('no result: ' + JSON.stringify(out));
      const r = JSON.parse(out.returned) as { md5: string | null; sha: string | null; jsMd5: string; jsSha: string };
      expect({ text, md5: r.md5, sha: r.sha }).toEqual({ text, md5: md5Hex(text), sha: sha256Hex(text) });
      // The hand-written code in Nashorn agrees with Node too.
      expect({ text, md5: r.jsMd5, sha: r.jsSha }).toEqual({ text, md5: md5Hex(text), sha: sha256Hex(text) });
    }
  });
});

describe('outside Nashorn', () => {
  it('there is no host digest (Node has no Java.type)', () => {
    expect(hostDigest('MD5', { abc: md5Hex('abc') })).toBeNull();
  });
});
