/**
 * Multi-process mode (node:cluster): one primary process forks `workers` collector processes that share the
 * listening socket (the primary hands connections out round-robin). Each worker is a whole collector with its own
 * bounded buffer (so the instance holds at most workers × the buffer bounds); logs carry `worker`.
 *
 * - Worker count (`WAYMARK_WORKERS`): `auto` (default) is the number of cores this process may use (CPU affinity, and
 *   a cgroup v2 CPU quota when the container has one) on VMs and GKE, and 1 on Cloud Run, Cloud Functions and App
 *   Engine, where the platform scales by adding instances and gives an instance about one core per request.
 * - Health: every worker answers `/health` with one answer for the whole instance: 503 while the instance drains
 *   or while a worker is missing (the primary tells each worker how many are serving).
 * - SIGTERM/SIGINT to the primary: forwarded to every worker, each drains its buffer (shutdownTimeoutMs), the
 *   primary exits once all have exited: 0 when every worker drained, else 1. A worker that dies unasked is forked
 *   again (at most 5 times a minute, then the primary stops with 1); that death is logged, not counted in the exit
 *   code of a later drain.
 */
import cluster, { Worker } from 'node:cluster';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Logger } from './log';

export const WORKERS_ENV = 'WAYMARK_WORKERS';

/** Platforms that scale by instances and give an instance about one core: one process there. */
const SINGLE_PROCESS_PLATFORMS: readonly [string, string][] = [
  ['K_SERVICE', 'Cloud Run'],
  ['FUNCTION_TARGET', 'Cloud Functions'],
  ['GAE_SERVICE', 'App Engine'],
];

/** Cores allowed by a cgroup v2 CPU quota (`cpu.max`: "<quota> <period>" or "max <period>"), or null when unlimited. */
export function cgroupCores(cpuMax: string | null): number | null {
  if (cpuMax === null) return null;
  const [quota, period] = cpuMax.trim().split(/\s+/);
  const q = Number(quota);
  const p = Number(period);
  if (quota === 'max' || !Number.isFinite(q) || !Number.isFinite(p) || p <= 0) return null;
  return Math.max(1, Math.ceil(q / p));
}

function readCpuMax(): string | null {
  try {
    return readFileSync('/sys/fs/cgroup/cpu.max', 'utf8');
  } catch {
    return null;
  }
}

export interface WorkerPlan {
  readonly workers: number;
  /** Why that many, for the start-up log. */
  readonly reason: string;
}

/**
 * How many collector processes to run. Throws Error naming WAYMARK_WORKERS on a bad value. `auto` runs several only
 * with the Pub/Sub sink: the memory sink's contents, the file sink's files and the stdout sink's lines are one per
 * process (`auto` gives 1 for them). A number above 1 is refused for the file and stdout sinks and for the memory
 * sink with the debug endpoints (each process would answer with its own part); the memory sink without them (a
 * bounded sink nobody reads: benchmarks) may run in several.
 */
export function planWorkers(env: Readonly<Record<string, string | undefined>>, sinkType: string, cores: number = availableParallelism(), cpuMax: string | null = readCpuMax(), debugEndpoints = false): WorkerPlan {
  const raw = (env[WORKERS_ENV] ?? '').trim().toLowerCase();
  if (raw !== '' && raw !== 'auto') {
    if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 256) throw new Error(`${WORKERS_ENV} must be "auto" or an integer from 1 to 256, got ${JSON.stringify(env[WORKERS_ENV])}`);
    if (Number(raw) > 1 && sinkType === 'memory' && debugEndpoints) throw new Error(`${WORKERS_ENV}=${raw} cannot serve the debug endpoints (WAYMARK_DEBUG_ENDPOINTS): each process has its own memory sink`);
    if (Number(raw) > 1 && sinkType !== 'pubsub' && sinkType !== 'memory') throw new Error(`${WORKERS_ENV}=${raw} needs the pubsub sink (WAYMARK_SINK=pubsub): the ${sinkType} sink is one per process`);
    return { workers: Number(raw), reason: `${WORKERS_ENV}=${raw}` };
  }
  if (sinkType !== 'pubsub') return { workers: 1, reason: `auto: the ${sinkType} sink is one per process` };
  for (const [variable, platform] of SINGLE_PROCESS_PLATFORMS) {
    if (env[variable] !== undefined) return { workers: 1, reason: `auto: ${platform} (${variable} is set) scales by instances` };
  }
  const quota = cgroupCores(cpuMax);
  if (quota !== null && quota < cores) return { workers: quota, reason: `auto: the cgroup CPU quota allows ${quota} of ${cores} cores` };
  return { workers: Math.max(1, cores), reason: `auto: ${cores} cores` };
}

/** Messages between the primary and its workers. */
export type ClusterMessage = { readonly waymark: 'serving'; readonly serving: number; readonly expected: number; readonly draining: boolean } | { readonly waymark: 'listening'; readonly port: number; readonly host: string };

export const isClusterMessage = (m: unknown): m is ClusterMessage => typeof m === 'object' && m !== null && typeof (m as { waymark?: unknown }).waymark === 'string';

/**
 * The instance's state as a worker sees it (from the primary's messages): null when it may serve, else why not.
 * Used by /health so that every worker gives the same answer.
 */
export function workerHealth(): () => string | null {
  let state: { serving: number; expected: number; draining: boolean } | null = null;
  process.on('message', (m: unknown) => {
    if (isClusterMessage(m) && m.waymark === 'serving') state = { serving: m.serving, expected: m.expected, draining: m.draining };
  });
  return () => {
    if (state === null) return null;
    if (state.draining) return 'shutting down';
    return state.serving < state.expected ? `${state.serving} of ${state.expected} workers serving` : null;
  };
}

/** Runs the primary: forks the workers, forwards signals, waits for their drain. Resolves with the exit code. */
export function runPrimary(plan: WorkerPlan, logger: Logger): Promise<number> {
  const expected = plan.workers;
  const serving = new Set<number>();
  let stopping = false;
  let worstExit = 0;
  const restarts: number[] = [];
  let announced = false;
  let resolveDone: (code: number) => void = () => {};
  const done = new Promise<number>((resolve) => (resolveDone = resolve));

  const broadcast = (): void => {
    const m: ClusterMessage = { waymark: 'serving', serving: serving.size, expected, draining: stopping };
    for (const w of Object.values(cluster.workers ?? {})) if (w?.isConnected()) w.send(m, () => undefined);
  };
  const fork = (): Worker => {
    const w = cluster.fork();
    w.on('message', (m: unknown) => {
      if (!isClusterMessage(m) || m.waymark !== 'listening') return;
      serving.add(w.id);
      broadcast();
      if (!announced && serving.size === expected) {
        announced = true;
        logger.info('collector listening', { port: m.port, host: m.host, workers: expected, workerPlan: plan.reason });
      }
    });
    return w;
  };

  cluster.on('exit', (w, code, signal) => {
    const wasServing = serving.delete(w.id);
    if (stopping) {
      // The exit code says whether the drain lost events; a worker that died earlier was logged when it died.
      if (code !== 0) worstExit = 1;
      logger.info('worker stopped', { workerId: w.id, exitCode: code, signal });
      if (Object.keys(cluster.workers ?? {}).length === 0) resolveDone(worstExit);
      else broadcast();
      return;
    }
    // Before every worker listened once, an exit is a start failure (the worker logged why): stop.
    if (!announced) {
      logger.error('a worker could not start: stopping', { workerId: w.id, exitCode: code, signal });
      stop('worker start failure', 1);
      return;
    }
    const now = Date.now();
    while (restarts.length > 0 && now - restarts[0] > 60000) restarts.shift();
    if (restarts.length >= 5) {
      logger.error('workers keep dying: stopping', { workerId: w.id, exitCode: code, signal, restartsLastMinute: restarts.length });
      stop('restart limit', 1);
      return;
    }
    restarts.push(now);
    logger.warn('worker died: starting another', { workerId: w.id, exitCode: code, signal, wasServing });
    broadcast();
    fork();
  });

  function stop(why: string, code = 0): void {
    if (stopping) return;
    stopping = true;
    if (code !== 0) worstExit = code;
    logger.info('stopping: every worker drains', { reason: why, workers: Object.keys(cluster.workers ?? {}).length });
    broadcast();
    const workers = Object.values(cluster.workers ?? {});
    if (workers.length === 0) resolveDone(worstExit);
    for (const w of workers) w?.process.kill('SIGTERM');
  }
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  logger.info('starting workers', { workers: expected, workerPlan: plan.reason });
  for (let i = 0; i < expected; i++) fork();
  return done;
}
