/**
 * The Pub/Sub emulator for local mode: uses the one named by PUBSUB_EMULATOR_HOST, or starts
 * `gcloud beta emulators pubsub start` on a free loopback port in its own process group, and stops that whole
 * group (gcloud's Python wrapper and the Java emulator) when local mode stops, whatever way it stops.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';

export const EMULATOR_INSTALL_HINT =
  'Pub/Sub mode needs the Pub/Sub emulator. Install the Google Cloud CLI (https://cloud.google.com/sdk/docs/install), then ' +
  '`gcloud components install beta pubsub-emulator` (Debian/Ubuntu packages: `apt-get install google-cloud-cli google-cloud-cli-pubsub-emulator`, ' +
  'which needs Java), or set PUBSUB_EMULATOR_HOST to an emulator you started yourself.';

export class EmulatorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmulatorError';
  }
}

export interface Emulator {
  /** `host:port`, the value clients read from PUBSUB_EMULATOR_HOST. */
  readonly host: string;
  /** Process group id of the emulator we started (null when an external one is used). */
  readonly pgid: number | null;
  /** Stops what we started (nothing for an external emulator). Idempotent. */
  stop(): Promise<void>;
}

/** The first executable named `name` on PATH, or null. */
export function findOnPath(name: string, path: string | undefined): string | null {
  for (const dir of (path ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** GET http://<host>/ answers 200 "Ok" on a running emulator. */
export function emulatorAnswers(host: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(`http://${host}/`, { method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const address = s.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

export interface EmulatorOptions {
  /** PUBSUB_EMULATOR_HOST, if set. */
  readonly externalHost: string | null;
  /** Folder for the emulator's env.yaml. */
  readonly dataDir: string;
  readonly path: string | undefined;
  /** How long the emulator may take to answer. @default 90000 */
  readonly startTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

/** Connects to the external emulator or starts one. Throws EmulatorError with what to do when it can't. */
export async function ensureEmulator(options: EmulatorOptions): Promise<Emulator> {
  if (options.externalHost !== null) {
    if (!(await emulatorAnswers(options.externalHost, 3000))) {
      throw new EmulatorError(`PUBSUB_EMULATOR_HOST=${options.externalHost} does not answer: start the emulator (gcloud beta emulators pubsub start --host-port=${options.externalHost}) or unset the variable to let local mode start one`);
    }
    return { host: options.externalHost, pgid: null, stop: async () => undefined };
  }
  const gcloud = findOnPath('gcloud', options.path);
  if (gcloud === null) throw new EmulatorError(`gcloud is not on PATH. ${EMULATOR_INSTALL_HINT}`);
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const dir = join(options.dataDir, 'emulator');
  mkdirSync(dir, { recursive: true });
  const child: ChildProcess = spawn(gcloud, ['beta', 'emulators', 'pubsub', 'start', `--host-port=${host}`, `--data-dir=${dir}`], {
    detached: true, // its own process group: the whole group is stopped at the end
    stdio: ['ignore', 'pipe', 'pipe'],
    env: process.env,
  });
  const pgid = child.pid;
  if (pgid === undefined) throw new EmulatorError(`cannot start ${gcloud}. ${EMULATOR_INSTALL_HINT}`);
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => {
    exited = true;
    resolve();
  }));
  // Last resort: whatever ends this process (an uncaught error, process.exit) takes the emulator with it.
  const onExit = (): void => killGroup(pgid, 'SIGKILL');
  process.on('exit', onExit);

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      killGroup(pgid, 'SIGTERM');
      const deadline = Date.now() + 5000;
      while (groupAlive(pgid) && Date.now() < deadline) await sleep(100);
      if (groupAlive(pgid)) killGroup(pgid, 'SIGKILL');
      const hardDeadline = Date.now() + 2000;
      while (groupAlive(pgid) && Date.now() < hardDeadline) await sleep(50);
      await Promise.race([exit, sleep(1000)]);
      process.removeListener('exit', onExit);
      child.stdout?.destroy();
      child.stderr?.destroy();
    })();
    return stopping;
  };

  options.log?.(`starting the Pub/Sub emulator on ${host} …`);
  const deadline = Date.now() + (options.startTimeoutMs ?? 90000);
  for (;;) {
    if (exited) {
      await stop();
      const missing = /not installed|component|Unknown command|Invalid choice/i.test(output);
      throw new EmulatorError(`the Pub/Sub emulator exited while starting${missing ? ` (is the pubsub-emulator component installed?). ${EMULATOR_INSTALL_HINT}` : ''}\n${output.trim()}`);
    }
    if (await emulatorAnswers(host, 1000)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new EmulatorError(`the Pub/Sub emulator did not answer on ${host} within ${Math.round((options.startTimeoutMs ?? 90000) / 1000)} s\n${output.trim()}`);
    }
    await sleep(250);
  }
  return { host, pgid, stop };
}
