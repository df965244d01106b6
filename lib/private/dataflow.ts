/** Pieces the Dataflow-based constructs (StreamingEnricher, BatchEnricher) share. */
import { Construct } from 'constructs';
import { TerraformProvider } from 'cdktf';
import { StorageBucket } from '@cdktf/provider-google/lib/storage-bucket';
import { StorageBucketObject } from '@cdktf/provider-google/lib/storage-bucket-object';
import { StagedBundle } from './assets';
import { betaProviderOf } from './service-agents';

/**
 * A private bucket for the UDF and Dataflow's files. Only the temporary prefixes expire after a week: `temp/`
 * (Dataflow's tempLocation) and `bq-temp/` (BigQuery load files of a batch replay). `staging/` never expires: it holds
 * the jars a streaming job's workers load whenever one is added or replaced, for as long as the job runs (a job of
 * months with its staged files deleted cannot scale or heal: apache/beam issue 18209). The UDF and schema files are
 * content-hashed and deleted by Terraform once no job reads them.
 */
export function workBucket(scope: Construct, project: string | undefined, name: string, region: string, labels: Readonly<Record<string, string>>): StorageBucket {
  return new StorageBucket(scope, 'bucket', {
    project,
    name,
    location: region.toUpperCase(),
    uniformBucketLevelAccess: true,
    publicAccessPrevention: 'enforced',
    // Generated code and temporary files only: nothing to protect.
    forceDestroy: true,
    lifecycleRule: [{ action: { type: 'Delete' }, condition: { age: 7, matchesPrefix: [...TEMPORARY_PREFIXES] } }],
    labels,
  });
}

/** The prefixes of the work bucket whose objects expire: never a path a running job reads. */
export const TEMPORARY_PREFIXES = ['temp/', 'bq-temp/'] as const;

/** The stack's google-beta provider without alias; errors name `construct`'s `betaProvider` prop. */
export function findBetaProvider(scope: Construct, construct: string): TerraformProvider {
  return betaProviderOf(scope, construct, undefined, 'the Dataflow flex template job exists only there');
}

/**
 * Uploads a staged file (UDF, schema file) that a Dataflow job reads by its content-hashed name. A new build is a
 * new object name: Terraform creates it, points the job at it, and only then deletes the old file, which a running
 * job reads until its replacement takes over.
 */
export function uploadJobFile(scope: Construct, id: string, bucket: { readonly name: string }, name: string, staged: StagedBundle, contentType: string): StorageBucketObject {
  return new StorageBucketObject(scope, id, {
    bucket: bucket.name,
    name,
    source: staged.asset.path,
    contentType,
    cacheControl: 'no-store',
    lifecycle: { createBeforeDestroy: true },
  });
}

/** Where Google's flex template `template` of `version` lives for jobs in `region`. */
export function flexTemplatePath(region: string, version: string | undefined, template: string): string {
  return `gs://dataflow-templates-${region}/${version ?? 'latest'}/flex/${template}`;
}
