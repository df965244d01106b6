/**
 * Structured logs of the enricher service: one JSON object per line on stdout, with Cloud Logging's `severity`, so
 * Cloud Run's log agent indexes them. Only the service's own facts are logged (counts, reasons, topic names),
 * never event data.
 */
export type Severity = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';
export type LogFields = Readonly<Record<string, string | number | boolean | null | undefined>>;

export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export function createLogger(write: (line: string) => void = (line) => process.stdout.write(line), now: () => number = Date.now): Logger {
  const emit = (severity: Severity, message: string, fields?: LogFields): void => {
    const entry: Record<string, unknown> = { severity, time: new Date(now()).toISOString(), message, component: 'waymark-enricher' };
    if (fields) for (const [k, v] of Object.entries(fields)) if (v !== undefined && !(k in entry)) entry[k] = v;
    try {
      write(JSON.stringify(entry) + '\n');
    } catch {
      // stdout gone: nothing left to report to.
    }
  };
  return { info: (m, f) => emit('INFO', m, f), warn: (m, f) => emit('WARNING', m, f), error: (m, f) => emit('ERROR', m, f) };
}

export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };

/** An error reduced to its kind and message. */
export function describeError(e: unknown): { error: string } {
  return { error: e instanceof Error ? `${e.name}: ${e.message}`.slice(0, 500) : String(e).slice(0, 500) };
}
