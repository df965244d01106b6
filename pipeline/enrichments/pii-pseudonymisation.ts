/**
 * pii_pseudonymisation: replaces the configured atomic columns (`pii.fields`) and JSON properties of the event and
 * entities (`pii.jsonFields`) by their salted SHA-256 (`pii.salt`). Runs after ip_anonymisation. Nothing to do
 * without a salt.
 */
import { CriterionParts, ResolvedConfig } from '../config';
import { SchemaKey } from '../columns';
import { hasOwn, isArray, isObject } from '../es5';
import { sha256Hex } from '../sha256';
import { C, EventState } from '../stages/event';
import { Enrichment } from './enrichment';

function matches(c: CriterionParts, k: SchemaKey): boolean {
  return c.vendor === k.vendor && c.name === k.name && c.format === k.format && c.model === k.model &&
    (c.revision === null || c.revision === k.revision) && (c.addition === null || c.addition === k.addition);
}

export const piiPseudonymisation: Enrichment = {
  name: 'pii_pseudonymisation',
  setting: 'piiPseudonymisation',
  create: function (config: ResolvedConfig) {
    const salt = config.piiSalt;
    if (salt === '') return null;
    const fields = config.piiFields;
    const jsonFields = config.piiJsonFields;

    /** Replaces the strings at `path` (arrays along the way are traversed) by their salted SHA-256. */
    function hashPath(node: unknown, path: readonly string[], at: number): void {
      if (isArray(node)) {
        for (let i = 0; i < node.length; i++) hashPath(node[i], path, at);
        return;
      }
      if (!isObject(node) || !hasOwn(node, path[at])) return;
      if (at === path.length - 1) {
        const value = node[path[at]];
        if (typeof value === 'string') node[path[at]] = sha256Hex(salt + value);
        else if (isArray(value)) {
          for (let i = 0; i < value.length; i++) if (typeof value[i] === 'string') value[i] = sha256Hex(salt + (value[i] as string));
        }
        return;
      }
      hashPath(node[path[at]], path, at + 1);
    }

    return function (s: EventState): void {
      const r = s.vals;
      for (let i = 0; i < fields.length; i++) {
        const column = C[fields[i]];
        const value = r[column];
        if (typeof value === 'string') r[column] = sha256Hex(salt + value);
      }
      const unstruct = s.unstruct;
      const contexts = s.contexts;
      for (let i = 0; i < jsonFields.length; i++) {
        const jf = jsonFields[i];
        if (unstruct !== null && jf.in !== 'contexts' && matches(jf.criterion, unstruct.info.key)) hashPath(unstruct.data, jf.path, 0);
        if (jf.in !== 'unstruct_event') {
          for (let k = 0; k < contexts.length; k++) if (matches(jf.criterion, contexts[k].info.key)) hashPath(contexts[k].data, jf.path, 0);
        }
      }
    };
  },
};
