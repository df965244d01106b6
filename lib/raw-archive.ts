/**
 * The raw archive: every message of the raw topic, as it arrived, in a Cloud Storage bucket, written by a Pub/Sub
 * Cloud Storage subscription (no Dataflow). The files are the input of batch replays and backfills.
 */
import { Construct } from 'constructs';
import { TerraformProvider } from 'cdktf';
import { DataGoogleClientConfig } from '@cdktf/provider-google/lib/data-google-client-config';
import { PubsubSubscription } from '@cdktf/provider-google/lib/pubsub-subscription';
import { StorageBucket, StorageBucketLifecycleRule } from '@cdktf/provider-google/lib/storage-bucket';
import { StorageBucketIamMember } from '@cdktf/provider-google/lib/storage-bucket-iam-member';
import type { TopicReference } from './topics';
import { afterIamPropagation } from './private/iam-propagation';
import { constructLabels } from './private/labels';
import { resourceName } from './private/naming';
import { pubsubServiceAgent } from './private/service-agents';
import { BUCKET_NAME, checkInteger, checkName, checkProjectId, checkRegion, PropError, RFC1035 } from './private/validate';
import type { NewRegionsOption } from './private/regions';

const NAME = 'RawArchive';
const DAY_SECONDS = 86_400;
const MULTI_REGIONS = /^(US|EU|ASIA|NAM4|EUR4|ASIA1|EUR5|EUR7|EUR8)$/i;

/** Where the archive files go in the bucket: `raw/<YYYY-MM-DD>/<hh>_<mm>_<ss>Z_<id>.jsonl`. */
export const ARCHIVE_PREFIX = 'raw/';
/** Where the collector's bad rows go, when the bad topic is archived too. */
export const BAD_ARCHIVE_PREFIX = 'bad/';
/**
 * The Pub/Sub file name datetime format: a folder per UTC day, the file's time (hour, minute, second) first in its
 * name. The hour in a name groups the several files Pub/Sub writes within that hour; it is not an hourly file.
 */
export const ARCHIVE_DATETIME_FORMAT = 'YYYY-MM-DD/hh_mm_ssZ';

export interface RawArchiveProps extends NewRegionsOption {
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
  /**
   * Longest time a file stays open, in minutes (Pub/Sub allows 1-10): Pub/Sub finishes a file and starts a new one
   * at least this often, so this is also the longest delay before a message is in the archive. The archive holds
   * many small files (at least 6 per hour per writer at 10 minutes, more under load), not hourly files.
   * @default 10
   */
  readonly maxFileMinutes?: number;
  /** Days the subscription keeps messages it could not write yet (bucket unavailable, permissions). @default 7 */
  readonly retentionDays?: number;
  /** Refuse `terraform destroy` of the bucket and never delete its files through Terraform. @default true */
  readonly deletionProtection?: boolean;
  /** Labels of every resource that takes labels. @default none (plus managed-by: waymark) */
  readonly labels?: Readonly<Record<string, string>>;
  /** The google-beta provider (the Pub/Sub service agent is created there). @default the stack's unaliased google-beta provider */
  readonly betaProvider?: TerraformProvider;
}

/**
 * A bucket (uniform access, no public access, lifecycle to colder storage and optional deletion) fed by a Pub/Sub
 * Cloud Storage subscription on the raw topic. Files hold one message per line, exactly the message data the
 * enricher receives. Pub/Sub closes a file after at most `maxFileMinutes` (10 at most, the Cloud Storage
 * subscription's limit), so there is a new file every few minutes, several at a time under load, not one file an
 * hour. They are named `raw/<YYYY-MM-DD>/<hh>_<mm>_<ss>Z_<id>.jsonl` by UTC time of writing (not event time), so a
 * replay selects a day (`2025-03-01/*`), a month (`2025-03-*\/*`), an hour (`2025-03-01/13_*`: every file written in
 * that hour) or a range ({@link filesOfRange}).
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

    // The Pub/Sub service agent writes the files: it needs to create objects and read the bucket's metadata
    // (https://cloud.google.com/pubsub/docs/create-cloudstorage-subscription#assign_roles_cloudstorage). It may not
    // exist yet on a fresh project: created here, so the grants below wait for it.
    const serviceAgent = pubsubServiceAgent(this, 'pubsub-service-agent', NAME, project, props.betaProvider).member;
    const writer = [
      new StorageBucketIamMember(this, 'writer-object-creator', { bucket: this.bucket.name, role: 'roles/storage.objectCreator', member: serviceAgent }),
      new StorageBucketIamMember(this, 'writer-bucket-reader', { bucket: this.bucket.name, role: 'roles/storage.legacyBucketReader', member: serviceAgent }),
    ];

    const writerReady = afterIamPropagation(this, 'writer-iam-propagation', writer);
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
        // Pub/Sub checks its access to the bucket when the subscription is created: after the grants have propagated.
        dependsOn: [writerReady],
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

  /**
   * The `gs://` patterns of the archive files of a range of UTC days or hours, both ends included (see
   * {@link rangeGlobs}): the tightest set of globs, each selecting whole days or hours, none overlapping.
   */
  public filesOfRange(range: ArchiveRange): string[] {
    return rangeGlobs(NAME, 'range', range).map((glob) => `${this.archiveUri}${glob}`);
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

/** A range of the archive, both ends included: UTC days (`2025-03-01`) or UTC hours (`2025-03-01T13`), not mixed. */
export interface ArchiveRange {
  /** The first day or hour replayed. */
  readonly from: string;
  /** The last day or hour replayed (included). */
  readonly to: string;
}

interface Instant { readonly y: number; readonly m: number; readonly d: number; readonly h?: number }

const daysInMonth = (y: number, m: number): number => new Date(Date.UTC(y, m, 0)).getUTCDate();
const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

function parseInstant(construct: string, prop: string, value: unknown): Instant {
  const m = typeof value === 'string' ? /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}))?$/.exec(value) : null;
  if (m) {
    const [y, mo, d] = [+m[1], +m[2], +m[3]];
    const h = m[4] === undefined ? undefined : +m[4];
    if (y >= 1970 && mo >= 1 && mo <= 12 && d >= 1 && d <= daysInMonth(y, mo) && (h === undefined || h <= 23)) return { y, m: mo, d, h };
  }
  throw new PropError(construct, prop, `must be a UTC day such as '2025-03-01' or a UTC hour such as '2025-03-01T13', got '${String(value)}'`);
}

/**
 * Character-class patterns for the two-digit numbers a..b (both included) of a field whose values run from
 * `min` to `max`: one pattern per tens digit, whole tens merged (`0[5-9]`, `[1-2][0-9]`, `3[0-1]`). Values outside
 * min..max never occur, so a class may cover them.
 */
function twoDigitClasses(a: number, b: number, min: number, max: number): string[] {
  const out: string[] = [];
  let fullFrom: number | undefined;
  let fullTo = 0;
  const flush = (): void => {
    if (fullFrom === undefined) return;
    out.push(fullFrom === fullTo ? `${fullFrom}[0-9]` : `[${fullFrom}-${fullTo}][0-9]`);
    fullFrom = undefined;
  };
  for (let t = Math.floor(a / 10); t <= Math.floor(b / 10); t++) {
    const lo = Math.max(a, t * 10);
    const hi = Math.min(b, t * 10 + 9);
    if (lo <= Math.max(t * 10, min) && hi >= Math.min(t * 10 + 9, max)) {
      if (fullFrom === undefined) fullFrom = t;
      fullTo = t;
      continue;
    }
    flush();
    out.push(lo === hi ? pad(lo) : `${t}[${lo % 10}-${hi % 10}]`);
  }
  flush();
  return out;
}

/** Globs (below the archive prefix) of the whole days from..to, both included, `from <= to`. */
function dayRangeGlobs(from: Instant, to: Instant): string[] {
  const globs: string[] = [];
  const days = (y: number, m: number, a: number, b: number): void => {
    const end = daysInMonth(y, m);
    if (a === 1 && b === end) {
      globs.push(`${y}-${pad(m)}-*/*`);
      return;
    }
    for (const c of twoDigitClasses(a, b, 1, end)) globs.push(`${y}-${pad(m)}-${c}/*`);
  };
  const months = (y: number, a: number, b: number): void => {
    if (a === 1 && b === 12) {
      globs.push(`${y}-*/*`);
      return;
    }
    for (const c of twoDigitClasses(a, b, 1, 12)) globs.push(`${y}-${c}-*/*`);
  };
  /** Days from (y, m, d1) to (y, m2, d2) within one year. */
  const withinYear = (y: number, m1: number, d1: number, m2: number, d2: number): void => {
    if (m1 === m2) return days(y, m1, d1, d2);
    let first = m1;
    let last = m2;
    if (d1 !== 1) {
      days(y, m1, d1, daysInMonth(y, m1));
      first++;
    }
    const tail = d2 !== daysInMonth(y, m2);
    if (tail) last--;
    if (first <= last) months(y, first, last);
    if (tail) days(y, m2, 1, d2);
  };
  if (from.y === to.y) {
    withinYear(from.y, from.m, from.d, to.m, to.d);
  } else {
    withinYear(from.y, from.m, from.d, 12, 31);
    for (let y = from.y + 1; y < to.y; y++) globs.push(`${y}-*/*`);
    withinYear(to.y, 1, 1, to.m, to.d);
  }
  return globs;
}

/**
 * The tightest set of globs (below the archive prefix, `raw/`) selecting exactly the archive files of a range:
 * whole years (`2025-*\/*`), runs of whole months (`2025-0[3-7]-*\/*`), runs of days (`2025-03-[1-2][0-9]/*`) and,
 * for hour ranges, runs of hours of the first and last day (`2025-03-01/1[3-9]_*`). They use only `*` and `[...]`,
 * which Beam's Cloud Storage matching (the Dataflow templates' `inputFilePattern`) supports; it has no `{a,b}`
 * alternation, so a range that is not one aligned block needs several globs, one job each. Errors name
 * `<prop>.from`, `<prop>.to` or `<prop>`.
 */
export function rangeGlobs(construct: string, prop: string, range: ArchiveRange): string[] {
  if (range === null || typeof range !== 'object') throw new PropError(construct, prop, "must be { from, to }, e.g. { from: '2025-03-01', to: '2025-03-31' }");
  const from = parseInstant(construct, `${prop}.from`, range.from);
  const to = parseInstant(construct, `${prop}.to`, range.to);
  if ((from.h === undefined) !== (to.h === undefined)) {
    throw new PropError(construct, prop, `must give both ends as days or both as hours, got '${range.from}' and '${range.to}'`);
  }
  const key = (i: Instant): number => ((i.y * 100 + i.m) * 100 + i.d) * 100 + (i.h ?? 0);
  if (key(from) > key(to)) throw new PropError(construct, prop, `'from' (${range.from}) must not be after 'to' (${range.to})`);
  if (from.h === undefined || to.h === undefined) return dayRangeGlobs(from, to);

  const day = (i: Instant): string => `${i.y}-${pad(i.m)}-${pad(i.d)}`;
  const hours = (i: Instant, a: number, b: number): string[] =>
    a === 0 && b === 23 ? [`${day(i)}/*`] : twoDigitClasses(a, b, 0, 23).map((c) => `${day(i)}/${c}_*`);
  if (day(from) === day(to)) return hours(from, from.h, to.h);
  const next = new Date(Date.UTC(from.y, from.m - 1, from.d + 1));
  const previous = new Date(Date.UTC(to.y, to.m - 1, to.d - 1));
  const asInstant = (t: Date): Instant => ({ y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() });
  const middle = next.getTime() <= previous.getTime() ? dayRangeGlobs(asInstant(next), asInstant(previous)) : [];
  return [...hours(from, from.h, 23), ...middle, ...hours(to, 0, to.h)];
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
  if (props.location !== undefined && !MULTI_REGIONS.test(props.location)) checkRegion(NAME, 'location', props.location, props.newRegions);
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
