/**
 * event_fingerprint: a hash of the event's parameters sorted by name, volatile ones excluded
 * (`fingerprintExcludeParams`), so that retried sends fingerprint alike. The text and the default hash are Snowplow
 * Enrich's (modules/common/.../enrichments/registry/EventFingerprintEnrichment.scala, getEventFingerprint): each
 * name then its value, each followed by U+001F, as UTF-8; MD5 by default, or SHA-256 (`fingerprint.algorithm`).
 */
import { ResolvedConfig } from '../config';
import { hasOwn } from '../es5';
import { hostDigest } from '../host-digest';
import { md5Begin, md5End, md5Hex, md5UpdateList } from '../md5';
import { sha256Hex } from '../sha256';
import { C, EventState } from '../stages/event';
import { Enrichment } from './enrichment';

/**
 * The parameters to fingerprint (exclusions left out) in order of their names: indexes into `names`. Trackers send
 * their parameters in a fixed order per event type, so the last few name lists are remembered with these: comparing
 * a list with a remembered one is much cheaper than sorting it again.
 */
interface SortedNames {
  readonly names: readonly string[];
  readonly order: number[];
}

/** Texts to check a host digest with: ASCII, a pair, lone surrogates (high at the end, low, high before a letter). */
const CHECK_TEXTS = ['abc', 'caf\u00e9 \ud83d\ude00', 'a\ud800', '\udc00b\ud800c'];
function checks(hash: (s: string) => string): { [text: string]: string } {
  const out: { [text: string]: string } = {};
  for (let i = 0; i < CHECK_TEXTS.length; i++) out[CHECK_TEXTS[i]] = hash(CHECK_TEXTS[i]);
  return out;
}

export const eventFingerprint: Enrichment = {
  name: 'event_fingerprint',
  setting: 'eventFingerprint',
  create: function (config: ResolvedConfig) {
    const exclude = config.fingerprintExclude;
    const md5 = config.fingerprintAlgorithm === 'md5';
    // In Nashorn, the JVM's digest (host-digest.ts): same hash, a fraction of the cost there.
    const host = md5 ? hostDigest('MD5', checks(md5Hex)) : hostDigest('SHA-256', checks(sha256Hex));
    const sortMemo: SortedNames[] = [];
    let sortMemoNext = 0;

    function sortedNames(names: readonly string[]): SortedNames {
      const n = names.length;
      for (let m = 0; m < sortMemo.length; m++) {
        const memo = sortMemo[m].names;
        if (memo.length !== n) continue;
        let i = 0;
        while (i < n && memo[i] === names[i]) i++;
        if (i === n) return sortMemo[m];
      }
      // Insertion sort (a tracker sends 20–40 parameters): cheaper than Array#sort's generic comparisons.
      const order: number[] = [];
      for (let i = 0; i < n; i++) {
        const k = names[i];
        if (hasOwn(exclude, k)) continue;
        let j = order.length;
        order.push(i);
        while (j > 0 && names[order[j - 1]] > k) {
          order[j] = order[j - 1];
          j--;
        }
        order[j] = i;
      }
      const sorted: SortedNames = { names: names.slice(), order: order };
      if (n <= 64) {
        sortMemo[sortMemoNext] = sorted;
        sortMemoNext = (sortMemoNext + 1) % 16;
      }
      return sorted;
    }

    function fingerprint(names: readonly string[], values: readonly string[]): string {
      const order = sortedNames(names).order;
      if (host !== null) {
        let text = '';
        for (let i = 0; i < order.length; i++) text += names[order[i]] + '\u001f' + values[order[i]] + '\u001f';
        return host(text);
      }
      if (md5) {
        md5Begin();
        md5UpdateList(names, order, 0x1f, values);
        return md5End();
      }
      let text = '';
      for (let i = 0; i < order.length; i++) text += names[order[i]] + '\u001f' + values[order[i]] + '\u001f';
      return sha256Hex(text);
    }

    return function (s: EventState): void {
      s.vals[C.event_fingerprint] = fingerprint(s.names, s.values);
    };
  },
};
