/**
 * The inspection API (like Snowplow Micro's), served by the collector as extra routes:
 *
 *   GET  /micro/all                     {"total", "good", "bad", "seq"} counts since start or the last reset
 *   GET  /micro/good?event_type=&schema=&contexts=&limit=   good rows, newest first (POST a JSON body works too)
 *   GET  /micro/bad?type=&limit=        bad rows with their failure messages, newest first
 *   POST /micro/reset (or GET)          forgets every row
 *   GET  /micro/ui                      the events page
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExtraRoute } from '../routes';
import { EVENTS_PAGE } from './page';
import { FilterError, parseBadFilter, parseGoodFilter } from './rows';
import type { EventStore } from './store';

/** Where the rows come from: memory (in-process mode) or the JSONL files the Pub/Sub enricher writes. */
export interface RowSource {
  /** `in-process` or `pubsub`. */
  readonly mode: string;
  /** The store, brought up to date first (Pub/Sub mode reads the lines appended to the files since last time). */
  current(): Promise<EventStore>;
  /** Forgets every row (Pub/Sub mode empties the files too). */
  reset(): Promise<void>;
}

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

const ENDPOINTS = ['/micro/all', '/micro/good', '/micro/bad', '/micro/reset', '/micro/ui'];

/** The `/micro/*` routes over a row source. */
export function inspectionRoutes(source: RowSource): ExtraRoute[] {
  const guarded = (fn: (req: IncomingMessage, res: ServerResponse, query: string) => Promise<void>) =>
    async (req: IncomingMessage, res: ServerResponse, ctx: { query: string }): Promise<void> => {
      try {
        await fn(req, res, ctx.query);
      } catch (e) {
        if (e instanceof FilterError) problem(res, 400, e.message);
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
