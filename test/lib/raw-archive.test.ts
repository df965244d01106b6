import { TerraformOutput } from 'cdktf';
import { PubsubSubscription } from '@cdktf/provider-google/lib/pubsub-subscription';
import { rangeGlobs, RawArchive, RawArchiveProps } from '../../lib/raw-archive';
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
    // Pub/Sub checks its access to the bucket when it creates the subscription: after the grants have propagated.
    expect(sub.depends_on).toEqual([expect.stringMatching(/^time_sleep\.archive_writer-iam-propagation_[0-9A-F]+$/)]);
    const sleep = Object.values<any>(s.json.resource.time_sleep)[0];
    expect(sleep.depends_on.map((d: string) => d.split('.')[0])).toEqual(['google_storage_bucket_iam_member', 'google_storage_bucket_iam_member']);
  });

  test('a new file at least every maxFileMinutes (10 at most: files every few minutes, not hourly), within the ack deadline', () => {
    for (const [minutes, duration, ack] of [[undefined, '600s', 600], [3, '180s', 180], [1, '60s', 60]] as const) {
      const sub = synth(make(minutes === undefined ? {} : { maxFileMinutes: minutes }).stack).list('google_pubsub_subscription').find((x) => x.name === 'waymark-raw-archive');
      expect(sub.cloud_storage_config.max_duration).toBe(duration);
      // Pub/Sub refuses a max duration longer than the subscription's acknowledgement deadline.
      expect(sub.ack_deadline_seconds).toBe(ack);
      expect(sub.cloud_storage_config.max_bytes).toBeUndefined();
    }
    expect(() => make({ maxFileMinutes: 60 })).toThrow("RawArchive: prop 'maxFileMinutes' must be an integer between 1 and 10, got 60");
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
      // The agent comes from google_project_service_identity: created before it is granted, no project number read.
      expect(g.member).toMatch(/^\$\{google_project_service_identity\.archive_pubsub-service-agent_[0-9A-F]+\.member\}$/);
      expect(g.bucket).toMatch(/archive_bucket_[0-9A-F]+\.name\}$/);
    }
    expect(grantedRoles(s.json).some((r) => PRIMITIVE_ROLES.includes(r.role))).toBe(false);
    expect(Object.values<any>(s.json.resource.google_project_service_identity)).toEqual([{ provider: 'google-beta', project: 'acme-analytics', service: 'pubsub.googleapis.com' }]);
    expect(s.json.data?.google_project).toBeUndefined();
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

  /**
   * Beam's glob → regular expression for Cloud Storage (FileSystemUtils.wildcardToRegexp): '**' any characters, '*'
   * any but '/', '?' one but '/', '[...]' passed through as a class, '.+{}()|^$' literal (so no '{a,b}').
   */
  function beamGlob(glob: string): RegExp {
    let re = '';
    const src = glob.replace('**/*', '**');
    for (let i = 0; i < src.length; i++) {
      const c = src[i];
      if (c === '*') {
        if (src[i + 1] === '*') { re += '.*'; i++; } else re += '[^/]*';
      } else if (c === '?') re += '[^/]';
      else if ('.+{}()|^$'.includes(c)) re += `\\${c}`;
      else re += c;
    }
    return new RegExp(`^${re}$`);
  }

  const pad = (n: number) => String(n).padStart(2, '0');
  const dayOf = (t: number) => { const d = new Date(t); return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`; };
  const HOUR = 3_600_000;
  const DAY = 24 * HOUR;
  /** One archive file name below raw/ per hour (or per day) from start to end, as Pub/Sub names them. */
  function files(start: string, end: string, step: number): Array<{ name: string; t: number }> {
    const out: Array<{ name: string; t: number }> = [];
    for (let t = Date.parse(`${start}T00:00:00Z`); t <= Date.parse(`${end}T23:00:00Z`); t += step) {
      out.push({ name: `${dayOf(t)}/${pad(new Date(t).getUTCHours())}_17_03Z_1a2b.jsonl`, t });
    }
    return out;
  }
  /** Every file inside the range is matched by exactly one glob (no file replayed twice), every file outside by none. */
  function expectExact(from: string, to: string, all: Array<{ name: string; t: number }>): string[] {
    const globs = rangeGlobs('RawArchive', 'range', { from, to });
    const regexes = globs.map(beamGlob);
    const hours = from.includes('T');
    const lo = Date.parse(hours ? `${from}:00:00Z` : `${from}T00:00:00Z`);
    const hi = Date.parse(hours ? `${to}:00:00Z` : `${to}T00:00:00Z`) + (hours ? HOUR : DAY);
    for (const f of all) {
      const matches = regexes.filter((r) => r.test(f.name)).length;
      const inside = f.t >= lo && f.t < hi;
      if (matches !== (inside ? 1 : 0)) throw new Error(`range ${from}..${to}, globs ${JSON.stringify(globs)}: ${f.name} matched ${matches} times`);
    }
    return globs;
  }

  test('rangeGlobs: the tightest globs, character classes for runs of months, days and hours', () => {
    const g = (from: string, to: string) => rangeGlobs('RawArchive', 'range', { from, to });
    expect(g('2025-03-01', '2025-03-01')).toEqual(['2025-03-01/*']);
    expect(g('2025-03-01', '2025-03-31')).toEqual(['2025-03-*/*']);
    expect(g('2025-01-01', '2025-12-31')).toEqual(['2025-*/*']);
    expect(g('2025-03-05', '2025-04-12')).toEqual(['2025-03-0[5-9]/*', '2025-03-[1-3][0-9]/*', '2025-04-0[0-9]/*', '2025-04-1[0-2]/*']);
    expect(g('2025-02-01', '2025-06-30')).toEqual(['2025-0[2-6]-*/*']);
    expect(g('2024-12-31', '2026-01-01')).toEqual(['2024-12-31/*', '2025-*/*', '2026-01-01/*']);
    expect(g('2025-03-01T13', '2025-03-01T13')).toEqual(['2025-03-01/13_*']);
    expect(g('2025-03-01T06', '2025-03-01T17')).toEqual(['2025-03-01/0[6-9]_*', '2025-03-01/1[0-7]_*']);
    expect(g('2025-03-01T22', '2025-03-03T05')).toEqual(['2025-03-01/2[2-3]_*', '2025-03-02/*', '2025-03-03/0[0-5]_*']);
    expect(g('2025-03-01T00', '2025-03-01T23')).toEqual(['2025-03-01/*']);
  });

  test('rangeGlobs select exactly the files of the range under Beam\'s Cloud Storage glob matching (fixed and 300 random ranges)', () => {
    const daily = files('2023-11-01', '2026-02-28', DAY);
    const fixedDays: Array<[string, string]> = [
      ['2024-02-28', '2024-03-01'], ['2024-02-01', '2024-02-29'], ['2023-12-31', '2024-01-01'], ['2023-11-01', '2026-02-28'],
      ['2024-01-01', '2025-12-31'], ['2024-03-30', '2024-03-31'], ['2025-04-30', '2025-05-01'], ['2024-09-10', '2024-09-29'],
    ];
    for (const [from, to] of fixedDays) expectExact(from, to, daily);
    let seed = 7;
    const random = (n: number) => { seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31; return seed % n; };
    let most = 0;
    for (let i = 0; i < 200; i++) {
      const a = random(daily.length);
      const b = a + random(Math.min(400, daily.length - a));
      most = Math.max(most, expectExact(dayOf(daily[a].t), dayOf(daily[b].t), daily).length);
    }
    // At most: days, tens of days and months on each side, and whole years between.
    expect(most).toBeLessThanOrEqual(12);
    const hourly = files('2024-02-26', '2024-03-04', HOUR).concat(files('2024-12-30', '2025-01-02', HOUR));
    const hourOf = (t: number) => `${dayOf(t)}T${pad(new Date(t).getUTCHours())}`;
    for (const [from, to] of [['2024-02-28T23', '2024-03-01T00'], ['2024-12-31T20', '2025-01-01T03'], ['2024-02-27T00', '2024-03-03T23']]) expectExact(from, to, hourly);
    for (let i = 0; i < 100; i++) {
      const a = random(hourly.length);
      const b = a + random(Math.min(100, hourly.length - a));
      if (hourly[b].t - hourly[a].t > 10 * DAY) continue; // the two windows are apart
      expectExact(hourOf(hourly[a].t), hourOf(hourly[b].t), hourly);
    }
  });

  test('filesOfRange: the range\'s globs under the archive URI; bad ranges name the prop', () => {
    const { archive } = make({ bucketName: 'acme-raw' });
    const uris = archive.filesOfRange({ from: '2025-03-30', to: '2025-04-02' });
    expect(uris.every((u) => u.startsWith(`${archive.archiveUri}`))).toBe(true);
    // March 30-31 is the whole tens 3 of March: one class covers it.
    expect(uris.map((u) => u.slice(archive.archiveUri.length))).toEqual(['2025-03-3[0-9]/*', '2025-04-0[1-2]/*']);
    expect(() => archive.filesOfRange({ from: '2025-04-31', to: '2025-05-01' })).toThrow("RawArchive: prop 'range.from' must be a UTC day such as '2025-03-01' or a UTC hour such as '2025-03-01T13', got '2025-04-31'");
    expect(() => archive.filesOfRange({ from: '2025-05-01', to: '2025-04-30' })).toThrow("RawArchive: prop 'range' 'from' (2025-05-01) must not be after 'to' (2025-04-30)");
    expect(() => archive.filesOfRange({ from: '2025-05-01T24', to: '2025-05-02T01' })).toThrow("prop 'range.from' must be a UTC day");
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
