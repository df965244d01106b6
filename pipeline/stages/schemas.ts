/**
 * Stage: schemas. Parses the self-describing event (`ue_pr`/`ue_px`) and entities (`co`/`cx`), checks their
 * envelopes and validates their data against the registry; every violation of the event at once.
 */
import { FailureMessage } from '../badrow';
import { parseSchemaKey, selfDescribingColumnName } from '../columns';
import { ResolvedConfig } from '../config';
import { hasOwn, isArray, isObject, preview } from '../es5';
import { createTextCache } from '../cache';
import { parseJson } from '../json';
import { missingSchemaMessage } from '../registry/messages';
import { shapeKey } from '../warehouse';
import type { ValidationError, ValidatorSet } from '../validation/types';
import { EventState, SchemaInfo, SelfDescribing, StageFailure } from './event';

/** Names of the envelope schemas (vendor com.snowplowanalytics.snowplow). */
const UNSTRUCT_ENVELOPE = 'unstruct_event';
const CONTEXTS_ENVELOPE = 'contexts';
export const SNOWPLOW_VENDOR = 'com.snowplowanalytics.snowplow';

export interface SchemaStage {
  /** Checks the event's self-describing JSON into `s.unstruct` and `s.contexts`; returns the failure, or null. */
  check(s: EventState): StageFailure | null;
}

export function createSchemaStage(validators: ValidatorSet, config: ResolvedConfig): SchemaStage {
  const shapes = config.shapes;

  /**
   * Parsed schema keys with their columns, validator and shape, cached by key text: events repeat a few schemas, and
   * looking the key up once beats parsing it and looking up its validator and shape each time.
   */
  const schemaCache = createTextCache<SchemaInfo>(1000);
  function schemaInfo(schemaKey: string): SchemaInfo | null {
    const hit = schemaCache.get(schemaKey);
    if (hit !== undefined) return hit;
    const key = parseSchemaKey(schemaKey);
    if (key === null) return null;
    const id = shapeKey(key.vendor, key.name, key.model);
    const info: SchemaInfo = {
      key: key,
      eventColumn: selfDescribingColumnName('unstruct_event', key.vendor, key.name, key.version),
      contextsColumn: selfDescribingColumnName('contexts', key.vendor, key.name, key.version),
      validator: hasOwn(validators, schemaKey) ? validators[schemaKey] : null,
      shape: shapes !== null && hasOwn(shapes, id) ? shapes[id] : undefined,
    };
    schemaCache.set(schemaKey, info);
    return info;
  }

  function schemaMessage(field: string, schemaKey: string | undefined, path: string, keyword: string, message: string, index?: number): FailureMessage {
    const m: { [k: string]: unknown } = { field: field };
    if (index !== undefined) m.index = index;
    if (schemaKey !== undefined) m.schemaKey = schemaKey;
    m.path = path;
    m.keyword = keyword;
    m.message = message;
    return m as FailureMessage;
  }

  /** Validates a self-describing value's data against its schema; appends violations; false when it failed. */
  function validate(field: string, sd: SelfDescribing, pathPrefix: string, sv: FailureMessage[], index?: number): boolean {
    const schemaKey = sd.schemaKey;
    const validator = sd.info.validator;
    if (validator === null) {
      sv.push(schemaMessage(field, schemaKey, pathPrefix === '' ? '$' : pathPrefix, 'resolution', missingSchemaMessage(schemaKey), index));
      return false;
    }
    const errors: ValidationError[] = validator(sd.data);
    for (let i = 0; i < errors.length && i < 20; i++) {
      const err = errors[i];
      sv.push(schemaMessage(field, schemaKey, err.path, err.keyword, err.message, index));
    }
    return errors.length === 0;
  }

  /** Checks a `{schema, data}` pair; returns it with its parsed key, or null after recording why not. */
  function selfDescribing(value: unknown, field: string, path: string, sv: FailureMessage[], index?: number): SelfDescribing | null {
    if (!isObject(value) || typeof value.schema !== 'string' || !hasOwn(value, 'data')) {
      sv.push(schemaMessage(field, undefined, path, 'iglu', 'expected a self-describing JSON object {"schema": "iglu:...", "data": ...}', index));
      return null;
    }
    const known = schemaInfo(value.schema);
    if (known === null) {
      sv.push(schemaMessage(field, preview(value.schema, 200), path + '.schema', 'iglu', 'not an Iglu schema key (iglu:<vendor>/<name>/jsonschema/<M-R-A>)', index));
      return null;
    }
    return { info: known, schemaKey: value.schema, data: value.data };
  }

  function parseSelfDescribingJson(text: string, field: string, sv: FailureMessage[]): unknown {
    const parsed = parseJson(text, config.maxJsonDepth);
    if (parsed.error !== undefined) {
      sv.push(schemaMessage(field, undefined, '$', 'json', parsed.error + ': ' + preview(text, 200)));
      return undefined;
    }
    return parsed.value;
  }

  function checkEnvelope(json: unknown, field: string, expected: string, sv: FailureMessage[]): SelfDescribing | null {
    const envelope = selfDescribing(json, field, '$', sv);
    if (envelope === null) return null;
    const key = envelope.info.key;
    if (key.vendor !== SNOWPLOW_VENDOR || key.name !== expected || key.model !== 1) {
      sv.push(schemaMessage(field, envelope.schemaKey, '$.schema', 'iglu', 'expected the envelope iglu:' + SNOWPLOW_VENDOR + '/' + expected + '/jsonschema/1-0-0'));
      return null;
    }
    return validate(field, envelope, '$.data', sv) ? envelope : null;
  }

  function checkUnstruct(text: string, field: string, sv: FailureMessage[]): SelfDescribing | null {
    const json = parseSelfDescribingJson(text, field, sv);
    if (json === undefined) return null;
    const envelope = checkEnvelope(json, field, UNSTRUCT_ENVELOPE, sv);
    if (envelope === null) return null;
    const inner = selfDescribing(envelope.data, field, '$.data', sv);
    if (inner === null) return null;
    return validate(field, inner, '$', sv) ? inner : null;
  }

  function checkContexts(text: string, field: string, sv: FailureMessage[]): SelfDescribing[] {
    const out: SelfDescribing[] = [];
    const json = parseSelfDescribingJson(text, field, sv);
    if (json === undefined) return out;
    const envelope = checkEnvelope(json, field, CONTEXTS_ENVELOPE, sv);
    if (envelope === null) return out;
    const list = envelope.data;
    if (!isArray(list)) {
      sv.push(schemaMessage(field, envelope.schemaKey, '$.data', 'type', 'expected an array of entities'));
      return out;
    }
    if (list.length > config.maxContexts) {
      sv.push(schemaMessage(field, envelope.schemaKey, '$.data', 'maxItems', 'at most ' + config.maxContexts + ' entities are accepted, got ' + list.length));
      return out;
    }
    for (let i = 0; i < list.length; i++) {
      const item = selfDescribing(list[i], field, '$.data[' + i + ']', sv, i);
      if (item === null) continue;
      if (validate(field, item, '$', sv, i)) out.push(item);
    }
    return out;
  }

  return {
    check: function (s: EventState): StageFailure | null {
      const sv: FailureMessage[] = [];
      if (s.ueText !== null) s.unstruct = checkUnstruct(s.ueText.text, s.ueText.field, sv);
      if (s.coText !== null) s.contexts = checkContexts(s.coText.text, s.coText.field, sv);
      if (sv.length > 0) return { type: 'schema_violations', messages: sv };
      return null;
    },
  };
}
