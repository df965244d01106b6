/**
 * event_fingerprint: a hash of the event's parameters sorted by name, volatile ones excluded
 * (`fingerprintExcludeParams`), so that retried sends fingerprint alike: the UTF-8 text of the names, each followed
 * by U+0001, then U+0000, then the values in the same order, each followed by U+0002; MD5 by default, or SHA-256
 * (`fingerprint.algorithm`).
 */
import { ResolvedConfig } from '../config';
import { hasOwn } from '../es5';
import { md5Begin, md5End, md5Restore, md5Save, Md5State, md5UpdateList, md5UpdateSep } from '../md5';
import { sha256Hex } from '../sha256';
import { C, EventState } from '../stages/event';
import { Enrichment } from './enrichment';

/**
 * The parameters to fingerprint (exclusions left out) in order of their names: indexes into `names`, and, once
 * worked out, the MD5 state after the names part of the text. Trackers send their parameters in a fixed order per
 * event type, so the last few name lists are remembered with these: comparing a list with a remembered one is much
 * cheaper than sorting it and hashing the names again.
 */
interface SortedNames {
  readonly names: readonly string[];
  readonly order: number[];
  prefix: Md5State | null;
}

export const eventFingerprint: Enrichment = {
  name: 'event_fingerprint',
  setting: 'eventFingerprint',
  create: function (config: ResolvedConfig) {
    const exclude = config.fingerprintExclude;
    const md5 = config.fingerprintAlgorithm === 'md5';
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
      const sorted: SortedNames = { names: names.slice(), order: order, prefix: null };
      if (n <= 64) {
        sortMemo[sortMemoNext] = sorted;
        sortMemoNext = (sortMemoNext + 1) % 16;
      }
      return sorted;
    }

    function fingerprint(names: readonly string[], values: readonly string[]): string {
      const sorted = sortedNames(names);
      const order = sorted.order;
      if (md5) {
        // The names part is the same for every event with these names: hashed once, continued from its state.
        if (sorted.prefix === null) {
          md5Begin();
          md5UpdateList(names, order, 1);
          md5UpdateSep('', 0);
          sorted.prefix = md5Save();
        }
        md5Restore(sorted.prefix);
        md5UpdateList(values, order, 2);
        return md5End();
      }
      let text = '';
      for (let i = 0; i < order.length; i++) text += names[order[i]] + '\u0001';
      text += '\u0000';
      for (let i = 0; i < order.length; i++) text += values[order[i]] + '\u0002';
      return sha256Hex(text);
    }

    return function (s: EventState): void {
      s.vals[C.event_fingerprint] = fingerprint(s.names, s.values);
    };
  },
};
