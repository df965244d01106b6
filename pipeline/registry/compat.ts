/**
 * Compatibility of two versions of a schema within one MODEL. Waymark's warehouse has one column per
 * vendor/name/MODEL, built from the latest version in the MODEL, so every version of a MODEL must describe data the
 * latest one still accepts and stores: later versions may only ADD optional properties (or loosen constraints).
 * A removed property, a changed type, a new required property or a tightened constraint is a breaking change
 * that needs a new MODEL.
 *
 * Engine-neutral (ES5 built-ins only).
 */
import { isJsonArray, isJsonObject, jsonEqual, pointerTo } from './jsonschema';

type Obj = { [key: string]: unknown };

const hasOwn = Object.prototype.hasOwnProperty;

function has(o: Obj, key: string): boolean {
  return hasOwn.call(o, key);
}

/** The set of types a schema allows, `number` absorbing `integer`; null when unrestricted. */
function typeSet(schema: Obj): string[] | null {
  const t = schema.type;
  let list: string[];
  if (typeof t === 'string') list = [t];
  else if (isJsonArray(t)) list = t.filter((x): x is string => typeof x === 'string');
  else return null;
  const hasNumber = list.indexOf('number') >= 0;
  const out: string[] = [];
  for (let i = 0; i < list.length; i++) {
    if (hasNumber && list[i] === 'integer') continue;
    if (out.indexOf(list[i]) < 0) out.push(list[i]);
  }
  return out.sort();
}

function showTypes(types: string[] | null): string {
  if (types === null) return 'any type';
  return types.length === 1 ? JSON.stringify(types[0]) : JSON.stringify(types);
}

function stringList(value: unknown): string[] {
  return isJsonArray(value) ? value.filter((x): x is string => typeof x === 'string') : [];
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' ? value : fallback;
}

function compareTypes(older: Obj, newer: Obj, pointer: string, out: string[]): void {
  const o = typeSet(older);
  const n = typeSet(newer);
  if (n === null) return;
  const at = pointerTo(pointer, 'type');
  if (o === null) {
    out.push(at + ': type restricted from any type to ' + showTypes(n));
    return;
  }
  let changed = false;
  for (let i = 0; i < o.length; i++) if (n.indexOf(o[i]) < 0) changed = true;
  for (let i = 0; i < n.length; i++) if (o.indexOf(n[i]) < 0 && n[i] !== 'null') changed = true;
  if (changed) out.push(at + ': type changed from ' + showTypes(o) + ' to ' + showTypes(n));
}

/** Lower bounds (`minimum`, `minLength`, ...): a larger value in the newer version tightens. */
const LOWER_BOUNDS: readonly string[] = ['minLength', 'minItems', 'minProperties'];
const UPPER_BOUNDS: readonly string[] = ['maxLength', 'maxItems', 'maxProperties'];

function compareBounds(older: Obj, newer: Obj, pointer: string, out: string[]): void {
  for (let i = 0; i < LOWER_BOUNDS.length; i++) {
    const k = LOWER_BOUNDS[i];
    if (has(newer, k) && numberOr(newer[k], 0) > numberOr(older[k], 0)) {
      out.push(pointerTo(pointer, k) + ': ' + k + ' tightened from ' + (has(older, k) ? String(older[k]) : 'none') + ' to ' + String(newer[k]));
    }
  }
  for (let i = 0; i < UPPER_BOUNDS.length; i++) {
    const k = UPPER_BOUNDS[i];
    if (has(newer, k) && numberOr(newer[k], Infinity) < numberOr(older[k], Infinity)) {
      out.push(pointerTo(pointer, k) + ': ' + k + ' tightened from ' + (has(older, k) ? String(older[k]) : 'none') + ' to ' + String(newer[k]));
    }
  }
  compareNumericBound(older, newer, pointer, out, 'minimum', 'exclusiveMinimum', 1);
  compareNumericBound(older, newer, pointer, out, 'maximum', 'exclusiveMaximum', -1);
  if (has(newer, 'multipleOf')) {
    const n = newer.multipleOf as number;
    const o = older.multipleOf;
    let ok = false;
    if (typeof o === 'number') {
      const q = o / n;
      ok = Math.abs(q - Math.round(q)) < 1e-9;
    }
    if (!ok) out.push(pointerTo(pointer, 'multipleOf') + ': multipleOf tightened from ' + (typeof o === 'number' ? String(o) : 'none') + ' to ' + String(n));
  }
}

/** `direction` 1: a larger bound tightens (minimum); -1: a smaller bound tightens (maximum). */
function compareNumericBound(older: Obj, newer: Obj, pointer: string, out: string[], key: string, exclusiveKey: string, direction: number): void {
  if (!has(newer, key)) return;
  const n = newer[key] as number;
  const nExclusive = newer[exclusiveKey] === true;
  const show = (value: unknown, exclusive: boolean): string => (value === undefined ? 'none' : (exclusive ? 'exclusive ' : '') + String(value));
  let tightened: boolean;
  if (!has(older, key)) {
    tightened = true;
  } else {
    const o = older[key] as number;
    const oExclusive = older[exclusiveKey] === true;
    tightened = (n - o) * direction > 0 || (n === o && nExclusive && !oExclusive);
  }
  if (tightened) {
    out.push(pointerTo(pointer, key) + ': ' + key + ' tightened from ' + show(older[key], older[exclusiveKey] === true) + ' to ' + show(n, nExclusive));
  }
}

function compareExact(older: Obj, newer: Obj, pointer: string, out: string[], key: string, what: string): void {
  if (!has(newer, key)) return;
  if (!has(older, key)) out.push(pointerTo(pointer, key) + ': ' + what + ' added (' + key + ' ' + JSON.stringify(newer[key]) + ')');
  else if (!jsonEqual(older[key], newer[key])) out.push(pointerTo(pointer, key) + ': ' + what + ' changed from ' + JSON.stringify(older[key]) + ' to ' + JSON.stringify(newer[key]));
}

/** `additionalProperties` / `additionalItems`: absent or true accepts anything. */
function compareAdditional(older: Obj, newer: Obj, pointer: string, out: string[], key: string, depth: number): void {
  const o = has(older, key) ? older[key] : true;
  const n = has(newer, key) ? newer[key] : true;
  if (n === true) return;
  const at = pointerTo(pointer, key);
  if (n === false) {
    if (o !== false) out.push(at + ': ' + key + ' tightened to false');
    return;
  }
  if (o === false) return; // false → a schema loosens
  if (o === true) {
    out.push(at + ': ' + key + ' tightened from any value to a schema');
    return;
  }
  compareSchemas(o, n, at, out, depth + 1);
}

function compareProperties(older: Obj, newer: Obj, pointer: string, out: string[], depth: number): void {
  const oProps = isJsonObject(older.properties) ? older.properties : {};
  const nProps = isJsonObject(newer.properties) ? newer.properties : {};
  const names = Object.keys(oProps).sort();
  for (let i = 0; i < names.length; i++) {
    const at = pointerTo(pointerTo(pointer, 'properties'), names[i]);
    if (!has(nProps, names[i])) out.push(at + ': property ' + JSON.stringify(names[i]) + ' was removed');
    else compareSchemas(oProps[names[i]], nProps[names[i]], at, out, depth + 1);
  }
  const oRequired = stringList(older.required);
  const nRequired = stringList(newer.required);
  for (let i = 0; i < nRequired.length; i++) {
    if (oRequired.indexOf(nRequired[i]) < 0) {
      const isNew = !has(oProps, nRequired[i]);
      out.push(pointerTo(pointerTo(pointer, 'required'), i) + ': ' + (isNew ? 'new ' : '') + 'property ' + JSON.stringify(nRequired[i]) +
        ' became required' + (isNew ? ' (added properties must be optional)' : ''));
    }
  }
}

function compareItems(older: Obj, newer: Obj, pointer: string, out: string[], depth: number): void {
  if (!has(newer, 'items')) return;
  const at = pointerTo(pointer, 'items');
  const o = older.items;
  const n = newer.items;
  if (o === undefined) {
    out.push(at + ': items constraint added');
  } else if (isJsonArray(o) && isJsonArray(n) && o.length === n.length) {
    for (let i = 0; i < o.length; i++) compareSchemas(o[i], n[i], pointerTo(at, i), out, depth + 1);
  } else if (isJsonObject(o) && isJsonObject(n)) {
    compareSchemas(o, n, at, out, depth + 1);
  } else {
    out.push(at + ': items changed shape (a schema vs a list of schemas of another length)');
  }
}

function compareEnum(older: Obj, newer: Obj, pointer: string, out: string[]): void {
  if (!has(newer, 'enum')) return;
  const at = pointerTo(pointer, 'enum');
  const n = isJsonArray(newer.enum) ? newer.enum : [];
  if (!has(older, 'enum')) {
    out.push(at + ': enum added');
    return;
  }
  const o = isJsonArray(older.enum) ? older.enum : [];
  for (let i = 0; i < o.length; i++) {
    let found = false;
    for (let j = 0; j < n.length && !found; j++) found = jsonEqual(o[i], n[j]);
    if (!found) out.push(at + ': enum value ' + JSON.stringify(o[i]) + ' was removed');
  }
}

function compareSchemas(older: unknown, newer: unknown, pointer: string, out: string[], depth: number): void {
  if (!isJsonObject(older) || !isJsonObject(newer) || depth > 64) return;
  compareTypes(older, newer, pointer, out);
  compareProperties(older, newer, pointer, out, depth);
  compareAdditional(older, newer, pointer, out, 'additionalProperties', depth);
  compareItems(older, newer, pointer, out, depth);
  compareAdditional(older, newer, pointer, out, 'additionalItems', depth);
  compareEnum(older, newer, pointer, out);
  compareBounds(older, newer, pointer, out);
  compareExact(older, newer, pointer, out, 'pattern', 'pattern');
  compareExact(older, newer, pointer, out, 'format', 'format');
  if (newer.uniqueItems === true && older.uniqueItems !== true) out.push(pointerTo(pointer, 'uniqueItems') + ': uniqueItems added');
  const exact = ['patternProperties', 'dependencies', 'allOf', 'anyOf', 'oneOf', 'not'];
  for (let i = 0; i < exact.length; i++) compareExact(older, newer, pointer, out, exact[i], exact[i]);
}

/**
 * What makes `newer` not a compatible ADDITION to `older` (both versions of one MODEL, `older` < `newer`), one
 * string per problem, each starting with the JSON Pointer of the offending keyword or property in `newer`
 * (`#/properties/label: property "label" was removed`). Empty when `newer` only adds optional properties or loosens.
 */
export function additionProblems(older: unknown, newer: unknown): string[] {
  const out: string[] = [];
  compareSchemas(older, newer, '#', out, 0);
  return out;
}

