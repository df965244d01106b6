/**
 * The UDF bundle in Nashorn 15.4, called exactly as Google's Dataflow templates call it (scripts/nashorn.ts, the
 * engine and one JVM per test file; test/support/java/UdfHarness.java, the template's calling code). What a test gets
 * back is an {@link Outcome} like the other engines': the returned String, or for a throw the bad-row JSON recovered
 * from the dead-letter text (`e.getMessage()`) by the documented rule, after checking that text's whole format.
 */
import { NashornOutcome, NashornUdf } from '../../../scripts/nashorn';
import type { Outcome } from './engines';

export { NashornUdf } from '../../../scripts/nashorn';

/**
 * What Nashorn's ScriptException.getMessage() makes of `throw new Error(text)` in a script the template evaluated
 * without a file name: `Error: <text> in <eval> at line number N at column number M`.
 */
export const DEAD_LETTER_TEXT = /^Error: ([\s\S]*) in <eval> at line number \d+ at column number \d+$/;

/**
 * The documented recovery rule (docs/data-pipeline.md, "Dead letters"): the bad-row JSON is the text of
 * errorMessage from its first `{` to its last `}`.
 */
export function badRowText(errorMessage: string): string {
  return errorMessage.substring(errorMessage.indexOf('{'), errorMessage.lastIndexOf('}') + 1);
}

/**
 * A Nashorn outcome as an {@link Outcome}: a thrown dead-letter text must have the format above, its recovered text
 * must be exactly the Error's message, and it must come from a javax.script.ScriptException.
 */
export function nashornOutcome(n: NashornOutcome): Outcome {
  if ('returned' in n) return { returned: n.returned };
  const m = DEAD_LETTER_TEXT.exec(n.thrown);
  if (m === null || n.exception !== 'javax.script.ScriptException') {
    throw new Error(`unexpected dead-letter text from Nashorn (${n.exception}): ${n.thrown.slice(0, 300)}`);
  }
  const recovered = badRowText(n.thrown);
  if (recovered !== m[1]) throw new Error(`the recovery rule does not give the thrown message back: ${n.thrown.slice(0, 300)}`);
  return { thrown: recovered };
}

/** Both entries for every input, in the same engine, in order: streaming (`process`) then batch (`processBatch`). */
export async function runInNashorn(udf: NashornUdf, inputs: readonly string[]): Promise<Array<{ streaming: Outcome; batch: Outcome }>> {
  const streaming = await udf.callAll('process', inputs);
  const batch = await udf.callAll('processBatch', inputs);
  return inputs.map((_input, i) => ({ streaming: nashornOutcome(streaming[i]), batch: nashornOutcome(batch[i]) }));
}
