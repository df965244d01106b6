/**
 * Construct-time validation of props. Every error names the construct and the prop, says what was wrong
 * and what is allowed, so a user fixes it before `cdktf deploy` rather than after a failed apply.
 * Values that are unresolved tokens (known only at apply time) are not checked.
 */
import { Token } from 'cdktf';
import { closestRegion, REGION_ZONES } from './regions';

export class PropError extends Error {
  constructor(construct: string, prop: string, message: string) {
    super(`${construct}: prop '${prop}' ${message}`);
    this.name = 'PropError';
  }
}

const REGION = /^[a-z]+-[a-z]+[0-9]+$/;
const ZONE = /^[a-z]+-[a-z]+[0-9]+-[a-z]$/;
const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;

function unresolved(value: unknown): boolean {
  return typeof value === 'string' && Token.isUnresolved(value);
}

/**
 * A region of Waymark's region table (lib/private/regions.ts), or one listed in `newRegions` (the construct's escape
 * hatch for regions newer than the table).
 */
export function checkRegion(construct: string, prop: string, value: string, newRegions: readonly string[] = []): void {
  if (unresolved(value)) return;
  if (typeof value !== 'string' || !REGION.test(value)) throw new PropError(construct, prop, `must be a Google Cloud region such as 'us-central1' or 'europe-west1', got ${typeof value === 'string' ? `'${value}'` : JSON.stringify(value)}`);
  if (REGION_ZONES[value] !== undefined || newRegions.includes(value)) return;
  const near = closestRegion(value);
  throw new PropError(construct, prop, `names '${value}', which is not a Google Cloud region${near ? ` (did you mean '${near}'?)` : ''}; if it is a region newer than Waymark's table, list it in 'newRegions'`);
}

/** A list of regions (see {@link checkRegion}); a single string instead of a list is an error naming the prop. */
export function checkRegions(construct: string, prop: string, values: readonly string[], newRegions: readonly string[] = []): void {
  if (!Array.isArray(values)) throw new PropError(construct, prop, `must be a list of regions such as ['us-central1'], got ${JSON.stringify(values)}`);
  if (values.length === 0) throw new PropError(construct, prop, 'must name at least one region');
  const seen = new Set<string>();
  for (const v of values) {
    checkRegion(construct, prop, v, newRegions);
    if (seen.has(v)) throw new PropError(construct, prop, `names region '${v}' twice`);
    seen.add(v);
  }
}

export function checkZone(construct: string, prop: string, value: string): void {
  if (unresolved(value)) return;
  if (!ZONE.test(value)) throw new PropError(construct, prop, `must be a Google Cloud zone such as 'us-central1-a', got '${value}'`);
}

export function checkDomain(construct: string, prop: string, value: string): void {
  if (unresolved(value)) return;
  if (!DOMAIN.test(value)) throw new PropError(construct, prop, `must be a lower-case DNS name such as 'c.example.com' (no scheme, port or path), got '${value}'`);
}

export function checkDomains(construct: string, prop: string, values: readonly string[], options: { allowEmpty?: boolean } = {}): void {
  // A single string would be iterated character by character ("got 'c'"): say what was meant instead.
  if (!Array.isArray(values)) throw new PropError(construct, prop, `must be a list of domains such as ['c.example.com'], got ${JSON.stringify(values)}`);
  if (values.length === 0 && !options.allowEmpty) throw new PropError(construct, prop, 'must name at least one domain');
  for (const v of values) checkDomain(construct, prop, v);
}

export function checkProjectId(construct: string, prop: string, value: string): void {
  if (unresolved(value)) return;
  if (!PROJECT_ID.test(value)) throw new PropError(construct, prop, `must be a project id: 6-30 characters, lower-case letters, digits and hyphens, starting with a letter; got '${value}'`);
}

export function checkInteger(construct: string, prop: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `between ${min} and ${max}`;
    throw new PropError(construct, prop, `must be an integer ${range}, got ${value}`);
  }
}

export function checkNumber(construct: string, prop: string, value: number, min: number, max: number): void {
  if (typeof value !== 'number' || Number.isNaN(value) || value < min || value > max) {
    throw new PropError(construct, prop, `must be a number between ${min} and ${max}, got ${value}`);
  }
}

/** min ≤ max for a pair of replica/instance bounds. */
export function checkBounds(construct: string, minProp: string, min: number, maxProp: string, max: number, floor = 0): void {
  checkInteger(construct, minProp, min, floor);
  checkInteger(construct, maxProp, max, Math.max(1, floor));
  if (min > max) throw new PropError(construct, minProp, `(${min}) must not exceed '${maxProp}' (${max})`);
}

export interface NameRule {
  /** Human description of the rule, shown in the error. */
  readonly description: string;
  readonly pattern: RegExp;
  readonly maxLength: number;
}

/** Compute Engine, Pub/Sub and most resource names: RFC 1035 labels. */
export const RFC1035: NameRule = {
  description: '1-63 characters: lower-case letters, digits and hyphens, starting with a letter and not ending with a hyphen',
  pattern: /^[a-z](?:[-a-z0-9]*[a-z0-9])?$/,
  maxLength: 63,
};

/** BigQuery dataset and table ids. */
export const BIGQUERY_ID: NameRule = {
  description: '1-1024 characters: letters, digits and underscores',
  pattern: /^[A-Za-z0-9_]+$/,
  maxLength: 1024,
};

/** Cloud Storage bucket names (without dots). */
export const BUCKET_NAME: NameRule = {
  description: '3-63 characters: lower-case letters, digits, hyphens and underscores, starting and ending with a letter or digit',
  pattern: /^[a-z0-9][-_a-z0-9]{1,61}[a-z0-9]$/,
  maxLength: 63,
};

/** Service account ids (the part before @). */
export const SERVICE_ACCOUNT_ID: NameRule = {
  description: '6-30 characters: lower-case letters, digits and hyphens, starting with a letter',
  pattern: /^[a-z](?:[-a-z0-9]{4,28}[a-z0-9])$/,
  maxLength: 30,
};

export function checkName(construct: string, prop: string, value: string, rule: NameRule): void {
  if (unresolved(value)) return;
  if (value.length > rule.maxLength || !rule.pattern.test(value)) {
    throw new PropError(construct, prop, `must be ${rule.description}; got '${value}'`);
  }
}

/** Labels: keys and values of lower-case letters, digits, '_' and '-', at most 63 characters; keys start with a letter. */
export function checkLabels(construct: string, prop: string, labels: Readonly<Record<string, string>>): void {
  const keys = Object.keys(labels);
  if (keys.length > 64) throw new PropError(construct, prop, `has ${keys.length} labels; at most 64 are allowed`);
  for (const key of keys) {
    if (!/^[a-z][-_a-z0-9]{0,62}$/.test(key)) throw new PropError(construct, prop, `has label key '${key}': keys are 1-63 lower-case letters, digits, '_' or '-', starting with a letter`);
    const value = labels[key];
    if (!unresolved(value) && !/^[-_a-z0-9]{0,63}$/.test(value)) throw new PropError(construct, prop, `has label '${key}' with value '${value}': values are 0-63 lower-case letters, digits, '_' or '-'`);
  }
}
