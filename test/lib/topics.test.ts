import { PubsubSubscription } from '@cdktf/provider-google/lib/pubsub-subscription';
import { PubsubTopic } from '@cdktf/provider-google/lib/pubsub-topic';
import { RawArchive } from '../../lib/raw-archive';
import { ClickstreamTopics, ClickstreamTopicsProps } from '../../lib/topics';
import { dataStack, grantedRoles, PRIMITIVE_ROLES, PROJECT, synth } from './fixtures/data-stack';

function make(props: ClickstreamTopicsProps = { projectId: PROJECT }) {
  const stack = dataStack();
  const topics = new ClickstreamTopics(stack, 'topics', props);
  return { stack, topics };
}

describe('ClickstreamTopics', () => {
  test('snapshot (Terraform addresses users\' state depends on)', () => {
    const { stack, topics } = make({ projectId: PROJECT, labels: { env: 'test' } });
    topics.addConsumerSubscription('fraud', { subscribers: ['serviceAccount:fraud@acme-analytics.iam.gserviceaccount.com'] });
    expect(synth(stack).text).toMatchSnapshot();
  });

  test('snapshot with enrichDeadLetter (the dead-letter resources\' addresses)', () => {
    const { stack } = make({ projectId: PROJECT, enrichDeadLetter: true });
    expect(synth(stack).text).toMatchSnapshot();
  });

  test('raw and bad topics keep messages for the retention period, labelled', () => {
    const { stack } = make({ projectId: PROJECT, retentionDays: 14, labels: { env: 'prod' } });
    const s = synth(stack);
    expect(s.text).toHaveResourceWithProperties(PubsubTopic, {
      name: 'waymark-raw',
      project: PROJECT,
      message_retention_duration: '1209600s',
      labels: { env: 'prod', 'managed-by': 'waymark' },
    });
    expect(s.text).toHaveResourceWithProperties(PubsubTopic, { name: 'waymark-bad', message_retention_duration: '1209600s' });
    expect(s.list('google_pubsub_topic').every((t) => t.labels['managed-by'] === 'waymark')).toBe(true);
    expect(s.list('google_pubsub_subscription').every((t) => t.labels['managed-by'] === 'waymark')).toBe(true);
  });

  const enrichOf = (s: ReturnType<typeof synth>) => s.list('google_pubsub_subscription').find((x) => x.name === 'waymark-enrich');

  test('the enrich subscription: ack deadline, retention, never expires; no retry or dead-letter policy by default (Dataflow supports neither)', () => {
    const { stack, topics } = make({ projectId: PROJECT, enrichAckDeadlineSeconds: 120 });
    const s = synth(stack);
    const enrich = enrichOf(s);
    expect(enrich).toMatchObject({
      name: 'waymark-enrich',
      ack_deadline_seconds: 120,
      message_retention_duration: '604800s',
      retain_acked_messages: false,
      expiration_policy: { ttl: '' },
    });
    expect(enrich.retry_policy).toBeUndefined();
    expect(enrich.dead_letter_policy).toBeUndefined();
    expect(enrich.topic).toMatch(/^\$\{google_pubsub_topic\.topics_raw_[0-9A-F]+\.id\}$/);
    expect(topics.enrichSubscription).toBeInstanceOf(PubsubSubscription);
    // No dead-letter topic, subscription or service-agent grant exists that nobody would read.
    expect(topics.deadLetterTopic).toBeUndefined();
    expect(topics.deadLetterSubscription).toBeUndefined();
    expect(s.list('google_pubsub_topic').map((t) => t.name).sort()).toEqual(['waymark-bad', 'waymark-raw']);
    expect(s.list('google_pubsub_subscription').map((t) => t.name)).toEqual(['waymark-enrich']);
    expect(grantedRoles(s.json)).toEqual([]);
  });

  test('enrichDeadLetter: retry policy and a dead-letter topic after N attempts (100 by default), the topic with its own subscription', () => {
    const defaults = enrichOf(synth(make({ projectId: PROJECT, enrichDeadLetter: true }).stack));
    expect(defaults.retry_policy).toEqual({ minimum_backoff: '10s', maximum_backoff: '600s' });
    expect(defaults.dead_letter_policy.max_delivery_attempts).toBe(100);
    const { stack, topics } = make({ projectId: PROJECT, enrichDeadLetter: true, retryMinimumBackoffSeconds: 5, retryMaximumBackoffSeconds: 300, maxDeliveryAttempts: 7, deadLetterRetentionDays: 3 });
    const s = synth(stack);
    const enrich = enrichOf(s);
    expect(enrich).toMatchObject({ retry_policy: { minimum_backoff: '5s', maximum_backoff: '300s' }, dead_letter_policy: { max_delivery_attempts: 7 } });
    expect(enrich.dead_letter_policy.dead_letter_topic).toMatch(/^\$\{google_pubsub_topic\.topics_dead-letter_[0-9A-F]+\.id\}$/);
    const dl = s.list('google_pubsub_subscription').find((x) => x.name === 'waymark-enrich-dead-letter');
    expect(dl).toMatchObject({ message_retention_duration: '259200s', expiration_policy: { ttl: '' } });
    expect(dl.topic).toMatch(/dead-letter_[0-9A-F]+\.id\}$/);
    expect(topics.deadLetterTopic).toBeInstanceOf(PubsubTopic);
    expect(topics.deadLetterSubscription).toBeInstanceOf(PubsubSubscription);
  });

  test('enrichDeadLetter loses nothing: a dead-lettered message is still in the raw archive, which subscribes to the raw topic itself', () => {
    const stack = dataStack();
    const topics = new ClickstreamTopics(stack, 'topics', { projectId: PROJECT, enrichDeadLetter: true });
    new RawArchive(stack, 'archive', { projectId: PROJECT, topic: topics.raw });
    const s = synth(stack);
    const archive = s.list('google_pubsub_subscription').find((x) => x.cloud_storage_config !== undefined);
    expect(archive.topic).toBe(enrichOf(s).topic);
    expect(archive.dead_letter_policy).toBeUndefined();
  });

  test('IAM with enrichDeadLetter: the Pub/Sub service agent may publish dead letters and acknowledge on the source subscription, nothing more', () => {
    const s = synth(make({ projectId: PROJECT, enrichDeadLetter: true }).stack);
    const roles = grantedRoles(s.json);
    expect(roles.map((r) => `${r.type} ${r.role}`).sort()).toEqual([
      'google_pubsub_subscription_iam_member roles/pubsub.subscriber',
      'google_pubsub_topic_iam_member roles/pubsub.publisher',
    ]);
    for (const r of roles) {
      // The agent may not exist yet on a fresh project: google_project_service_identity creates it before the grants.
      expect(r.member).toMatch(/^\$\{google_project_service_identity\.topics_pubsub-service-agent_[0-9A-F]+\.member\}$/);
    }
    const [sub] = s.list('google_pubsub_subscription_iam_member');
    expect(sub.subscription).toMatch(/topics_enrich_[0-9A-F]+\.name\}$/);
    const [pub] = s.list('google_pubsub_topic_iam_member');
    expect(pub.topic).toMatch(/topics_dead-letter_[0-9A-F]+\.name\}$/);
    expect(roles.some((r) => PRIMITIVE_ROLES.includes(r.role))).toBe(false);
  });

  test('each consumer gets its own subscription, optionally filtered, with subscriber grants on it only', () => {
    const { stack, topics } = make();
    const sub = topics.addConsumerSubscription('fraud', {
      filter: 'attributes.app_id = "shop"',
      ackDeadlineSeconds: 30,
      subscribers: ['serviceAccount:fraud@acme-analytics.iam.gserviceaccount.com'],
    });
    topics.addConsumerSubscription('audit', { topic: 'bad', retentionDays: 3 });
    const s = synth(stack);
    expect(sub).toBeInstanceOf(PubsubSubscription);
    const fraud = s.list('google_pubsub_subscription').find((x) => x.name === 'waymark-fraud');
    expect(fraud).toMatchObject({ filter: 'attributes.app_id = "shop"', ack_deadline_seconds: 30, expiration_policy: { ttl: '' } });
    expect(fraud.topic).toMatch(/topics_raw_[0-9A-F]+\.id\}$/);
    const audit = s.list('google_pubsub_subscription').find((x) => x.name === 'waymark-audit');
    expect(audit.topic).toMatch(/topics_bad_[0-9A-F]+\.id\}$/);
    expect(audit.message_retention_duration).toBe('259200s');
    const grant = s.list('google_pubsub_subscription_iam_member').find((x) => x.member.startsWith('serviceAccount:fraud@'));
    expect(grant).toMatchObject({ role: 'roles/pubsub.subscriber' });
    expect(grant.subscription).toMatch(/topics_consumer-fraud_[0-9A-F]+\.name\}$/);
    expect(topics.consumerSubscriptions.fraud).toBe(sub);
  });

  test('grantPublish gives publisher on both topics', () => {
    const { stack, topics } = make();
    topics.grantPublish('serviceAccount:collector@acme-analytics.iam.gserviceaccount.com');
    const grants = synth(stack).list('google_pubsub_topic_iam_member').filter((g) => g.member.startsWith('serviceAccount:collector@'));
    expect(grants.map((g) => g.role)).toEqual(['roles/pubsub.publisher', 'roles/pubsub.publisher']);
    expect(grants.map((g) => g.topic.replace(/_[0-9A-F]+\.name\}$/, '')).sort()).toEqual(['${google_pubsub_topic.topics_bad', '${google_pubsub_topic.topics_raw']);
  });

  test('existing topics are used instead of new ones', () => {
    const existing = { id: 'projects/acme-analytics/topics/legacy-raw', name: 'legacy-raw' };
    const { stack, topics } = make({ projectId: PROJECT, existingRawTopic: existing });
    const s = synth(stack);
    expect(topics.raw).toBe(existing);
    expect(s.list('google_pubsub_topic').map((t) => t.name).sort()).toEqual(['waymark-bad']);
    expect(s.list('google_pubsub_subscription').find((x) => x.name === 'waymark-enrich').topic).toBe(existing.id);
  });

  test('namePrefix names everything', () => {
    const s = synth(make({ namePrefix: 'shop-events', enrichDeadLetter: true }).stack);
    expect(s.list('google_pubsub_topic').map((t) => t.name).sort()).toEqual(['shop-events-bad', 'shop-events-enrich-dead-letter', 'shop-events-raw']);
  });

  test.each([
    [{ retentionDays: 0 }, "ClickstreamTopics: prop 'retentionDays' must be an integer between 1 and 31, got 0"],
    [{ retentionDays: 32 }, "prop 'retentionDays' must be an integer between 1 and 31"],
    [{ enrichAckDeadlineSeconds: 5 }, "prop 'enrichAckDeadlineSeconds' must be an integer between 10 and 600, got 5"],
    [{ enrichDeadLetter: true, maxDeliveryAttempts: 4 }, "prop 'maxDeliveryAttempts' must be an integer between 5 and 100, got 4"],
    [{ maxDeliveryAttempts: 10 }, "ClickstreamTopics: prop 'maxDeliveryAttempts' applies only with 'enrichDeadLetter: true' (off by default: Dataflow supports neither"],
    [{ retryMinimumBackoffSeconds: 10 }, "prop 'retryMinimumBackoffSeconds' applies only with 'enrichDeadLetter: true'"],
    [{ enrichDeadLetter: false, deadLetterRetentionDays: 3 }, "prop 'deadLetterRetentionDays' applies only with 'enrichDeadLetter: true'"],
    [{ enrichRetentionDays: 8 }, "prop 'enrichRetentionDays' must be an integer between 1 and 7, got 8"],
    [{ enrichDeadLetter: true, retryMinimumBackoffSeconds: 60, retryMaximumBackoffSeconds: 30 }, "prop 'retryMinimumBackoffSeconds' (60) must not exceed 'retryMaximumBackoffSeconds' (30)"],
    [{ namePrefix: 'Shop' }, "prop 'namePrefix' must be 1-63 characters"],
    [{ namePrefix: 'ab' }, "prop 'namePrefix' must have at least 3 characters"],
    [{ projectId: 'X' }, "prop 'projectId' must be a project id"],
    [{ labels: { Env: 'x' } }, "prop 'labels' has label key 'Env'"],
    [
      { existingRawTopic: { id: 'projects/p/topics/t', name: 't' }, existingBadTopic: { id: 'projects/p/topics/t', name: 't' } },
      "prop 'existingBadTopic' must differ from 'existingRawTopic'",
    ],
  ] as Array<[ClickstreamTopicsProps, string]>)('validation: %j', (props, message) => {
    expect(() => make(props)).toThrow(message);
  });

  test('addConsumerSubscription validates its options and ids', () => {
    const { topics } = make();
    expect(() => topics.addConsumerSubscription('x', { ackDeadlineSeconds: 1000 })).toThrow(
      "ClickstreamTopics: prop 'addConsumerSubscription('x').ackDeadlineSeconds' must be an integer between 10 and 600, got 1000",
    );
    expect(() => topics.addConsumerSubscription('y', { name: 'Bad Name' })).toThrow("prop 'addConsumerSubscription('y').name' must be 3-255 characters");
    topics.addConsumerSubscription('z');
    expect(() => topics.addConsumerSubscription('z')).toThrow("prop 'addConsumerSubscription('z')' was called twice with the same id");
  });
});
