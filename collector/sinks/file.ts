/**
 * File sink: appends JSON lines to `<directory>/good.jsonl` and `<directory>/bad.jsonl` (each line is the payload
 * or bad row JSON). Files are opened on first use; the directory is created if needed.
 */
import { mkdir, open, FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Sink, SinkRecord, Stream } from './types';

export class FileSink implements Sink {
  readonly kind = 'file';
  private readonly handles = new Map<Stream, Promise<FileHandle>>();
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly directory: string) {}

  /** Path of the JSONL file of a stream. */
  path(stream: Stream): string {
    return join(this.directory, `${stream}.jsonl`);
  }

  private handle(stream: Stream): Promise<FileHandle> {
    let h = this.handles.get(stream);
    if (h === undefined) {
      h = mkdir(this.directory, { recursive: true }).then(() => open(this.path(stream), 'a'));
      // A failed open is retried on the next write instead of being cached.
      h.catch(() => this.handles.delete(stream));
      this.handles.set(stream, h);
    }
    return h;
  }

  /** Creates the folder and opens both files for appending: an unwritable folder is reported at start, with the reason. */
  async check(): Promise<void> {
    for (const stream of ['good', 'bad'] as const) {
      try {
        await this.handle(stream);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        throw new Error(`file sink: cannot write ${this.path(stream)} (${e.code ?? e.message})`);
      }
    }
  }

  write(records: readonly SinkRecord[]): Promise<readonly SinkRecord[]> {
    let good = '';
    let bad = '';
    for (const r of records) {
      if (r.stream === 'good') good += `${r.data}\n`;
      else bad += `${r.data}\n`;
    }
    // Writes are serialized so lines never interleave.
    const run = async (): Promise<readonly SinkRecord[]> => {
      if (good !== '') await (await this.handle('good')).write(good);
      if (bad !== '') {
        try {
          await (await this.handle('bad')).write(bad);
        } catch (err) {
          // The good lines are written: only the bad rows are retried.
          if (good === '') throw err;
          return records.filter((r) => r.stream === 'bad');
        }
      }
      return [];
    };
    const result = this.chain.then(run, run);
    this.chain = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    await this.chain;
    for (const h of this.handles.values()) {
      const fh = await h.catch(() => null);
      if (fh !== null) {
        await fh.sync().catch(() => undefined);
        await fh.close();
      }
    }
    this.handles.clear();
  }
}
