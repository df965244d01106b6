/**
 * Structured JSON logs, one object per line, with Cloud Logging's `severity` field.
 *
 * Callers pass only their own fields (counts, setting names, error messages of sinks): request data such as IPs,
 * cookies or payloads is never handed to the logger, and `describeError` keeps only an error's name, code and message.
 */
export type Severity = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';
export type LogFields = Readonly<Record<string, string | number | boolean | null | undefined>>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const RANK: Record<Severity, number> = { DEBUG: 0, INFO: 1, WARNING: 2, ERROR: 3 };

export interface LoggerOptions {
  /** Lowest severity written. @default 'INFO' */
  readonly level?: Severity;
  /** Where a finished line goes. @default process.stderr */
  readonly write?: (line: string) => void;
  /** Clock, for tests. */
  readonly now?: () => number;
  /** Fields on every line (the multi-process mode's `worker`). */
  readonly fields?: LogFields;
}

/** Writes to stderr; a closed or broken stderr (EPIPE) loses the line instead of raising. */
function writeStderr(line: string): void {
  try {
    if (!process.stderr.destroyed && process.stderr.writable) process.stderr.write(line);
  } catch {
    // Nowhere left to report it.
  }
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const min = RANK[options.level ?? 'INFO'];
  const write = options.write ?? writeStderr;
  const now = options.now ?? Date.now;
  const base = options.fields ? Object.entries(options.fields).filter(([, v]) => v !== undefined) : null;
  const emit = (severity: Severity, message: string, fields?: LogFields): void => {
    if (RANK[severity] < min) return;
    const entry: Record<string, unknown> = { severity, time: new Date(now()).toISOString(), message, component: 'waymark-collector' };
    if (base) for (const [k, v] of base) if (!(k in entry)) entry[k] = v;
    if (fields) {
      for (const [k, v] of Object.entries(fields)) if (v !== undefined && !(k in entry)) entry[k] = v;
    }
    write(`${JSON.stringify(entry)}\n`);
  };
  return {
    debug: (m, f) => emit('DEBUG', m, f),
    info: (m, f) => emit('INFO', m, f),
    warn: (m, f) => emit('WARNING', m, f),
    error: (m, f) => emit('ERROR', m, f),
  };
}

/** A logger that drops everything (library use, tests). */
export const silentLogger: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/** An error reduced to fields safe to log: never its data, only what kind of failure it was. */
export function describeError(err: unknown): { error: string; errorCode?: string | number } {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const message = err.message.length > 300 ? `${err.message.slice(0, 300)}…` : err.message;
    return typeof code === 'string' || typeof code === 'number' ? { error: `${err.name}: ${message}`, errorCode: code } : { error: `${err.name}: ${message}` };
  }
  return { error: String(err).slice(0, 300) };
}
