/**
 * The raw archive: every message of the raw topic, as it arrived, in a Cloud Storage bucket, written by a Pub/Sub
 * Cloud Storage subscription (no Dataflow). The files are the input of batch replays and backfills.
 */
import { Construct } from 'constructs';
import { DataGoogleClientConfig } from '@cdktf/provider-google/lib/data-google-client-config';
import { DataGoogleProject } from '@cdktf/provider-google/lib/data-google-project';
import { PubsubSubscription } from '@cdktf/provider-google/lib/pubsub-subscription';
import { StorageBucket, StorageBucketLifecycleRule } from '@cdktf/provider-google/lib/storage-bucket';
import { StorageBucketIamMember } from '@cdktf/provider-google/lib/storage-bucket-iam-member';
import type { TopicReference } from './topics';
import { constructLabels } from './private/labels';
import { resourceName } from './private/naming';
import { BUCKET_NAME, checkInteger, checkName, checkProjectId, checkRegion, PropError, RFC1035 } from './private/validate';

const NAME = 'RawArchive';
const DAY_SECONDS = 86_400;
const MULTI_REGIONS = /^(US|EU|ASIA|NAM4|EUR4|ASIA1|EUR5|EUR7|EUR8)$/i;

/** Where the archive files go in the bucket: `raw/<YYYY-MM-DD>/<hh>_<mm>_<ss>Z_<id>.jsonl`. */
export const ARCHIVE_PREFIX = 'raw/';
/** Where the collector's bad rows go, when the bad topic is archived too. */
export const BAD_ARCHIVE_PREFIX = 'bad/';
/** The Pub/Sub file name datetime format: a folder per day, the hour first in the name. */
export const ARCHIVE_DATETIME_FORMAT = 'YYYY-MM-DD/hh_mm_ssZ';

export interface RawArchiveProps {
  /** The topic to archive: the raw topic (`topics.raw`). */
  readonly topic: TopicReference;
  /**
   * Also archive this topic, under `bad/`: the collector's bad rows (`topics.bad`: oversized or malformed
   * requests), which no enricher reads and which would otherwise live only as long as the topic's retention.
   * @default the bad rows are not archived
   */
  readonly badTopic?: TopicReference;
  /** The project of the bucket and subscription. @default the provider's project */
  readonly projectId?: string;
  /** Prefix of resource names. @default 'waymark' */
  readonly namePrefix?: string;
  /** The bucket name (bucket names are global). @default `<projectId>-<namePrefix>-raw-archive` */
  readonly bucketName?: string;
  /** The bucket location: a region or a multi-region. Keep it where the batch enricher runs. @default 'US' */
  readonly location?: string;
  /** Days after which files move to Nearline storage; false keeps them in Standard. @default 30 */
  readonly nearlineAfterDays?: number | false;
  /** Days after which files move to Coldline storage; false skips Coldline. @default 90 */
  readonly coldlineAfterDays?: number | false;
  /** Days after which files move to Archive storage; false skips Archive. @default 365 */
  readonly archiveAfterDays?: number | false;
  /**
   * Days after which files are deleted. The archive holds personal data (IP addresses, user ids): set the
   * retention your privacy policy promises.
   * @default never deleted
   */
  readonly deleteAfterDays?: number;
  /** Longest time a file stays open, in minutes (Pub/Sub allows 1-10): the delay before data is in the archive. @default 10 */
  readonly maxFileMinutes?: number;
  /** Days the subscription keeps messages it could not write yet (bucket unavailable, permissions). @default 7 */
  readonly retentionDays?: number;
  /** Refuse `terraform destroy` of the bucket and never delete its files through Terraform. @default true */
  readonly deletionProtection?: boolean;
  /** Labels of every resource that takes labels. @default none (plus managed-by: waymark) */
  readonly labels?: Readonly<Record<string, string>>;
}

/**
 * A bucket (uniform access, no public access, lifecycle to colder storage and optional deletion) fed by a Pub/Sub
 * Cloud Storage subscription on the raw topic. Files hold one message per line, exactly the message data the
 * enricher receives, in a folder per day with the hour leading the file name, so a replay selects a day
 * (`2025-03-01/*`), a month (`2025-03-*\/*`) or an hour (`2025-03-01/13_*`).
 */
export class RawArchive extends Construct {
  public readonly bucket: StorageBucket;
  /** The Cloud Storage subscription on the raw topic. */
  public readonly subscription: PubsubSubscription;
  /** The Cloud Storage subscription on the bad topic (with `badTopic`). */
  public readonly badSubscription?: PubsubSubscription;
  /** `gs://<bucket>/raw/`: every archive file is below it. */
  public readonly archiveUri: string;
  public readonly labels: Readonly<Record<string, string>>;

  private grants = 0;

  constructor(scope: Construct, id: string, props: RawArchiveProps) {
    super(scope, id);
    validate(props);
    this.labels = constructLabels(NAME, props.labels);
    const project = props.projectId;
    const prefix = props.namePrefix ?? 'waymark';
    const projectId = props.projectId ?? new DataGoogleClientConfig(this, 'client').project;
    const protect = props.deletionProtection ?? true;

    this.bucket = new StorageBucket(this, 'bucket', {
      project,
      name: props.bucketName ?? `${projectId}-${prefix}-raw-archive`,
      location: (props.location ?? 'US').toUpperCase(),
      storageClass: 'STANDARD',
      uniformBucketLevelAccess: true,
      publicAccessPrevention: 'enforced',
      versioning: { enabled: false },
      forceDestroy: !protect,
      lifecycleRule: lifecycleRules(props),
      labels: this.labels,
      lifecycle: protect ? { preventDestroy: true } : undefined,
    });

    // The Pub/Sub service agent writes the files: it needs to create objects and read the bucket's metadata.
    const projectNumber = new DataGoogleProject(this, 'project', { projectId: project }).number;
    const serviceAgent = `serviceAccount:service-${projectNumber}@gcp-sa-pubsub.iam.gserviceaccount.com`;
    const writer = [
      new StorageBucketIamMember(this, 'writer-object-creator', { bucket: this.bucket.name, role: 'roles/storage.objectCreator', member: serviceAgent }),
      new StorageBucketIamMember(this, 'writer-bucket-reader', { bucket: this.bucket.name, role: 'roles/storage.legacyBucketReader', member: serviceAgent }),
    ];

    const maxFileSeconds = (props.maxFileMinutes ?? 10) * 60;
    const archiveSubscription = (subscriptionId: string, name: string, topic: TopicReference, filenamePrefix: string): PubsubSubscription =>
      new PubsubSubscription(this, subscriptionId, {
        project,
        name: resourceName([prefix, name], 255),
        topic: topic.id,
        // A file stays open up to maxDuration, and its messages stay unacknowledged until it is written.
        ackDeadlineSeconds: Math.max(maxFileSeconds, 60),
        messageRetentionDuration: `${(props.retentionDays ?? 7) * DAY_SECONDS}s`,
        expirationPolicy: { ttl: '' },
        cloudStorageConfig: {
          bucket: this.bucket.name,
          filenamePrefix,
          filenameDatetimeFormat: ARCHIVE_DATETIME_FORMAT,
          filenameSuffix: '.jsonl',
          maxDuration: `${maxFileSeconds}s`,
        },
        labels: this.labels,
        // Pub/Sub checks its access to the bucket when the subscription is created.
        dependsOn: writer,
      });
    this.subscription = archiveSubscription('subscription', 'raw-archive', props.topic, ARCHIVE_PREFIX);
    if (props.badTopic !== undefined) this.badSubscription = archiveSubscription('bad-subscription', 'bad-archive', props.badTopic, BAD_ARCHIVE_PREFIX);
    this.archiveUri = `gs://${this.bucket.name}/${ARCHIVE_PREFIX}`;
  }

  /**
   * The `gs://` pattern of the archive files of a period: a day `2025-03-01`, a month `2025-03`, a year `2025`, or an
   * hour `2025-03-01T13` (UTC, by the time Pub/Sub wrote the file).
   */
  public filesOf(period: string): string {
    return `${this.archiveUri}${periodGlob(NAME, 'period', period)}`;
  }

  /** Lets `member` read the archive (`roles/storage.objectViewer` on the bucket). */
  public grantRead(member: string): StorageBucketIamMember {
    return new StorageBucketIamMember(this, `read-${this.grants++}`, { bucket: this.bucket.name, role: 'roles/storage.objectViewer', member });
  }
}

/** The glob below the archive prefix for a period (day, month, year or hour). */
export function periodGlob(construct: string, prop: string, period: string): string {
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}))?)?)?$/.exec(period);
  const valid = m !== null && (m[2] === undefined || (+m[2] >= 1 && +m[2] <= 12)) && (m[3] === undefined || (+m[3] >= 1 && +m[3] <= 31)) && (m[4] === undefined || +m[4] <= 23);
  if (!m || !valid) {
    throw new PropError(construct, prop, `must be a UTC day '2025-03-01', month '2025-03', year '2025' or hour '2025-03-01T13', got '${period}'`);
  }
  if (m[4] !== undefined) return `${m[1]}-${m[2]}-${m[3]}/${m[4]}_*`;
  if (m[3] !== undefined) return `${m[1]}-${m[2]}-${m[3]}/*`;
  if (m[2] !== undefined) return `${m[1]}-${m[2]}-*/*`;
  return `${m[1]}-*/*`;
}

function lifecycleRules(props: RawArchiveProps): StorageBucketLifecycleRule[] {
  const rules: StorageBucketLifecycleRule[] = [];
  const transitions: Array<[string, number | false]> = [
    ['NEARLINE', props.nearlineAfterDays ?? 30],
    ['COLDLINE', props.coldlineAfterDays ?? 90],
    ['ARCHIVE', props.archiveAfterDays ?? 365],
  ];
  for (const [storageClass, age] of transitions) {
    if (age !== false) rules.push({ action: { type: 'SetStorageClass', storageClass }, condition: { age } });
  }
  if (props.deleteAfterDays !== undefined) rules.push({ action: { type: 'Delete' }, condition: { age: props.deleteAfterDays } });
  return rules;
}

function validate(props: RawArchiveProps): void {
  if (props.topic === undefined) throw new PropError(NAME, 'topic', 'is required: pass the raw topic (topics.raw)');
  if (props.badTopic !== undefined && props.badTopic.id === props.topic.id) throw new PropError(NAME, 'badTopic', "must differ from 'topic': both would be archived twice");
  if (props.projectId !== undefined) checkProjectId(NAME, 'projectId', props.projectId);
  if (props.namePrefix !== undefined) checkName(NAME, 'namePrefix', props.namePrefix, RFC1035);
  if (props.bucketName !== undefined) checkName(NAME, 'bucketName', props.bucketName, BUCKET_NAME);
  else if (props.projectId !== undefined) {
    const name = `${props.projectId}-${props.namePrefix ?? 'waymark'}-raw-archive`;
    if (name.length > 63) throw new PropError(NAME, 'namePrefix', `makes the bucket name '${name}' longer than 63 characters; choose a shorter prefix or set 'bucketName'`);
  }
  if (props.location !== undefined && !MULTI_REGIONS.test(props.location)) checkRegion(NAME, 'location', props.location);
  let previous = 0;
  let previousProp = '';
  for (const prop of ['nearlineAfterDays', 'coldlineAfterDays', 'archiveAfterDays', 'deleteAfterDays'] as const) {
    const defaults = { nearlineAfterDays: 30, coldlineAfterDays: 90, archiveAfterDays: 365, deleteAfterDays: undefined };
    const value = props[prop] === undefined ? defaults[prop] : props[prop];
    if (value === undefined || value === false) continue;
    checkInteger(NAME, prop, value, 1, 36_500);
    // Cloud Storage bills a minimum storage duration per class (30, 90, 365 days): moving earlier costs more.
    if (value <= previous) throw new PropError(NAME, prop, `(${value}) must be greater than '${previousProp}' (${previous})`);
    previous = value;
    previousProp = prop;
  }
  checkInteger(NAME, 'maxFileMinutes', props.maxFileMinutes ?? 10, 1, 10);
  checkInteger(NAME, 'retentionDays', props.retentionDays ?? 7, 1, 7);
}
