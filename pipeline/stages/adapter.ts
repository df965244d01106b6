/**
 * Stage: the adapter. The parsed message in its input format (adapters.ts) → the raw event, or the failure; a
 * collector bad row passes through as that bad row when it is valid against its schema.
 */
import { adapt, RawEvent } from '../adapters';
import { BadRow, FailureMessage, FailureType } from '../badrow';
import { hasOwn, preview } from '../es5';
import { stringifyJson } from '../json';
import { missingSchemaMessage } from '../registry/messages';
import type { ValidatorSet } from '../validation/types';
import { errorText } from './event';

export type AdapterResult =
  | { event: RawEvent; badRow?: undefined; type?: undefined; messages?: undefined }
  | { event?: undefined; badRow: BadRow; type?: undefined; messages?: undefined }
  | { event?: undefined; badRow?: undefined; type: FailureType; messages: FailureMessage[] };

export function adaptMessage(json: unknown, validators: ValidatorSet): AdapterResult {
  let adapted;
  try {
    adapted = adapt(json);
  } catch (e) {
    return { type: 'generic_error', messages: [{ message: errorText(e) }] };
  }
  if (adapted.passThrough !== undefined) {
    // A bad row from the collector stays that bad row, if it is one (valid against its schema).
    const passed = adapted.passThrough as BadRow;
    const check = hasOwn(validators, passed.schema) ? validators[passed.schema](passed.data) : [{ path: '$', keyword: 'resolution', message: missingSchemaMessage(passed.schema) }];
    if (check.length === 0) return { badRow: passed };
    return {
      type: 'collector_payload_format_violation',
      messages: [{
        field: '$',
        value: preview(stringifyJson(json), 200),
        expectation: 'a valid ' + passed.schema + ' bad row (' + check[0].path + ': ' + check[0].message + ')',
      }],
    };
  }
  if (adapted.failure !== undefined) return { type: adapted.failure.type, messages: adapted.failure.messages };
  return { event: adapted.event as RawEvent };
}
