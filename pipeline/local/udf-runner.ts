/**
 * Runs a shipped enrichment UDF bundle (`enrich.js`, the file Dataflow loads) in a Node `vm` context without Node's
 * globals, and calls its streaming entry `process(message)` as the template does: a returned string is the row's JSON,
 * a thrown Error carries the bad row's JSON in its message. Anything else (not a bad row, not a string) becomes a
 * `generic_error` bad row here, so one event never stops a file.
 */
import { readFileSync } from 'node:fs';
import * as vm from 'node:vm';
import { BAD_ROW_SCHEMA, badRow, rawPayload } from '../badrow';
import { formatTimestamp } from '../time';
import { EnrichText } from './runner';

/** Loads a UDF bundle file; throws an Error saying what is wrong with it (missing, not runnable, no `process`). */
export function loadUdfFile(file: string): EnrichText {
  let code: string;
  try {
    code = readFileSync(file, 'utf8');
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Error(missing
      ? 'the enrichment UDF bundle ' + file + ' does not exist: build it with `npm run build` (build/enrich.js) or pass --udf FILE'
      : 'cannot read the enrichment UDF bundle ' + file + ': ' + (e as Error).message);
  }
  return udfText(code, file);
}

/** An {@link EnrichText} over the UDF's source code. */
export function udfText(code: string, file: string): EnrichText {
  const context = vm.createContext({});
  try {
    new vm.Script(code, { filename: file }).runInContext(context, { timeout: 60000 });
  } catch (e) {
    throw new Error('the enrichment UDF bundle ' + file + ' does not run: ' + messageOf(e));
  }
  const process = (context as Record<string, unknown>).process;
  if (typeof process !== 'function') throw new Error('the enrichment UDF bundle ' + file + ' defines no global function process(): is it an enrich.js built by `npm run build`?');
  const entry = process as (message: string) => unknown;
  return function (message) {
    let returned: unknown;
    try {
      returned = entry(message);
    } catch (e) {
      const text = messageOf(e);
      if (isBadRowJson(text)) return { bad: text };
      return { bad: localBadRow('the UDF failed: ' + text.substring(0, 500), message) };
    }
    if (typeof returned === 'string') return { good: returned };
    return { bad: localBadRow('the UDF returned ' + (returned === null ? 'null' : typeof returned) + ' instead of a JSON string', message) };
  };
}

// Errors come from the vm's realm: no instanceof, the message is read as data.
function messageOf(e: unknown): string {
  const message = e !== null && typeof e === 'object' ? (e as { message?: unknown }).message : undefined;
  return typeof message === 'string' ? message : String(e);
}

function isBadRowJson(text: string): boolean {
  if (text.indexOf(BAD_ROW_SCHEMA) < 0) return false;
  try {
    const v = JSON.parse(text) as { schema?: unknown; data?: { type?: unknown } } | null;
    return v !== null && typeof v === 'object' && v.schema === BAD_ROW_SCHEMA && typeof v.data === 'object' && v.data !== null && typeof v.data.type === 'string';
  } catch {
    return false;
  }
}

function localBadRow(problem: string, message: string): string {
  return JSON.stringify(badRow('generic_error', [{ message: problem }], formatTimestamp(Date.now()) || '', rawPayload(message)));
}
