import { TerraformOutput } from 'cdktf';
import { PubsubSubscription } from '@cdktf/provider-google/lib/pubsub-subscription';
import { RawArchive, RawArchiveProps } from '../../lib/raw-archive';
import { ClickstreamTopics } from '../../lib/topics';
import { dataStack, grantedRoles, PRIMITIVE_ROLES, PROJECT, synth } from './fixtures/data-stack';

function make(props: Partial<RawArchiveProps> = {}) {
  const stack = dataStack();
  const topics = new ClickstreamTopics(stack, 'topics', { projectId: PROJECT });
  const archive = new RawArchive(stack, 'archive', { topic: topics.raw, projectId: PROJECT, location: 'europe-west1', ...props });
  return { stack, topics, archive };
}

const bucket = (s: ReturnType<typeof synth>) => s.list('google_storage_bucket').find((b) => b.name.endsWith('raw-archive'));

describe('RawArchive', () => {
  test('snapshot', () => {
    expect(synth(make({ labels: { env: 'test' } }).stack).text).toMatchSnapshot();
  });

  test('a Cloud Storage subscription on the raw topic writes date-prefixed files, a folder per day, the hour first', () => {
    const s = synth(make().stack);
    expect(s.text).toHaveResourceWithProperties(PubsubSubscription, { name: 'waymark-raw-archive', ack_deadline_seconds: 600 });
    expect(s.list('google_pubsub_subscription').find((x) => x.name === 'waymark-raw-archive')).toMatchObject({
      expiration_policy: { ttl: '' },
      message_retention_duration: '604800s',
      cloud_storage_config: {
        filename_prefix: 'raw/',
        filename_datetime_format: 'YYYY-MM-DD/hh_mm_ssZ',
        filename_suffix: '.jsonl',
        max_duration: '600s',
      },
    });
    const sub = s.list('google_pubsub_subscription').find((x) => x.name === 'waymark-raw-archive');
    expect(sub.topic).toMatch(/topics_raw_[0-9A-F]+\.id\}$/);
    expect(sub.cloud_storage_config.bucket).toMatch(/archive_bucket_[0-9A-F]+\.name\}$/);
    // Text files, message data only: exactly what the enricher's UDF receives.
    expect(sub.cloud_storage_config.avro_config).toBeUndefined();
    expect(sub.depends_on).toHaveLength(2);
  });

  test('badTopic: the collector\'s bad rows are archived too, under bad/', () => {
    const stack = dataStack();
    const topics = new ClickstreamTopics(stack, 'topics', { projectId: PROJECT });
    const archive = new RawArchive(stack, 'archive', { topic: topics.raw, badTopic: topics.bad, projectId: PROJECT });
    const s = synth(stack);
    const bad = s.list('google_pubsub_subscription').find((x) => x.name === 'waymark-bad-archive');
    expect(bad.topic).toMatch(/topics_bad_[0-9A-F]+\.id\}$/);
    expect(bad.cloud_storage_config).toMatchObject({ filename_prefix: 'bad/', filename_datetime_format: 'YYYY-MM-DD/hh_mm_ssZ' });
    expect(bad.cloud_storage_config.bucket).toMatch(/archive_bucket_[0-9A-F]+\.name\}$/);
    expect(archive.badSubscription).toBeDefined();
    expect(make().archive.badSubscription).toBeUndefined();
  });

  test('bucket: uniform access, private, lifecycle to colder storage, deletion-protected, labelled', () => {
    const s = synth(make({ deleteAfterDays: 730, labels: { env: 'prod' } }).stack);
    expect(bucket(s)).toMatchObject({
      name: 'acme-analytics-waymark-raw-archive',
      location: 'EUROPE-WEST1',
      storage_class: 'STANDARD',
      uniform_bucket_level_access: true,
      public_access_prevention: 'enforced',
      force_destroy: false,
      lifecycle: { prevent_destroy: true },
      labels: { env: 'prod', 'managed-by': 'waymark' },
      lifecycle_rule: [
        { action: { type: 'SetStorageClass', storage_class: 'NEARLINE' }, condition: { age: 30 } },
        { action: { type: 'SetStorageClass', storage_class: 'COLDLINE' }, condition: { age: 90 } },
        { action: { type: 'SetStorageClass', storage_class: 'ARCHIVE' }, condition: { age: 365 } },
        { action: { type: 'Delete' }, condition: { age: 730 } },
      ],
    });
  });

  test('ages are configurable and classes can be skipped; no deletion unless asked', () => {
    const s = synth(make({ nearlineAfterDays: false, coldlineAfterDays: 60, archiveAfterDays: false }).stack);
    expect(bucket(s).lifecycle_rule).toEqual([{ action: { type: 'SetStorageClass', storage_class: 'COLDLINE' }, condition: { age: 60 } }]);
  });

  test('deletionProtection: false lets Terraform empty and delete the bucket', () => {
    const b = bucket(synth(make({ deletionProtection: false }).stack));
    expect(b.force_destroy).toBe(true);
    expect(b.lifecycle).toBeUndefined();
  });

  test('IAM: only the Pub/Sub service agent writes (object creator + bucket reader); grantRead is object viewer', () => {
    const { stack, archive } = make();
    archive.grantRead('serviceAccount:replay@acme-analytics.iam.gserviceaccount.com');
    const s = synth(stack);
    const onBucket = s.list('google_storage_bucket_iam_member');
    expect(onBucket.map((g) => g.role).sort()).toEqual(['roles/storage.legacyBucketReader', 'roles/storage.objectCreator', 'roles/storage.objectViewer']);
    for (const g of onBucket.filter((x) => x.role !== 'roles/storage.objectViewer')) {
      expect(g.member).toMatch(/^serviceAccount:service-\$\{data\.google_project\.archive_project_[0-9A-F]+\.number\}@gcp-sa-pubsub\.iam\.gserviceaccount\.com$/);
      expect(g.bucket).toMatch(/archive_bucket_[0-9A-F]+\.name\}$/);
    }
    expect(grantedRoles(s.json).some((r) => PRIMITIVE_ROLES.includes(r.role))).toBe(false);
  });

  test('filesOf selects a day, a month, a year or an hour', () => {
    const { stack, archive } = make({ bucketName: 'acme-raw' });
    const periods = ['2025-03-01', '2025-03', '2025', '2025-03-01T07'];
    periods.forEach((p, i) => new TerraformOutput(stack, `p${i}`, { value: archive.filesOf(p) }));
    const out = synth(stack).json.output;
    const prefix = 'gs://${google_storage_bucket.archive_bucket_' + out.p0.value.split('archive_bucket_')[1].split('.')[0] + '.name}/raw/';
    expect(periods.map((_, i) => out[`p${i}`].value)).toEqual([
      `${prefix}2025-03-01/*`, `${prefix}2025-03-*/*`, `${prefix}2025-*/*`, `${prefix}2025-03-01/07_*`,
    ]);
    expect(() => archive.filesOf('2025-13')).toThrow("RawArchive: prop 'period' must be a UTC day '2025-03-01', month '2025-03', year '2025' or hour '2025-03-01T13', got '2025-13'");
    expect(() => archive.filesOf('March')).toThrow("prop 'period' must be a UTC day");
  });

  test.each([
    [{ maxFileMinutes: 11 }, "RawArchive: prop 'maxFileMinutes' must be an integer between 1 and 10, got 11"],
    [{ retentionDays: 8 }, "prop 'retentionDays' must be an integer between 1 and 7, got 8"],
    [{ nearlineAfterDays: 120 }, "RawArchive: prop 'coldlineAfterDays' (90) must be greater than 'nearlineAfterDays' (120)"],
    [{ deleteAfterDays: 100 }, "RawArchive: prop 'deleteAfterDays' (100) must be greater than 'archiveAfterDays' (365)"],
    [{ deleteAfterDays: 0 }, "prop 'deleteAfterDays' must be an integer between 1 and 36500, got 0"],
    [{ bucketName: 'No' }, "RawArchive: prop 'bucketName' must be 3-63 characters"],
    [{ location: 'moon' }, "RawArchive: prop 'location' must be a Google Cloud region"],
    [{ namePrefix: 'a-much-longer-prefix-that-overflows-it' }, "RawArchive: prop 'namePrefix' makes the bucket name"],
    [{ topic: undefined as any }, "RawArchive: prop 'topic' is required"],
    [{ badTopic: { id: 'projects/p/topics/waymark-raw', name: 'waymark-raw' }, topic: { id: 'projects/p/topics/waymark-raw', name: 'waymark-raw' } }, "RawArchive: prop 'badTopic' must differ from 'topic'"],
  ] as Array<[Partial<RawArchiveProps>, string]>)('validation: %j', (props, message) => {
    expect(() => make(props)).toThrow(message);
  });
});
