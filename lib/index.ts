/**
 * Waymark: clickstream analytics on Google Cloud as CDK for Terraform constructs.
 */
export * from './collector-backend';
export * from './global-collector';
export * from './cdn-pixel-collector';
export * from './tracker-hosting';
export * from './topics';
export * from './schema-registry';
