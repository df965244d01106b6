/**
 * Messages of the registry that reach bad rows (and so the events page). Engine-neutral (ES5): the UDF uses them.
 */

/** How to add a schema a deployment lacks: the two ways the registry gets schemas. */
export const MISSING_SCHEMA_HINT =
  'add it to a schema folder (SchemaRegistry schemaFolders, or npm start -- --schemas DIR) or list it in the resolver config ' +
  '("schemas" of the SchemaRegistry resolver or npm start -- --resolver FILE, fetched from your Iglu registries; npx waymark schemas pull)';

/** The failure message of data whose schema is not in the registry. */
export function missingSchemaMessage(schemaKey: string): string {
  return 'schema ' + schemaKey + ' is not in the registry: ' + MISSING_SCHEMA_HINT;
}
