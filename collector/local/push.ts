/**
 * Pub/Sub mode with `--push`: the serverless enricher service bundle (`enricher.js`, pipeline/service/main.ts, what
 * Cloud Run runs) as a child process behind an emulator push subscription. Auth is off (`WAYMARK_PUSH_AUTH=off`: the
 * emulator sends no OIDC token; the service accepts that only with PUBSUB_EMULATOR_HOST set), and rows are published
 * in the form the UDF returns them (`WAYMARK_ROW_SINK=dataflow`), which the local files and the events page read.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';

export interface EnricherServiceOptions {
  readonly bundle: string;
  readonly emulatorHost: string;
  readonly enrichedTopic: string;
  readonly badTopic: string;
  /** Lines for the terminal: the service's warnings and errors. */
  readonly print: (line: string) => void;
  /** How long to wait for its "enricher listening" line. @default 30000 */
  readonly startTimeoutMs?: number;
}

export interface EnricherServiceProcess {
  readonly port: number;
  readonly pid: number;
  /** SIGTERM (the service drains what it has in flight), then waits for the exit. Idempotent. */
  stop(): Promise<void>;
}

export async function startEnricherService(options: EnricherServiceOptions): Promise<EnricherServiceProcess> {
  if (!existsSync(options.bundle)) throw new Error(`the enricher service bundle ${options.bundle} does not exist (--enricher / WAYMARK_LOCAL_ENRICHER): run \`npm run build\`, or npm start, which builds it`);
  const child = spawn(process.execPath, [options.bundle], {
    env: {
      ...process.env,
      PORT: '0',
      PUBSUB_EMULATOR_HOST: options.emulatorHost,
      WAYMARK_PUSH_AUTH: 'off',
      WAYMARK_ROW_SINK: 'dataflow',
      WAYMARK_ENRICHED_TOPIC: options.enrichedTopic,
      WAYMARK_BAD_TOPIC: options.badTopic,
      WAYMARK_DRAIN_SECONDS: '5',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so a Ctrl-C at the terminal does not reach it: local mode stops it once the collector
    // drained and every published event came back from it (PubSubPipeline.stop).
    detached: true,
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // The child must not outlive local mode, however it exits.
  const kill = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', kill);
  const recent: string[] = [];
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      kill();
      reject(new Error(`the enricher service did not start within ${(options.startTimeoutMs ?? 30000) / 1000} s:\n${recent.join('\n')}`));
    }, options.startTimeoutMs ?? 30000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the enricher service exited while starting (${signal ?? `code ${code}`}):\n${recent.join('\n')}`));
    });
    const onLine = (line: string): void => {
      recent.push(line);
      if (recent.length > 20) recent.shift();
      const entry = parseLogLine(line);
      if (entry?.message === 'enricher listening' && typeof entry.port === 'number') {
        clearTimeout(timer);
        resolve(entry.port);
      } else if (entry === null || entry.severity === 'ERROR' || entry.severity === 'WARNING') {
        options.print(`  enricher service: ${line}`);
      }
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
  });
  let stopping: Promise<void> | null = null;
  child.once('exit', (code, signal) => {
    if (stopping === null) options.print(`  the enricher service exited (${signal ?? `code ${code}`}): events wait in the push subscription until local mode is restarted`);
  });
  return {
    port,
    pid: child.pid!,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        const force = setTimeout(kill, 10000);
        await exited;
        clearTimeout(force);
        process.removeListener('exit', kill);
      })();
      return stopping;
    },
  };
}

/** One of the service's JSON log lines, or null for any other line. */
function parseLogLine(line: string): { severity?: unknown; message?: unknown; port?: unknown } | null {
  try {
    const v: unknown = JSON.parse(line);
    return v !== null && typeof v === 'object' ? (v as { severity?: unknown; message?: unknown; port?: unknown }) : null;
  } catch {
    return null;
  }
}
