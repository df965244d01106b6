/**
 * A static Iglu registry for resolver tests: a child Node process serving a folder over HTTP on 127.0.0.1 in Iglu
 * layout (`/schemas/<vendor>/<name>/jsonschema/<M-R-A>`), logging every request. It runs in its own process because
 * the resolver fetches synchronously (synth is synchronous), which blocks this process's event loop.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const SERVER = `
const http = require('http'), fs = require('fs'), path = require('path');
const [root, log] = process.argv.slice(1);
const server = http.createServer((req, res) => {
  fs.appendFileSync(log, req.method + ' ' + req.url + '\\n');
  const rel = decodeURIComponent(req.url.split('?')[0]);
  if (rel === '/fail') { res.writeHead(500); return res.end('broken'); }
  const file = path.join(root, rel);
  if (!file.startsWith(root + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) { res.writeHead(404); return res.end('not found'); }
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(fs.readFileSync(file));
});
server.listen(0, '127.0.0.1', () => process.stdout.write('PORT ' + server.address().port + '\\n'));
`;

export interface IgluServer {
  /** The repository URI for the resolver config (`http://127.0.0.1:<port>`). */
  readonly uri: string;
  /** Writes (or replaces) a schema served under `schemas/<vendor>/<name>/jsonschema/<version>`. */
  put(key: string, schema: object): void;
  /** The request lines received so far (`GET /schemas/...`). */
  requests(): string[];
  stop(): Promise<void>;
}

/** A self-describing schema document for `key` (`iglu:vendor/name/jsonschema/M-R-A`) with the given properties. */
export function schemaDoc(key: string, properties: Record<string, object>, description = 'test schema'): object {
  const [vendor, name, format, version] = key.replace(/^iglu:/, '').split('/');
  return {
    $schema: 'http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#',
    description,
    self: { vendor, name, format, version },
    type: 'object',
    properties,
    additionalProperties: false,
  };
}

export async function startIgluServer(): Promise<IgluServer> {
  const dir = mkdtempSync(join(tmpdir(), 'waymark-iglu-'));
  const root = join(dir, 'root');
  mkdirSync(root);
  const log = join(dir, 'requests.log');
  writeFileSync(log, '');
  const child: ChildProcess = spawn(process.execPath, ['-e', SERVER, root, log], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /PORT (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`the Iglu test server exited (${code})`)));
  });
  return {
    uri: `http://127.0.0.1:${port}`,
    put(key, schema) {
      const file = join(root, 'schemas', key.replace(/^iglu:/, ''));
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, JSON.stringify(schema, null, 2) + '\n');
    },
    requests: () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter((l) => l !== '') : []),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
