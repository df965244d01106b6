/**
 * The container command of the instance-group, GKE and Cloud Run backends, run for real: `sh -c` with the
 * bootstrap fetching the shipped collector bundle from a local stand-in for the metadata server and the
 * Cloud Storage JSON API, then exec'ing it. The collector must come up and answer /health.
 */
import { spawn, ChildProcess } from 'node:child_process';
import { readFileSync, mkdtempSync, existsSync, rmSync } from 'node:fs';
import { createServer, Server, get } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { BOOTSTRAP_ENV, bootstrapCommand, bootstrapEnvironment } from '../../lib/private/collector-bootstrap';
import { collectorBundle } from '../../lib/private/runtime-bundles';
import { releasePort, reservePort } from '../helpers/ports';

interface Fake {
  server: Server;
  url: string;
  requests: string[];
}

async function fakeGoogle(objects: Record<string, Buffer>): Promise<Fake> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (req.url === '/metadata/instance/service-accounts/default/token') {
      if (req.headers['metadata-flavor'] !== 'Google') return void res.writeHead(403).end();
      res.setHeader('content-type', 'application/json');
      return void res.end(JSON.stringify({ access_token: 'test-token', expires_in: 3600 }));
    }
    const m = /^\/storage\/b\/([^/]+)\/o\/([^?]+)\?alt=media$/.exec(req.url ?? '');
    if (m && req.headers.authorization === 'Bearer test-token') {
      const body = objects[`${m[1]}/${decodeURIComponent(m[2])}`];
      if (body) return void res.end(body);
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}


function healthy(port: number): Promise<number> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path: '/health', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
  });
}

async function waitFor(check: () => Promise<boolean>, attempts: number): Promise<boolean> {
  for (let i = 0; i < attempts; i++) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));
}

describe('collector bootstrap (container backends)', () => {
  const bundle = collectorBundle();
  let fake: Fake;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    fake = await fakeGoogle({
      [`code-bucket/${bundle.hashedName}`]: bundle.contents,
      ['code-bucket/collector-0123456789abcdef.js']: bundle.contents,
    });
  });
  const dirs: string[] = [];
  afterAll(async () => {
    // Wait for every killed process to be gone and drop its pipes, and cut the fake's keep-alive connections:
    // otherwise they can outlive the file and keep the jest worker from exiting.
    for (const c of children) killGroup(c);
    await Promise.all(children.filter((c) => c.signalCode === null).map((c) => Promise.race([exited(c), new Promise((r) => setTimeout(r, 5000).unref())])));
    for (const c of children) { c.stdout?.destroy(); c.stderr?.destroy(); }
    fake.server.closeAllConnections();
    await new Promise((resolve) => fake.server.close(resolve));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    for (const p of ports) releasePort(p);
  });

  /** The shell and everything it started (the bootstrap's node child): no orphan keeps retrying after a test. */
  function killGroup(child: ChildProcess): void {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }

  // Ports the collector binds seconds later: reserved across jest workers, not merely free right now.
  const ports: number[] = [];
  async function reserved(): Promise<number> {
    const port = await reservePort();
    ports.push(port);
    return port;
  }

  function tempDir(): string {
    const d = mkdtempSync(join(tmpdir(), 'waymark-bootstrap-'));
    dirs.push(d);
    return d;
  }

  function start(objectName: string, port: number, dir: string): ChildProcess {
    const [shell, flag, script] = bootstrapCommand();
    const child = spawn(shell, [flag, script], {
      env: {
        PATH: process.env.PATH,
        PORT: String(port),
        WAYMARK_SINK: 'memory',
        ...bootstrapEnvironment('code-bucket', objectName),
        [BOOTSTRAP_ENV.file]: join(dir, 'collector.js'),
        [BOOTSTRAP_ENV.metadataUrl]: `${fake.url}/metadata`,
        [BOOTSTRAP_ENV.storageUrl]: `${fake.url}/storage`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so the test can stop the shell and the node processes it started together.
      detached: true,
    });
    children.push(child);
    return child;
  }

  test('fetches the bundle with the workload token, checks its hash, and execs the collector', async () => {
    const dir = tempDir();
    const port = await reserved();
    const child = start(bundle.hashedName, port, dir);
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const up = await waitFor(async () => (await healthy(port)) === 200, 100);
    expect({ up, output: up ? '' : output }).toEqual({ up: true, output: '' });
    expect(readFileSync(join(dir, 'collector.js')).equals(bundle.contents)).toBe(true);
    expect(fake.requests).toContain(`GET /storage/b/code-bucket/o/${basename(bundle.hashedName)}?alt=media`);
    expect(output).toContain('"component":"waymark-bootstrap"');
    // exec: the collector itself receives SIGTERM and exits cleanly.
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
  });

  test('the command is Terraform-safe: no ${ or %{ (Terraform would read them as templates); the bundle path comes from the environment', () => {
    for (const part of bootstrapCommand()) expect(part).not.toMatch(/\$\{|%\{/);
    expect(bootstrapCommand()[2]).toContain('exec node "$WAYMARK_BUNDLE_FILE"');
    expect(bootstrapEnvironment('b', 'collector-0123456789abcdef.js')).toMatchObject({
      WAYMARK_BUNDLE: 'gs://b/collector-0123456789abcdef.js',
      WAYMARK_BUNDLE_FILE: '/tmp/waymark/collector.js',
    });
  });

  test('refuses a bundle whose content does not match the hash in its name', async () => {
    const dir = tempDir();
    const child = start('collector-0123456789abcdef.js', await reserved(), dir);
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    // Ten attempts with backoff would take a while: the first failure is enough to see the reason.
    await waitFor(async () => output.includes('hash mismatch'), 50);
    killGroup(child);
    expect(output).toContain('bundle hash mismatch: name says 0123456789abcdef');
    expect(existsSync(join(dir, 'collector.js'))).toBe(false);
  });
});
