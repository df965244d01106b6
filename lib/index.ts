/**
 * Waymark: clickstream analytics on Google Cloud as CDK for Terraform constructs.
 */
export * from './collector-backend';
export * from './global-collector';
export * from './cdn-pixel-collector';
export * from './tracker-hosting';
export * from './topics';
export * from './schema-registry';
export { WarehouseSink, WEB_PAGE_COLUMN } from './warehouse-sink';
export type { WarehouseSinkProps, RegistrySource } from './warehouse-sink';
export { StreamingEnricher } from './streaming-enricher';
export type { StreamingEnricherProps, EnrichmentRegistrySource, EnrichmentSettings, EnrichmentDestination, SubscriptionReference, BucketReference } from './streaming-enricher';
export { RawArchive, ARCHIVE_PREFIX, BAD_ARCHIVE_PREFIX } from './raw-archive';
export type { RawArchiveProps, ArchiveRange } from './raw-archive';
export { BatchEnricher } from './batch-enricher';
export type { BatchEnricherProps, ReplaySource } from './batch-enricher';
export * from './clickstream-pipeline';
export * from './pipeline-monitoring';
export { ServerlessEnricher } from './serverless-enricher';
export type { ServerlessEnricherProps, ServerlessDestination } from './serverless-enricher';
export { Enrichment } from './enrichment';
export type { DataflowEnrichmentProps, ServerlessEnrichmentProps } from './enrichment';
