/**
 * The schema registry of a deployment: Waymark's built-in Iglu schemas merged with the user's folders, checked at
 * synth time (every error names the file), published as a static Iglu registry bucket, and handed to the other
 * constructs (the enricher compiles it into the UDF, the warehouse derives its columns from it).
 */
import { resolve } from 'node:path';
import { Construct } from 'constructs';
import { DataGoogleClientConfig } from '@cdktf/provider-google/lib/data-google-client-config';
import { StorageBucket } from '@cdktf/provider-google/lib/storage-bucket';
import { StorageBucketIamMember } from '@cdktf/provider-google/lib/storage-bucket-iam-member';
import { StorageBucketObject } from '@cdktf/provider-google/lib/storage-bucket-object';
import { loadRegistry } from '../pipeline/registry/load';
import { resolveForSynth, type Resolution, type SchemaResolutionConfig } from '../pipeline/registry/resolver';
import type { Registry, SchemaModel } from '../pipeline/registry/registry';
import { formatSchemaVer } from '../pipeline/registry/schemaver';
import { stageBundle } from './private/assets';
import { dataFile } from './private/bundler';
import { constructLabels } from './private/labels';
import { BUCKET_NAME, checkName, checkProjectId, checkRegion, PropError, RFC1035 } from './private/validate';
import type { NewRegionsOption } from './private/regions';

const NAME = 'SchemaRegistry';

export interface SchemaRegistryProps extends NewRegionsOption {
  /**
   * Folders of your own schemas in Iglu static layout (`<vendor>/<name>/jsonschema/<M-R-A>`, no extension), merged
   * over the built-in ones in order. A schema key names one immutable schema: a folder may repeat a built-in
   * schema only unchanged.
   * @default none: the built-in schemas only
   */
  readonly schemaFolders?: readonly string[];
  /**
   * Iglu resolution, like Snowplow's resolver: registries in priority order (a Snowplow `iglu_resolver.json`:
   * static HTTP repositories such as Iglu Central, and local folders) and the schemas to take from them (by key, or
   * vendor/name for every version). A path to a resolution config file (JSON, the file `waymark schemas pull
   * --config` refreshes) or the config itself. Synth uses the lock folder (`schemas.lock/`, commit it with your
   * app) and touches the network only for schemas the lock lacks (never with `WAYMARK_OFFLINE=1`).
   * @default none: only the built-ins and `schemaFolders`
   */
  readonly resolver?: string | SchemaResolutionConfig;
  /** The project of the registry bucket. @default the provider's project */
  readonly projectId?: string;
  /** Prefix of resource names. @default 'waymark' */
  readonly namePrefix?: string;
  /** Name of the registry bucket (bucket names are global). @default `<projectId>-<namePrefix>-iglu` */
  readonly bucketName?: string;
  /** Location of the registry bucket: a region or a multi-region. @default 'US' */
  readonly location?: string;
  /**
   * Make the registry readable by anyone, like Iglu Central: other teams' pipelines and tools can then resolve your
   * schemas over HTTPS. Otherwise grant access with {@link SchemaRegistry.grantRead}.
   * @default false
   */
  readonly publicRead?: boolean;
  /** Labels of every resource that takes labels. @default none (plus managed-by: waymark) */
  readonly labels?: Readonly<Record<string, string>>;
}

/**
 * Loads and checks the registry at synth time and publishes it as a static Iglu registry: one object per schema
 * under `schemas/<vendor>/<name>/jsonschema/<M-R-A>` (content type application/json), so any Iglu resolver can use
 * {@link registryUrl} as a repository.
 *
 * ```ts
 * const registry = new SchemaRegistry(this, 'schemas', { projectId, schemaFolders: ['./schemas'] });
 * ```
 */
export class SchemaRegistry extends Construct {
  /** The parsed registry: every schema, built-ins first, with MODELs and their versions. */
  public readonly registry: Registry;
  /** Your schema folders, as absolute paths (the built-ins are always included besides). */
  public readonly schemaFolders: readonly string[];
  /** What the resolver resolved (its local folders and lock), when `resolver` is set. */
  public readonly resolution?: Resolution;
  /** The static registry bucket. */
  public readonly bucket: StorageBucket;
  /** One object per schema, by Iglu key. */
  public readonly objects: Readonly<Record<string, StorageBucketObject>>;
  /** The registry's HTTPS root, as an Iglu resolver's `http` repository URI takes it. */
  public readonly registryUrl: string;
  public readonly labels: Readonly<Record<string, string>>;

  private grants = 0;

  constructor(scope: Construct, id: string, props: SchemaRegistryProps = {}) {
    super(scope, id);
    validate(props);
    this.labels = constructLabels(NAME, props.labels);
    this.schemaFolders = (props.schemaFolders ?? []).map((f) => resolve(f));
    if (props.resolver !== undefined) {
      try {
        this.resolution = resolveForSynth(props.resolver, { offline: /^(1|true|yes)$/i.test(process.env.WAYMARK_OFFLINE ?? '') });
      } catch (error) {
        throw new PropError(NAME, 'resolver', `could not resolve the schemas. ${(error as Error).message}`);
      }
    }
    try {
      this.registry = loadRegistry([...this.schemaFolders, ...(this.resolution?.folders ?? [])]);
    } catch (error) {
      throw new PropError(NAME, 'schemaFolders', `holds invalid schemas. ${(error as Error).message}`);
    }

    const prefix = props.namePrefix ?? 'waymark';
    const projectId = props.projectId ?? new DataGoogleClientConfig(this, 'client').project;
    this.bucket = new StorageBucket(this, 'bucket', {
      project: props.projectId,
      name: props.bucketName ?? `${projectId}-${prefix}-iglu`,
      location: (props.location ?? 'US').toUpperCase(),
      uniformBucketLevelAccess: true,
      publicAccessPrevention: props.publicRead ? 'inherited' : 'enforced',
      // Every object is managed here (the registry is generated from your repository), so destroying the
      // bucket loses nothing that a deploy does not recreate.
      forceDestroy: true,
      versioning: { enabled: false },
      labels: this.labels,
    });
    if (props.publicRead) {
      new StorageBucketIamMember(this, 'public-read', { bucket: this.bucket.name, role: 'roles/storage.objectViewer', member: 'allUsers' });
    }

    const objects: Record<string, StorageBucketObject> = {};
    for (const schema of this.registry.schemas) {
      const path = `${schema.vendor}/${schema.name}/${schema.format}/${formatSchemaVer(schema.version)}`;
      const file = dataFile(`${schema.vendor}-${schema.name}-${formatSchemaVer(schema.version)}.json`, JSON.stringify(schema.schema, null, 2) + '\n');
      const staged = stageBundle(this, `schema-asset-${path}`.replace(/[^A-Za-z0-9-]+/g, '-'), file);
      objects[schema.key] = new StorageBucketObject(this, `schema-${path}`.replace(/[^A-Za-z0-9-]+/g, '-'), {
        bucket: this.bucket.name,
        name: `schemas/${path}`,
        source: staged.asset.path,
        contentType: 'application/json',
        // A schema key names one immutable schema, so caches may keep it (public registries only).
        cacheControl: props.publicRead ? 'public, max-age=3600' : 'private, max-age=0',
      });
    }
    this.objects = objects;
    this.registryUrl = `https://storage.googleapis.com/${this.bucket.name}`;
  }

  /** One entry per vendor/name/MODEL (the unit of a warehouse column). */
  public models(): readonly SchemaModel[] {
    return this.registry.models();
  }

  /** Lets `member` read the registry (`roles/storage.objectViewer` on the bucket). */
  public grantRead(member: string): StorageBucketIamMember {
    return new StorageBucketIamMember(this, `read-${this.grants++}`, { bucket: this.bucket.name, role: 'roles/storage.objectViewer', member });
  }
}

function validate(props: SchemaRegistryProps): void {
  if (props.projectId !== undefined) checkProjectId(NAME, 'projectId', props.projectId);
  if (props.namePrefix !== undefined) checkName(NAME, 'namePrefix', props.namePrefix, RFC1035);
  if (props.bucketName !== undefined) checkName(NAME, 'bucketName', props.bucketName, BUCKET_NAME);
  else if (props.projectId !== undefined) {
    const name = `${props.projectId}-${props.namePrefix ?? 'waymark'}-iglu`;
    if (name.length > 63) throw new PropError(NAME, 'namePrefix', `makes the bucket name '${name}' longer than 63 characters; choose a shorter prefix or set 'bucketName'`);
  }
  if (props.location !== undefined && !/^(us|eu|asia|nam4|eur4|asia1|eur5|eur7|eur8|us-central2)$/i.test(props.location)) {
    checkRegion(NAME, 'location', props.location, props.newRegions);
  }
  for (const folder of props.schemaFolders ?? []) {
    if (typeof folder !== 'string' || folder.trim() === '') throw new PropError(NAME, 'schemaFolders', 'must hold folder paths');
  }
}
