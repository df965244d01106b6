/**
 * The inspection API (like Snowplow Micro's), served by the collector as extra routes:
 *
 *   GET  /micro/all                     {"total", "good", "bad", "seq"} counts since start or the last reset
 *   GET  /micro/good?event_type=&schema=&contexts=&limit=   good rows, newest first (POST a JSON body works too)
 *   GET  /micro/bad?type=&limit=        bad rows with their failure messages, newest first
 *   GET  /micro/events?…                good and bad rows together, filtered and paged, with the decoded tracker
 *                                       payload (POST a JSON body shaped like Snowplow Micro's works too); ./query
 *   GET  /micro/timeline?interval=1&…   rows per interval (seconds), same filters
 *   GET  /micro/iglu/<vendor>/<name>/jsonschema/<version>   the registry's schema
 *   POST /micro/replay                  enriches kept bad rows again (after a schema was fixed); ./replay
 *   POST /micro/reset (or GET)          forgets every row
 *   GET  /micro/ui                      the events page
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from '../../pipeline/registry/registry';
import type { ExtraRoute } from '../routes';
import { EVENTS_PAGE } from './page';
import { parseEventQuery, parseTimelineQuery } from './query';
import { ReplayError, ReplayResult } from './replay';
import { FilterError, messageText, parseBadFilter, parseGoodFilter } from './rows';
import type { Entry, EventStore } from './store';

/** Where the rows come from: memory (in-process mode) or the JSONL files the Pub/Sub enricher writes. */
export interface RowSource {
  /** `in-process` or `pubsub`. */
  readonly mode: string;
  /** The store, brought up to date first (Pub/Sub mode reads the lines appended to the files since last time). */
  current(): Promise<EventStore>;
  /** Forgets every row (Pub/Sub mode empties the files too). */
  reset(): Promise<void>;
  /** Enriches kept bad rows again (all when `seqs` is omitted); absent where the mode cannot. */
  replay?(seqs?: readonly number[]): Promise<ReplayResult>;
}

/** The schema registry served under /micro/iglu/ (loaded again on every call where the folders may change). */
export type RegistryProvider = () => Registry;

const MAX_FILTER_BODY = 64 * 1024;

function send(res: ServerResponse, status: number, type: string, body: string, extra: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': String(Buffer.byteLength(body)),
    'Cache-Control': 'no-store',
    ...extra,
  });
  res.end(body);
}

const json = (res: ServerResponse, status: number, value: unknown): void => send(res, status, 'application/json; charset=utf-8', JSON.stringify(value, null, 2) + '\n');
const problem = (res: ServerResponse, status: number, message: string): void => json(res, status, { error: message });

function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > MAX_FILTER_BODY) {
        failed = true;
        reject(new FilterError(`the filter body is larger than ${MAX_FILTER_BODY} bytes`));
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('error', (e) => {
      if (!failed) reject(e);
      failed = true;
    });
    req.on('end', () => {
      if (failed) return;
      const text = Buffer.concat(chunks).toString('utf8').trim();
      if (text === '') return resolve({});
      try {
        const v = JSON.parse(text) as unknown;
        if (v === null || typeof v !== 'object' || Array.isArray(v)) return reject(new FilterError('the filter body must be a JSON object'));
        resolve(v as Record<string, unknown>);
      } catch (e) {
        reject(new FilterError(`the filter body is not JSON: ${(e as Error).message}`));
      }
    });
  });
}

async function filterInput(req: IncomingMessage, query: string): Promise<URLSearchParams | Record<string, unknown>> {
  return req.method === 'POST' ? readJsonBody(req) : new URLSearchParams(query);
}

const ENDPOINTS = ['/micro/all', '/micro/good', '/micro/bad', '/micro/events', '/micro/timeline', '/micro/iglu/<vendor>/<name>/jsonschema/<version>', '/micro/replay', '/micro/reset', '/micro/ui'];

/** A failure message with the parameter (field) and JSON path it concerns, and one readable line. */
function failureOf(m: unknown): { field: string | null; path: string | null; keyword: string | null; text: string; message: string } {
  const o = m !== null && typeof m === 'object' ? (m as Record<string, unknown>) : {};
  const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  // `message`: the line without the schema and field it concerns, for showing next to that field.
  const short = o === m ? messageText({ ...o, schemaKey: undefined, field: undefined }) : messageText(m);
  return { field: str(o.field), path: str(o.path), keyword: str(o.keyword), text: messageText(m), message: short };
}

/** One row of /micro/events: what the list shows, the row or bad row, and the tracker payload decoded. */
export function eventItem(e: Entry): Record<string, unknown> {
  const base = { seq: e.seq, received: e.received, ...e.fields };
  if (e.good !== null) {
    return { ...base, contexts: e.good.contexts, replayedFrom: e.replayedFrom, event: e.good.event, payload: e.payload() };
  }
  const b = e.bad!;
  const messages = b.badRow.data?.failure?.messages ?? [];
  return { ...base, processor: b.processor, errors: b.errors, failures: messages.map(failureOf), badRow: b.badRow, payload: e.payload() };
}

const IGLU_PATH = /^\/micro\/iglu\/([^/]+)\/([^/]+)\/(jsonschema)\/(\d+-\d+-\d+)$/;

export interface InspectionOptions {
  /** The registry behind /micro/iglu/ (absent: those paths answer 404 saying so). */
  readonly registry?: RegistryProvider;
}

/** The `/micro/*` routes over a row source. */
export function inspectionRoutes(source: RowSource, options: InspectionOptions = {}): ExtraRoute[] {
  const guarded = (fn: (req: IncomingMessage, res: ServerResponse, query: string, path: string) => Promise<void>) =>
    async (req: IncomingMessage, res: ServerResponse, ctx: { query: string; path: string }): Promise<void> => {
      try {
        await fn(req, res, ctx.query, ctx.path);
      } catch (e) {
        if (e instanceof FilterError) problem(res, 400, e.message);
        else if (e instanceof ReplayError) problem(res, e.status, e.message);
        else problem(res, 500, `inspection failed: ${(e as Error).message}`);
      }
    };
  return [
    {
      path: '/micro/all',
      methods: ['GET', 'HEAD'],
      handle: guarded(async (_req, res) => json(res, 200, { ...(await source.current()).counts(), mode: source.mode })),
    },
    {
      path: '/micro/good',
      methods: ['GET', 'HEAD', 'POST'],
      handle: guarded(async (req, res, query) => {
        const filter = parseGoodFilter(await filterInput(req, query));
        const rows = (await source.current()).queryGood(filter);
        json(res, 200, rows.map((s) => ({ seq: s.seq, received: s.received, ...s.item })));
      }),
    },
    {
      path: '/micro/bad',
      methods: ['GET', 'HEAD', 'POST'],
      handle: guarded(async (req, res, query) => {
        const filter = parseBadFilter(await filterInput(req, query));
        const rows = (await source.current()).queryBad(filter);
        json(res, 200, rows.map((s) => ({ seq: s.seq, received: s.received, ...s.item })));
      }),
    },
    {
      path: '/micro/events',
      methods: ['GET', 'HEAD', 'POST'],
      handle: guarded(async (req, res, query) => {
        const q = parseEventQuery(await filterInput(req, query));
        const store = await source.current();
        const page = store.queryEvents(q);
        json(res, 200, {
          page: page.page,
          pageSize: page.pageSize,
          totalItems: page.totalItems,
          totalPages: page.totalPages,
          order: q.order ?? 'newest',
          counts: store.counts(),
          retention: store.retention(),
          mode: source.mode,
          replay: source.replay !== undefined,
          facets: store.facets(),
          events: page.events.map(eventItem),
        });
      }),
    },
    {
      path: '/micro/timeline',
      methods: ['GET', 'HEAD', 'POST'],
      handle: guarded(async (req, res, query) => {
        const t = parseTimelineQuery(await filterInput(req, query));
        const store = await source.current();
        json(res, 200, { interval: t.interval, seq: store.counts().seq, buckets: store.timeline(t.filter, t.interval) });
      }),
    },
    {
      path: '/micro/replay',
      methods: ['POST'],
      handle: guarded(async (req, res) => {
        const body = await readJsonBody(req);
        for (const k of Object.keys(body)) if (k !== 'seqs') throw new FilterError(`unknown field ${JSON.stringify(k)}; /micro/replay takes {"seqs": [<seq of a bad row>, …]} or nothing (every kept bad row)`);
        let seqs: number[] | undefined;
        if (body.seqs !== undefined && body.seqs !== null) {
          if (!Array.isArray(body.seqs) || !body.seqs.every((x) => Number.isInteger(x) && (x as number) > 0)) throw new FilterError(`seqs must be a list of positive integers (the seq of bad rows), got ${JSON.stringify(body.seqs)}`);
          seqs = body.seqs as number[];
        }
        if (source.replay === undefined) throw new ReplayError(`replay is not available in ${source.mode} mode: it re-enriches in-process (npm start without --pubsub)`, 409);
        await source.current();
        json(res, 200, await source.replay(seqs));
      }),
    },
    {
      path: '/micro/reset',
      methods: ['GET', 'POST'],
      handle: guarded(async (_req, res) => {
        await source.reset();
        json(res, 200, { ...(await source.current()).counts(), mode: source.mode });
      }),
    },
    {
      path: '/micro/ui',
      methods: ['GET', 'HEAD'],
      handle: (_req, res) => send(res, 200, 'text/html; charset=utf-8', EVENTS_PAGE, { 'X-Content-Type-Options': 'nosniff' }),
    },
    {
      path: '/micro/iglu/',
      prefix: true,
      methods: ['GET', 'HEAD'],
      handle: guarded(async (_req, res, _query, path) => {
        const m = IGLU_PATH.exec(path);
        if (m === null) return problem(res, 404, `no such schema path ${path}: schemas are at /micro/iglu/<vendor>/<name>/jsonschema/<M-R-A>`);
        if (options.registry === undefined) return problem(res, 404, 'no schema registry is loaded in this local mode (WAYMARK_LOCAL_SCHEMAS names the schema folders)');
        let registry: Registry;
        try {
          registry = options.registry();
        } catch (e) {
          return problem(res, 500, `the schema registry does not load: ${(e as Error).message}`);
        }
        const key = `iglu:${m[1]}/${m[2]}/${m[3]}/${m[4]}`;
        const schema = registry.get(key);
        if (schema === undefined) return problem(res, 404, `schema ${key} is not in the registry`);
        json(res, 200, schema.schema);
      }),
    },
    {
      path: '/micro',
      prefix: true,
      handle: (_req, res, ctx) => {
        if (ctx.path === '/micro' || ctx.path === '/micro/') {
          res.writeHead(302, { Location: '/micro/ui', 'Content-Length': '0' });
          res.end();
          return;
        }
        problem(res, 404, `no such endpoint ${ctx.path}; the inspection API has ${ENDPOINTS.join(', ')}`);
      },
    },
  ];
}
