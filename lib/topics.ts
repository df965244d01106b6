/**
 * The Pub/Sub side of a Waymark pipeline: the `raw` topic the collector publishes CollectorPayloads to, the `bad`
 * topic for the collector's bad rows, the `enrich` subscription the streaming enricher reads, and one subscription
 * per further consumer.
 *
 * Dead-letter topic and retry policy on the enrich subscription: off by default, opt in with `enrichDeadLetter`.
 * Dataflow does not support them (https://cloud.google.com/pubsub/docs/handling-failures: "these features are not
 * supported by Dataflow"): Dataflow acknowledges a message once it has durably persisted it, whatever the enrichment
 * then does, so a bad event never comes back as a redelivery (the enricher writes it to the dead-letter table
 * instead). What Pub/Sub counts as failed deliveries under Dataflow are lease expiries during stalls, drains and
 * job updates: valid events, which a dead-letter policy would move away from the enricher. Opt in only for another
 * reader of the subscription that nacks; nothing is lost then either (see `enrichDeadLetter`).
 */
import { Construct } from 'constructs';
import { TerraformProvider } from 'cdktf';
import { PubsubSubscription } from '@cdktf/provider-google/lib/pubsub-subscription';
import { PubsubSubscriptionIamMember } from '@cdktf/provider-google/lib/pubsub-subscription-iam-member';
import { PubsubTopic } from '@cdktf/provider-google/lib/pubsub-topic';
import { PubsubTopicIamMember } from '@cdktf/provider-google/lib/pubsub-topic-iam-member';
import { constructLabels } from './private/labels';
import { resourceName } from './private/naming';
import { pubsubServiceAgent } from './private/service-agents';
import { checkInteger, checkName, checkProjectId, PropError, RFC1035 } from './private/validate';

const NAME = 'ClickstreamTopics';
const DAY_SECONDS = 86_400;

/** A Pub/Sub topic: a `PubsubTopic` or any object with its id and name. */
export interface TopicReference {
  /** `projects/<project>/topics/<name>`. */
  readonly id: string;
  readonly name: string;
}

export interface ClickstreamTopicsProps {
  /** The project of the topics and subscriptions. @default the provider's project */
  readonly projectId?: string;
  /** Prefix of every resource name (`<prefix>-raw`, `<prefix>-bad`, `<prefix>-enrich`, ...). @default 'waymark' */
  readonly namePrefix?: string;
  /**
   * Days the raw and bad topics keep every message, acknowledged or not, so that any subscription can seek back
   * (replay after a faulty enrichment release). Pub/Sub allows 1 to 31.
   * @default 7
   */
  readonly retentionDays?: number;
  /** Use this topic as the raw topic instead of creating one. @default a new topic `<prefix>-raw` */
  readonly existingRawTopic?: TopicReference;
  /** Use this topic as the bad topic instead of creating one. @default a new topic `<prefix>-bad` */
  readonly existingBadTopic?: TopicReference;
  /**
   * Seconds the enricher has to acknowledge a message before Pub/Sub redelivers it (10-600). Dataflow extends
   * deadlines of messages it holds, so this only bounds how fast a crashed worker's messages come back.
   * @default 60
   */
  readonly enrichAckDeadlineSeconds?: number;
  /** Days the enrich subscription keeps unacknowledged messages (1-7): how long the enricher may be down without loss. @default 7 */
  readonly enrichRetentionDays?: number;
  /**
   * Give the enrich subscription an exponential retry policy and a dead-letter topic after `maxDeliveryAttempts`.
   * Leave it off for the Dataflow enricher, which does not support either (see the module comment): valid events
   * delayed by a stalled or draining job would be dead-lettered. Turn it on only when something else reads the
   * subscription and nacks what it cannot process. Nothing is lost when it is on: the dead-letter topic has its own
   * subscription (`deadLetterRetentionDays`), and the raw archive (`RawArchive`, on by default in
   * `ClickstreamPipeline`) subscribes to the raw topic itself, so every dead-lettered message is also in the archive
   * and can be replayed with a `BatchEnricher`.
   * @default false
   */
  readonly enrichDeadLetter?: boolean;
  /** With `enrichDeadLetter`: shortest wait before a message is redelivered, seconds (0-600). @default 10 */
  readonly retryMinimumBackoffSeconds?: number;
  /** With `enrichDeadLetter`: longest wait before a message is redelivered, seconds (0-600). @default 600 */
  readonly retryMaximumBackoffSeconds?: number;
  /**
   * With `enrichDeadLetter`: deliveries of one message (1 + nacks + expired acknowledgement deadlines, counted by
   * Pub/Sub on a best-effort basis) before Pub/Sub moves it to the dead-letter topic (5-100).
   * @default 100, the most Pub/Sub allows: only a message that keeps failing is moved
   */
  readonly maxDeliveryAttempts?: number;
  /** With `enrichDeadLetter`: days the dead-letter subscription keeps messages for inspection and replay (1-7). @default 7 */
  readonly deadLetterRetentionDays?: number;
  /** Labels of every resource that takes labels. @default none (plus managed-by: waymark) */
  readonly labels?: Readonly<Record<string, string>>;
  /** The google-beta provider (with `enrichDeadLetter`, the Pub/Sub service agent is created there). @default the stack's unaliased google-beta provider */
  readonly betaProvider?: TerraformProvider;
}

/** Which topic a consumer subscription reads. */
export type ClickstreamTopic = 'raw' | 'bad';

export interface ConsumerSubscriptionOptions {
  /** The topic to read. @default 'raw' */
  readonly topic?: ClickstreamTopic;
  /** The subscription name. @default `<prefix>-<id>` */
  readonly name?: string;
  /** Seconds to acknowledge a message (10-600). @default 60 */
  readonly ackDeadlineSeconds?: number;
  /** Days unacknowledged messages are kept (1-7). @default 7 */
  readonly retentionDays?: number;
  /** A Pub/Sub filter on message attributes (`event_type`, `app_id`), e.g. `attributes.app_id = "shop"`. @default every message */
  readonly filter?: string;
  /** IAM members that may pull from this subscription (`serviceAccount:...`). @default none */
  readonly subscribers?: readonly string[];
}

/**
 * The raw and bad topics with retention, the enrich subscription (ack deadline, retention, never expires; with
 * `enrichDeadLetter` also exponential retry and a dead-letter topic after `maxDeliveryAttempts`) and, through
 * {@link addConsumerSubscription}, one subscription per consumer.
 *
 * ```ts
 * const topics = new ClickstreamTopics(this, 'topics', { projectId: 'acme-analytics' });
 * topics.addConsumerSubscription('fraud', { subscribers: [fraudService.member] });
 * ```
 */
export class ClickstreamTopics extends Construct {
  /** The topic of collected events (one CollectorPayload JSON per message); a `PubsubTopic` unless `existingRawTopic`. */
  public readonly raw: TopicReference;
  /** The topic of the collector's bad rows; a `PubsubTopic` unless `existingBadTopic`. */
  public readonly bad: TopicReference;
  /** The subscription the streaming enricher reads. */
  public readonly enrichSubscription: PubsubSubscription;
  /** With `enrichDeadLetter`: where the enrich subscription moves messages after `maxDeliveryAttempts`. */
  public readonly deadLetterTopic?: PubsubTopic;
  /** With `enrichDeadLetter`: keeps dead-lettered messages (a topic without subscriptions would drop them). */
  public readonly deadLetterSubscription?: PubsubSubscription;
  /** Consumer subscriptions added so far, by construct id. */
  public readonly consumerSubscriptions: Record<string, PubsubSubscription> = {};
  /** Labels put on every resource. */
  public readonly labels: Readonly<Record<string, string>>;

  private readonly prefix: string;
  private readonly projectId?: string;

  constructor(scope: Construct, id: string, props: ClickstreamTopicsProps = {}) {
    super(scope, id);
    validate(props);
    this.labels = constructLabels(NAME, props.labels);
    this.prefix = props.namePrefix ?? 'waymark';
    this.projectId = props.projectId;
    const project = props.projectId;
    const retention = `${(props.retentionDays ?? 7) * DAY_SECONDS}s`;

    this.raw = props.existingRawTopic ?? new PubsubTopic(this, 'raw', {
      project,
      name: resourceName([this.prefix, 'raw'], 255),
      messageRetentionDuration: retention,
      labels: this.labels,
    });
    this.bad = props.existingBadTopic ?? new PubsubTopic(this, 'bad', {
      project,
      name: resourceName([this.prefix, 'bad'], 255),
      messageRetentionDuration: retention,
      labels: this.labels,
    });

    const deadLetter = props.enrichDeadLetter === true;
    if (deadLetter) {
      this.deadLetterTopic = new PubsubTopic(this, 'dead-letter', {
        project,
        name: resourceName([this.prefix, 'enrich', 'dead-letter'], 255),
        messageRetentionDuration: retention,
        labels: this.labels,
      });
      this.deadLetterSubscription = new PubsubSubscription(this, 'dead-letter-subscription', {
        project,
        name: resourceName([this.prefix, 'enrich', 'dead-letter'], 255),
        topic: this.deadLetterTopic.id,
        ackDeadlineSeconds: 60,
        messageRetentionDuration: `${(props.deadLetterRetentionDays ?? 7) * DAY_SECONDS}s`,
        expirationPolicy: { ttl: '' },
        labels: this.labels,
      });
    }

    this.enrichSubscription = new PubsubSubscription(this, 'enrich', {
      project,
      name: resourceName([this.prefix, 'enrich'], 255),
      topic: this.raw.id,
      ackDeadlineSeconds: props.enrichAckDeadlineSeconds ?? 60,
      messageRetentionDuration: `${(props.enrichRetentionDays ?? 7) * DAY_SECONDS}s`,
      retainAckedMessages: false,
      // Never delete the subscription for inactivity: a stopped enricher must find its backlog.
      expirationPolicy: { ttl: '' },
      // No retry or dead-letter policy unless asked for: Dataflow supports neither (see the module comment).
      retryPolicy: deadLetter
        ? { minimumBackoff: `${props.retryMinimumBackoffSeconds ?? 10}s`, maximumBackoff: `${props.retryMaximumBackoffSeconds ?? 600}s` }
        : undefined,
      deadLetterPolicy: this.deadLetterTopic !== undefined
        ? { deadLetterTopic: this.deadLetterTopic.id, maxDeliveryAttempts: props.maxDeliveryAttempts ?? 100 }
        : undefined,
      labels: this.labels,
    });

    if (this.deadLetterTopic !== undefined) {
      // Dead-lettering is done by the Pub/Sub service agent: it publishes to the dead-letter topic and acknowledges
      // (as a subscriber) the message on the source subscription.
      // (https://cloud.google.com/pubsub/docs/handling-failures#grant_forwarding_permissions). The agent may not exist
      // yet on a fresh project: created here, so the grants wait for it.
      const serviceAgent = pubsubServiceAgent(this, 'pubsub-service-agent', NAME, project, props.betaProvider).member;
      new PubsubTopicIamMember(this, 'dead-letter-publisher', {
        project,
        topic: this.deadLetterTopic.name,
        role: 'roles/pubsub.publisher',
        member: serviceAgent,
      });
      new PubsubSubscriptionIamMember(this, 'dead-letter-source-subscriber', {
        project,
        subscription: this.enrichSubscription.name,
        role: 'roles/pubsub.subscriber',
        member: serviceAgent,
      });
    }
  }

  /** Adds a subscription for one more consumer of the raw (or bad) topic; each consumer gets its own. */
  public addConsumerSubscription(id: string, options: ConsumerSubscriptionOptions = {}): PubsubSubscription {
    const where = `addConsumerSubscription('${id}')`;
    if (this.consumerSubscriptions[id] !== undefined) throw new PropError(NAME, where, 'was called twice with the same id');
    const name = options.name ?? resourceName([this.prefix, id], 255);
    checkName(NAME, `${where}.name`, name, { ...RFC1035, maxLength: 255, description: '3-255 characters: lower-case letters, digits and hyphens, starting with a letter' });
    if (name.length < 3) throw new PropError(NAME, `${where}.name`, `must have at least 3 characters, got '${name}'`);
    checkInteger(NAME, `${where}.ackDeadlineSeconds`, options.ackDeadlineSeconds ?? 60, 10, 600);
    checkInteger(NAME, `${where}.retentionDays`, options.retentionDays ?? 7, 1, 7);
    const topic = (options.topic ?? 'raw') === 'raw' ? this.raw : this.bad;
    const subscription = new PubsubSubscription(this, `consumer-${id}`, {
      project: this.projectId,
      name,
      topic: topic.id,
      ackDeadlineSeconds: options.ackDeadlineSeconds ?? 60,
      messageRetentionDuration: `${(options.retentionDays ?? 7) * DAY_SECONDS}s`,
      expirationPolicy: { ttl: '' },
      filter: options.filter,
      labels: this.labels,
    });
    this.consumerSubscriptions[id] = subscription;
    for (const [i, member] of (options.subscribers ?? []).entries()) {
      this.grantSubscribe(member, subscription, `consumer-${id}-subscriber-${i}`);
    }
    return subscription;
  }

  /** Lets `member` publish to the raw and bad topics (what a collector needs). */
  public grantPublish(member: string): void {
    const n = this.node.children.filter((c) => c.node.id.startsWith('publish-raw-')).length;
    new PubsubTopicIamMember(this, `publish-raw-${n}`, { project: this.projectId, topic: this.raw.name, role: 'roles/pubsub.publisher', member });
    new PubsubTopicIamMember(this, `publish-bad-${n}`, { project: this.projectId, topic: this.bad.name, role: 'roles/pubsub.publisher', member });
  }

  /** Lets `member` pull from (and acknowledge on) one subscription. */
  public grantSubscribe(member: string, subscription: PubsubSubscription, id?: string): PubsubSubscriptionIamMember {
    const n = this.node.children.filter((c) => c.node.id.startsWith('subscribe-')).length;
    return new PubsubSubscriptionIamMember(this, id ?? `subscribe-${n}`, {
      project: this.projectId,
      subscription: subscription.name,
      role: 'roles/pubsub.subscriber',
      member,
    });
  }
}

function validate(props: ClickstreamTopicsProps): void {
  if (props.projectId !== undefined) checkProjectId(NAME, 'projectId', props.projectId);
  if (props.namePrefix !== undefined) {
    checkName(NAME, 'namePrefix', props.namePrefix, RFC1035);
    if (props.namePrefix.length < 3) throw new PropError(NAME, 'namePrefix', `must have at least 3 characters (Pub/Sub names need 3), got '${props.namePrefix}'`);
  }
  checkInteger(NAME, 'retentionDays', props.retentionDays ?? 7, 1, 31);
  checkInteger(NAME, 'enrichAckDeadlineSeconds', props.enrichAckDeadlineSeconds ?? 60, 10, 600);
  checkInteger(NAME, 'enrichRetentionDays', props.enrichRetentionDays ?? 7, 1, 7);
  if (props.enrichDeadLetter !== true) {
    for (const prop of ['retryMinimumBackoffSeconds', 'retryMaximumBackoffSeconds', 'maxDeliveryAttempts', 'deadLetterRetentionDays'] as const) {
      if (props[prop] !== undefined) {
        throw new PropError(NAME, prop, "applies only with 'enrichDeadLetter: true' (off by default: Dataflow supports neither retry policies nor dead-letter topics)");
      }
    }
  }
  checkInteger(NAME, 'retryMinimumBackoffSeconds', props.retryMinimumBackoffSeconds ?? 10, 0, 600);
  checkInteger(NAME, 'retryMaximumBackoffSeconds', props.retryMaximumBackoffSeconds ?? 600, 0, 600);
  if ((props.retryMinimumBackoffSeconds ?? 10) > (props.retryMaximumBackoffSeconds ?? 600)) {
    throw new PropError(NAME, 'retryMinimumBackoffSeconds', `(${props.retryMinimumBackoffSeconds ?? 10}) must not exceed 'retryMaximumBackoffSeconds' (${props.retryMaximumBackoffSeconds ?? 600})`);
  }
  checkInteger(NAME, 'maxDeliveryAttempts', props.maxDeliveryAttempts ?? 100, 5, 100);
  checkInteger(NAME, 'deadLetterRetentionDays', props.deadLetterRetentionDays ?? 7, 1, 7);
  if (props.existingRawTopic !== undefined && props.existingBadTopic !== undefined && props.existingRawTopic.id === props.existingBadTopic.id) {
    throw new PropError(NAME, 'existingBadTopic', "must differ from 'existingRawTopic': bad rows would be enriched as events");
  }
}
