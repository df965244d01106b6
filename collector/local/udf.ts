/**
 * Runs the SHIPPED enrichment UDF bundle (`enrich.js`, the file Dataflow loads) in a Node `vm` context and calls
 * its streaming entry `process(json)` exactly as the template does: a returned string is the BigQuery row, a
 * thrown Error carries the bad-row JSON in its message. Anything else (a hang, a non-JSON error) becomes a
 * local bad row, so one event can never stop the pipeline.
 */
import { readFileSync } from 'node:fs';
import * as vm from 'node:vm';
import { COLLECTOR_VERSION } from '../version';

export const BAD_ROW_SCHEMA = 'iglu:io.waymark/bad_row/jsonschema/1-0-0';

export type Row = Record<string, unknown>;
export interface BadRowJson {
  readonly schema: string;
  readonly data: {
    readonly type: string;
    readonly processor?: { readonly artifact: string; readonly version: string };
    readonly failure?: { readonly timestamp: string; readonly messages: readonly unknown[] };
    readonly payload?: unknown;
  };
}

export type EnrichOutcome = { readonly good: Row } | { readonly bad: BadRowJson };

export interface Udf {
  /** The file the UDF was loaded from. */
  readonly path: string;
  /** Enriches one message (the Pub/Sub message data: a CollectorPayload JSON). Never throws. */
  enrich(message: string): EnrichOutcome;
}

export class UdfLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UdfLoadError';
  }
}

/** A bad row made here, for failures outside the UDF's own error handling. */
export function localBadRow(message: string, payload: string, now: Date = new Date()): BadRowJson {
  return {
    schema: BAD_ROW_SCHEMA,
    data: {
      type: 'generic_error',
      processor: { artifact: 'waymark-local', version: COLLECTOR_VERSION },
      failure: { timestamp: now.toISOString(), messages: [{ message }] },
      payload: payload.length > 100000 ? payload.slice(0, 100000) : payload,
    },
  };
}

function isBadRow(v: unknown): v is BadRowJson {
  if (v === null || typeof v !== 'object') return false;
  const o = v as { schema?: unknown; data?: { type?: unknown } };
  return typeof o.schema === 'string' && o.schema.startsWith('iglu:io.waymark/bad_row/') && typeof o.data === 'object' && o.data !== null && typeof o.data.type === 'string';
}

/** Turns what the UDF returned or threw into an outcome. Exported for tests. */
export function interpret(result: { returned: unknown } | { thrown: unknown }, message: string): EnrichOutcome {
  if ('returned' in result) {
    const r = result.returned;
    if (typeof r !== 'string') return { bad: localBadRow(`the UDF returned ${r === null ? 'null' : typeof r} instead of a JSON string`, message) };
    try {
      const row = JSON.parse(r) as unknown;
      if (row === null || typeof row !== 'object' || Array.isArray(row)) return { bad: localBadRow('the UDF returned JSON that is not an object', message) };
      return { good: row as Row };
    } catch (e) {
      return { bad: localBadRow(`the UDF returned invalid JSON: ${(e as Error).message}`, message) };
    }
  }
  // Errors come from another realm (the vm context): no instanceof, read the message as data.
  const err = result.thrown as { message?: unknown; name?: unknown } | null;
  const text = err !== null && typeof err === 'object' && typeof err.message === 'string' ? err.message : String(result.thrown);
  try {
    const parsed = JSON.parse(text) as unknown;
    if (isBadRow(parsed)) return { bad: parsed };
  } catch {
    // not a bad row: fall through
  }
  const name = err !== null && typeof err === 'object' && typeof err.name === 'string' ? `${err.name}: ` : '';
  return { bad: localBadRow(`the UDF failed: ${name}${text.slice(0, 500)}`, message) };
}

/**
 * Loads a UDF bundle. The context gets no Node globals (no `require`, `process`, `console`), like the
 * template's engine; the script must define a global function `process`.
 */
export function loadUdf(path: string, functionName = 'process'): Udf {
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UdfLoadError(
      code === 'ENOENT'
        ? `the enrichment UDF bundle ${path} does not exist: run \`npm run build\` (or \`npm start\`, which builds it), or point --udf / WAYMARK_LOCAL_UDF at it`
        : `cannot read the enrichment UDF bundle ${path}: ${(e as Error).message}`,
    );
  }
  const context = vm.createContext({});
  try {
    new vm.Script(source, { filename: path }).runInContext(context, { timeout: 30000 });
  } catch (e) {
    throw new UdfLoadError(`the enrichment UDF bundle ${path} does not run: ${(e as Error).message}`);
  }
  if (typeof (context as Record<string, unknown>)[functionName] !== 'function') {
    throw new UdfLoadError(`the enrichment UDF bundle ${path} defines no global function ${functionName}(): is it an enrich.js built by \`npm run build\`?`);
  }
  // Called directly, like the template's engine does: no per-call watchdog (it would cost three quarters of the
  // throughput); the UDF's own guards bound every call (depth, sizes), and the bundle's fuzz tests hold it to that.
  const fn = (context as Record<string, unknown>)[functionName] as (input: string) => unknown;
  return {
    path,
    enrich(message: string): EnrichOutcome {
      let result: { returned: unknown } | { thrown: unknown };
      try {
        result = { returned: fn(message) };
      } catch (e) {
        result = { thrown: e };
      }
      return interpret(result, message);
    },
  };
}
