/**
 * Resource names derived from a construct's name prefix. Google Cloud names have length and charset rules;
 * when a derived name would be too long it is shortened and a short hash of the full name keeps it unique
 * and stable (the same input always gives the same name, so Terraform never sees a rename).
 */
import { createHash } from 'node:crypto';

/** Joins parts with '-' into an RFC 1035 name of at most `maxLength` characters. */
export function resourceName(parts: readonly string[], maxLength = 63): string {
  const full = parts
    .filter((p) => p.length > 0)
    .join('-')
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-+|-+$/g, '');
  const named = /^[a-z]/.test(full) ? full : `w-${full}`;
  if (named.length <= maxLength) return named;
  const hash = createHash('sha256').update(named).digest('hex').slice(0, 6);
  return `${named.slice(0, maxLength - 7).replace(/-+$/, '')}-${hash}`;
}

/** A BigQuery-safe id (letters, digits, underscores). */
export function bigQueryId(parts: readonly string[]): string {
  return parts
    .filter((p) => p.length > 0)
    .join('_')
    .replace(/[^A-Za-z0-9_]+/g, '_');
}
