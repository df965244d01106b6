/**
 * Test support for the collector: HTTP client with raw headers, the shipped bundle as a child process,
 * the Pub/Sub emulator (real gcloud), and a checker against the registry's schema files.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { createServer, Socket } from 'node:net';
import { join } from 'node:path';
import { releasePort, reservePort } from '../helpers/ports';

export const ROOT = join(__dirname, '..', '..');

// ---------------------------------------------------------------------------------------------------------------
// HTTP

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  /** Header names and values in the order sent, names as sent. */
  readonly rawHeaders: string[];
  readonly body: Buffer;
  readonly text: string;
}

export interface RequestSpec {
  readonly method?: string;
  readonly path: string;
  readonly headers?: Record<string, string | string[]>;
  readonly body?: string | Buffer;
  readonly agent?: Agent | false;
}

export function request(port: number, spec: RequestSpec): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, method: spec.method ?? 'GET', path: spec.path, headers: spec.headers, agent: spec.agent ?? false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body, text: body.toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.setTimeout(30000, () => req.destroy(new Error(`request ${spec.method ?? 'GET'} ${spec.path} timed out`)));
    req.end(spec.body);
  });
}

/** Response headers as [lower-case name, value] pairs, excluding the ones Node adds (Date, Connection, Keep-Alive). */
export function headerPairs(reply: Reply): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < reply.rawHeaders.length; i += 2) {
    const name = reply.rawHeaders[i].toLowerCase();
    if (name === 'date' || name === 'connection' || name === 'keep-alive') continue;
    out.push([name, reply.rawHeaders[i + 1]]);
  }
  return out;
}

/** Sends raw bytes on a fresh connection and collects everything the server answers until it closes (or timeout). */
export function rawExchange(port: number, chunks: (string | Buffer)[], opts: { delayMs?: number; waitMs?: number } = {}): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let text = '';
    let done = false;
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, closed });
    };
    const timer = setTimeout(() => finish(false), opts.waitMs ?? 10000);
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.connect(port, '127.0.0.1', async () => {
      for (const c of chunks) {
        if (socket.destroyed) break;
        socket.write(c);
        if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
      }
    });
  });
}

/** One HTTP exchange without keep-alive (so no socket outlives the test). */
export function plainHttp(method: string, url: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, agent: false, headers: body === undefined ? {} : { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(30000, () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.end(body);
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every `everyMs` until it returns a value other than undefined, at most `maxMs`. */
export async function waitFor<T>(what: string, check: () => T | undefined | Promise<T | undefined>, maxMs = 30000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + maxMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The shipped bundle as a process

export interface LogLine {
  readonly severity: string;
  readonly message: string;
  readonly [field: string]: unknown;
}

export interface RunningCollector {
  readonly port: number;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Structured log lines (stderr). */
  readonly logs: LogLine[];
  /** Non-JSON stderr lines (warnings from libraries). */
  readonly stderrText: string[];
  /** Stdout lines (the stdout sink). */
  readonly stdout: string[];
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  readonly exited: Promise<number | null>;
  /** Resident memory in bytes (Linux /proc). */
  rssBytes(): number;
}

export interface RunOptions {
  readonly cwd?: string;
  readonly expectExit?: boolean;
  /**
   * Another command than `node <bundle>` (e.g. `['npm', 'start']`, `bundle` is then ignored). It runs in its own
   * process group, and `stop` signals the whole group (npm and the node it started).
   */
  readonly command?: readonly [string, ...string[]];
}

/** Starts `node <bundle>` with the given environment (PORT=0, 127.0.0.1) and waits for its "listening" log line. */
export async function runBundle(bundle: string, env: Record<string, string>, opts: RunOptions = {}): Promise<RunningCollector> {
  const [file, ...args] = opts.command ?? [process.execPath, bundle];
  const group = opts.command !== undefined;
  const child = spawn(file, args, {
    cwd: opts.cwd,
    // One process unless a test asks for more (WAYMARK_WORKERS auto would fork one per core with the Pub/Sub sink).
    env: { PATH: process.env.PATH ?? '', PORT: '0', WAYMARK_HOST: '127.0.0.1', WAYMARK_WORKERS: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: group,
  });
  const logs: LogLine[] = [];
  const stderrText: string[] = [];
  const stdout: string[] = [];
  const lines = (stream: NodeJS.ReadableStream, onLine: (l: string) => void): void => {
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        onLine(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
    });
  };
  lines(child.stderr!, (l) => {
    try {
      logs.push(JSON.parse(l) as LogLine);
    } catch {
      stderrText.push(l);
    }
  });
  lines(child.stdout!, (l) => stdout.push(l));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let exitCode: number | null | undefined;
  void exited.then((c) => (exitCode = c));
  const running: RunningCollector = {
    get port() {
      const l = logs.find((x) => x.message === 'collector listening');
      return l ? (l.port as number) : -1;
    },
    pid: child.pid!,
    child,
    logs,
    stderrText,
    stdout,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (exitCode === undefined) {
        if (!group) child.kill(signal);
        else {
          try {
            process.kill(-child.pid!, signal);
          } catch {
            // the group is gone already
          }
        }
      }
      return exited;
    },
    rssBytes: () => {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const m = /VmRSS:\s+(\d+) kB/.exec(status);
      return m ? Number(m[1]) * 1024 : 0;
    },
  };
  if (opts.expectExit) {
    await exited;
    return running;
  }
  await waitFor('the collector to listen', () => {
    if (exitCode !== undefined) throw new Error(`collector exited with ${exitCode}: ${JSON.stringify(logs)} ${stderrText.join('\n')}`);
    return running.port > 0 ? true : undefined;
  }, 30000, 50);
  return running;
}

// ---------------------------------------------------------------------------------------------------------------
// Pub/Sub emulator (real gcloud)

export const EMULATOR_PROJECT = 'waymark-test';

export interface Emulator {
  readonly host: string;
  readonly port: number;
  /** Stops the emulator; its port stays reserved for `start`. */
  stop(): Promise<void>;
  /** Starts it again on the same port (the emulator keeps nothing: topics must be created again). */
  start(): Promise<void>;
  /** Stops it for good and gives its port back. */
  dispose(): Promise<void>;
  createTopic(name: string): Promise<void>;
  createSubscription(name: string, topic: string): Promise<void>;
  /** Pulls and acknowledges up to `max` messages (returns immediately when none are available). */
  pull(subscription: string, max?: number): Promise<{ data: string; attributes: Record<string, string> }[]>;
}

function gcloudInstalled(): boolean {
  return spawnSync('gcloud', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * Starts the Pub/Sub emulator in its own process group on a reserved loopback port (ports.ts: the JVM binds it
 * seconds after being told, and a restart needs the same port). Fails with an install hint when gcloud is missing.
 */
export async function startEmulator(): Promise<Emulator> {
  if (!gcloudInstalled()) {
    throw new Error(
      'The Pub/Sub emulator is required: install the Google Cloud CLI and its emulator ' +
        '(apt-get install google-cloud-cli google-cloud-cli-pubsub-emulator, or `gcloud components install pubsub-emulator beta`) and Java 11+.',
    );
  }
  const port = await reservePort();
  const host = `127.0.0.1:${port}`;
  let child: ChildProcess | null = null;
  let output = '';
  const base = `http://${host}/v1/projects/${EMULATOR_PROJECT}`;
  const call = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await plainHttp(method, `${base}${path}`, body === undefined ? undefined : JSON.stringify(body));
    if (res.status < 200 || res.status > 299) throw new Error(`emulator ${method} ${path}: ${res.status} ${res.text}`);
    return res.text === '' ? {} : JSON.parse(res.text);
  };
  const emulator: Emulator = {
    host,
    port,
    async start() {
      output = '';
      child = spawn('gcloud', ['beta', 'emulators', 'pubsub', 'start', `--host-port=${host}`, `--project=${EMULATOR_PROJECT}`], {
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout!.on('data', (d) => (output += d));
      child.stderr!.on('data', (d) => (output += d));
      const exited = new Promise<void>((resolve) => child!.once('exit', () => resolve()));
      let gone = false;
      void exited.then(() => (gone = true));
      await waitFor('the Pub/Sub emulator to start', async () => {
        if (gone) throw new Error(`the Pub/Sub emulator exited:\n${output}`);
        try {
          const res = await plainHttp('GET', `http://${host}/`);
          return res.status === 200 ? true : undefined;
        } catch {
          return undefined;
        }
      }, 90000, 200);
    },
    async stop() {
      const c = child;
      child = null;
      if (c === null || c.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
      try {
        process.kill(-c.pid!, 'SIGTERM');
      } catch {
        return;
      }
      let timer: NodeJS.Timeout | undefined;
      const killed = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 10000)))]);
      clearTimeout(timer);
      if (!killed) {
        try {
          process.kill(-c.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
        await exited;
      }
      // The JVM is a child of the gcloud Python process: wait until the whole group is gone and the port is free.
      const groupAlive = (): boolean => {
        try {
          process.kill(-c.pid!, 0);
          return true;
        } catch {
          return false;
        }
      };
      const deadline = Date.now() + 20000;
      while (groupAlive() && Date.now() < deadline) {
        if (Date.now() > deadline - 15000) {
          try {
            process.kill(-c.pid!, 'SIGKILL');
          } catch {
            // gone meanwhile
          }
        }
        await sleep(100);
      }
      c.stdout?.destroy();
      c.stderr?.destroy();
      await waitFor('the emulator port to close', async () => {
        try {
          await plainHttp('GET', `http://${host}/`);
          return undefined;
        } catch {
          return true;
        }
      }, 20000, 100);
    },
    async dispose() {
      try {
        await emulator.stop();
      } finally {
        releasePort(port);
      }
    },
    async createTopic(name) {
      await call('PUT', `/topics/${name}`);
    },
    async createSubscription(name, topic) {
      await call('PUT', `/subscriptions/${name}`, { topic: `projects/${EMULATOR_PROJECT}/topics/${topic}`, ackDeadlineSeconds: 60 });
    },
    async pull(subscription, max = 1000) {
      const res = (await call('POST', `/subscriptions/${subscription}:pull`, { maxMessages: max, returnImmediately: true })) as {
        receivedMessages?: { ackId: string; message: { data?: string; attributes?: Record<string, string> } }[];
      };
      const received = res.receivedMessages ?? [];
      if (received.length > 0) await call('POST', `/subscriptions/${subscription}:acknowledge`, { ackIds: received.map((m) => m.ackId) });
      return received.map((m) => ({ data: Buffer.from(m.message.data ?? '', 'base64').toString('utf8'), attributes: m.message.attributes ?? {} }));
    },
  };
  try {
    await emulator.start();
  } catch (err) {
    await emulator.dispose();
    throw err;
  }
  return emulator;
}

/** Pulls until `count` messages arrived or nothing new came for `quietMs` (bounded by maxMs). */
export async function pullAtLeast(emulator: Emulator, subscription: string, count: number, maxMs = 60000, quietMs = 3000): Promise<{ data: string; attributes: Record<string, string> }[]> {
  const out: { data: string; attributes: Record<string, string> }[] = [];
  const deadline = Date.now() + maxMs;
  let lastNew = Date.now();
  while (Date.now() < deadline) {
    const got = await emulator.pull(subscription);
    if (got.length > 0) {
      out.push(...got);
      lastNew = Date.now();
    } else {
      if (out.length >= count && Date.now() - lastNew > quietMs) break;
      await sleep(200);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// The registry's schema files, checked with the keywords they use

export function readSchema(vendor: string, name: string, version: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(ROOT, 'schemas', vendor, name, 'jsonschema', version), 'utf8')) as Record<string, unknown>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Problems of `value` against `schema` (type, properties, required, additionalProperties, enum, lengths, items, formats). */
export function schemaProblems(schema: Record<string, unknown>, value: unknown, path = '$'): string[] {
  const problems: string[] = [];
  const typeOf = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v);
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
    const t = typeOf(value);
    if (!types.includes(t) && !(t === 'integer' && types.includes('number'))) return [`${path}: type ${t}, expected ${types.join('|')}`];
  }
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) problems.push(`${path}: ${JSON.stringify(value)} not in enum`);
  if (typeof value === 'string') {
    if (typeof schema.minLength === 'number' && value.length < schema.minLength) problems.push(`${path}: shorter than ${schema.minLength}`);
    if (typeof schema.maxLength === 'number' && value.length > schema.maxLength) problems.push(`${path}: longer than ${schema.maxLength}`);
    if (schema.format === 'uuid' && !UUID.test(value)) problems.push(`${path}: not a uuid`);
    if (schema.format === 'date-time' && !DATE_TIME.test(value)) problems.push(`${path}: not a date-time`);
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) problems.push(`${path}: fewer than ${schema.minItems} items`);
    if (schema.items && typeof schema.items === 'object') value.forEach((v, i) => problems.push(...schemaProblems(schema.items as Record<string, unknown>, v, `${path}[${i}]`)));
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    const props = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
    for (const r of (schema.required ?? []) as string[]) if (!(r in obj)) problems.push(`${path}: missing ${r}`);
    for (const [k, v] of Object.entries(obj)) {
      if (k in props) problems.push(...schemaProblems(props[k], v, `${path}.${k}`));
      else if (schema.additionalProperties === false) problems.push(`${path}: unexpected property ${k}`);
      else if (schema.additionalProperties && typeof schema.additionalProperties === 'object') problems.push(...schemaProblems(schema.additionalProperties as Record<string, unknown>, v, `${path}.${k}`));
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------------
// A TCP relay in front of a port, which can be cut (connections dropped, new ones refused) and resumed

export interface Relay {
  readonly port: number;
  cut(): Promise<void>;
  resume(): Promise<void>;
  close(): Promise<void>;
}

/** A relay on a reserved port (ports.ts): `resume` listens on the same port again, which nobody else can have taken. */
export async function startRelay(targetPort: number): Promise<Relay> {
  const sockets = new Set<Socket>();
  const server = createServer((inbound) => {
    const outbound = new Socket();
    sockets.add(inbound);
    sockets.add(outbound);
    const drop = (): void => {
      inbound.destroy();
      outbound.destroy();
      sockets.delete(inbound);
      sockets.delete(outbound);
    };
    inbound.on('error', drop).on('close', drop);
    outbound.on('error', drop).on('close', drop);
    outbound.connect(targetPort, '127.0.0.1', () => {
      inbound.pipe(outbound);
      outbound.pipe(inbound);
    });
  });
  const listen = (port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.removeListener('error', reject);
        resolve((server.address() as { port: number }).port);
      });
    });
  const port = await reservePort();
  try {
    await listen(port);
  } catch (err) {
    releasePort(port);
    throw err;
  }
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
      sockets.clear();
    });
  return {
    port,
    cut: stop,
    async resume() {
      await listen(port);
    },
    async close() {
      await stop();
      releasePort(port);
    },
  };
}
