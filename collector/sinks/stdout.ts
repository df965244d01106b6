/**
 * Stdout sink: one JSON line per record, `{"stream":"good"|"bad","attributes":{...},"data":<payload>}`.
 * The safe local default. Respects stream back-pressure: a write resolves once the stream has taken the lines.
 */
import type { Writable } from 'node:stream';
import type { Sink, SinkRecord } from './types';

export class StdoutSink implements Sink {
  readonly kind = 'stdout';
  constructor(private readonly out: Writable = process.stdout) {}

  write(records: readonly SinkRecord[]): Promise<readonly SinkRecord[]> {
    let text = '';
    for (const r of records) text += `{"stream":"${r.stream}","attributes":${JSON.stringify(r.attributes)},"data":${r.data}}\n`;
    return new Promise((resolve, reject) => {
      this.out.write(text, (err) => (err ? reject(err) : resolve([])));
    });
  }

  async close(): Promise<void> {}
}
