/**
 * How a {@link ClickstreamPipeline} enriches in real time, chosen with a static factory (CDK style):
 *
 * ```ts
 * enrichment: Enrichment.serverless({ maxInstances: 5 })   // Cloud Run + Pub/Sub push + BigQuery subscriptions, $0 at idle
 * enrichment: Enrichment.dataflow({ maxWorkers: 10 })      // the PubSub_to_BigQuery_Flex job with the UDF (the default)
 * ```
 *
 * Both run the same enrichment (the registry's validators, the same configuration) and fill the same events and
 * bad-rows tables; replay from the archive stays on Dataflow (BatchEnricher) either way.
 */
import type { ServerlessEnricherProps } from './serverless-enricher';
import type { StreamingEnricherProps } from './streaming-enricher';

type Shared = 'projectId' | 'labels';

/** Dataflow settings: those of StreamingEnricher that the pipeline does not set itself. */
export type DataflowEnrichmentProps = Omit<StreamingEnricherProps, 'registry' | 'subscription' | 'warehouse' | 'region' | 'enrichmentConfig' | Shared>;

/** Serverless settings: those of ServerlessEnricher that the pipeline does not set itself. */
export type ServerlessEnrichmentProps = Omit<ServerlessEnricherProps, 'registry' | 'subscription' | 'warehouse' | 'region' | 'enrichmentConfig' | Shared>;

export abstract class Enrichment {
  /** The Dataflow streaming job (StreamingEnricher): steady high volume, exactly-once writes. */
  static dataflow(props: DataflowEnrichmentProps = {}): Enrichment {
    return new DataflowEnrichment(props);
  }

  /** The serverless enricher (ServerlessEnricher): Cloud Run scaled to zero, at-least-once writes. */
  static serverless(props: ServerlessEnrichmentProps = {}): Enrichment {
    return new ServerlessEnrichment(props);
  }

  abstract readonly kind: 'dataflow' | 'serverless';
}

export class DataflowEnrichment extends Enrichment {
  readonly kind = 'dataflow' as const;
  constructor(readonly props: DataflowEnrichmentProps) {
    super();
  }
}

export class ServerlessEnrichment extends Enrichment {
  readonly kind = 'serverless' as const;
  constructor(readonly props: ServerlessEnrichmentProps) {
    super();
  }
}
