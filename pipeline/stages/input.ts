/**
 * Stages: the size guard and JSON. The message text → its parsed JSON, or the failure (with the payload the bad row
 * keeps: the raw text, cut when huge).
 */
import { FailureMessage, FailureType, rawPayload } from '../badrow';
import { ResolvedConfig } from '../config';
import { preview } from '../es5';
import { parseJson } from '../json';

export type InputResult =
  | { value: unknown; type?: undefined; messages?: undefined; payload?: undefined }
  | { value?: undefined; type: FailureType; messages: FailureMessage[]; payload: unknown };

export function readMessage(input: string, config: ResolvedConfig): InputResult {
  if (typeof input !== 'string') {
    return { type: 'collector_payload_format_violation', messages: [{ field: '$', value: null, expectation: 'the message text (a JSON string)' }], payload: null };
  }
  if (input.length > config.maxPayloadChars) {
    return {
      type: 'size_violation',
      messages: [{ field: '$', value: input.length + ' characters', expectation: 'a message of at most ' + config.maxPayloadChars + ' characters' }],
      payload: rawPayload(input),
    };
  }
  const parsed = parseJson(input, config.maxJsonDepth);
  if (parsed.error !== undefined) {
    return {
      type: 'collector_payload_format_violation',
      messages: [{ field: '$', value: preview(input, 200), expectation: 'a JSON object (' + parsed.error + ')' }],
      payload: rawPayload(input),
    };
  }
  return { value: parsed.value };
}
