/**
 * The two char-code UUID checks (stages/protocol.ts isUuid for `eid`, validation/runtime.ts fmtUuid for
 * `format: uuid`) agree with the regex they replaced, /^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$/, over
 * generated strings near the shape of a UUID (one character changed, moved dashes, other lengths).
 */
import { isUuid } from '../../pipeline/stages/protocol';
import { VALIDATOR_RUNTIME } from '../../pipeline/validation/runtime';

const REGEX = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
// The validators' runtime is JavaScript text: evaluated here as the generated validators see it.
const fmtUuid = new Function(VALIDATOR_RUNTIME + '\nreturn fmtUuid;')() as (s: string) => boolean;
// Characters either side of each range the check relies on, and some that `| 32` maps near a-f.
const CHARS = '0123456789abcdefABCDEF-/:@`GgFf\u00e4\u0141\u0066\u0046 ';

function* candidates(): Generator<string> {
  let seed = 12345;
  const next = (n: number): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const base = '6f1d2a4e-8c3b-4e5f-9a7d-0b1c2d3e4f5a';
  for (let k = 0; k < 20000; k++) {
    const chars = base.split('');
    const changes = 1 + next(3);
    for (let c = 0; c < changes; c++) chars[next(36)] = CHARS.charAt(next(CHARS.length));
    let s = chars.join('');
    if (k % 10 === 0) s = s.substring(0, next(40));
    if (k % 10 === 1) s += CHARS.charAt(next(CHARS.length));
    yield s;
  }
}

describe('UUID checks by char code', () => {
  it('agree with the regex on 20,000 near-UUIDs, valid and not', () => {
    let valid = 0;
    for (const s of candidates()) {
      const expected = REGEX.test(s);
      if (expected) valid++;
      expect({ s, isUuid: isUuid(s), fmtUuid: fmtUuid(s) }).toEqual({ s, isUuid: expected, fmtUuid: expected });
    }
    // Both outcomes are well represented.
    expect(valid).toBeGreaterThan(2000);
    expect(valid).toBeLessThan(18000);
  });
});
