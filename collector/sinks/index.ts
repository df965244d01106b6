/** Builds the configured sink. */
import type { SinkConfig } from '../config';
import { FileSink } from './file';
import { MemorySink } from './memory';
import type { PubSubSink as PubSubSinkType } from './pubsub';
import { StdoutSink } from './stdout';
import type { Sink } from './types';

export type { Sink, SinkRecord, Stream } from './types';
export { FileSink, MemorySink, StdoutSink };
export type { PubSubSinkType as PubSubSink };

export function createSink(config: SinkConfig): Sink {
  switch (config.type) {
    case 'pubsub': {
      // Loaded on demand: the Pub/Sub client is most of the bundle and slows the start of the other sinks.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { PubSubSink } = require('./pubsub') as typeof import('./pubsub');
      return new PubSubSink(config);
    }
    case 'file':
      return new FileSink(config.directory);
    case 'memory':
      return new MemorySink(config.maxEvents);
    case 'stdout':
      return new StdoutSink();
  }
}
