/** Builds the configured sink. */
import type { SinkConfig } from '../config';
import { FileSink } from './file';
import { MemorySink } from './memory';
import { PubSubSink } from './pubsub';
import { StdoutSink } from './stdout';
import type { Sink } from './types';

export type { Sink, SinkRecord, Stream } from './types';
export { FileSink, MemorySink, PubSubSink, StdoutSink };

export function createSink(config: SinkConfig): Sink {
  switch (config.type) {
    case 'pubsub':
      return new PubSubSink(config);
    case 'file':
      return new FileSink(config.directory);
    case 'memory':
      return new MemorySink(config.maxEvents);
    case 'stdout':
      return new StdoutSink();
  }
}
