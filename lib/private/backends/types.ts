/**
 * The contract between GlobalCollector and its backends. Here, below the public lib/collector-backend.ts (which
 * re-exports these types), so that the backend modules import nothing from a public file.
 */
import { ComputeBackendService } from '@cdktf/provider-google/lib/compute-backend-service';
import { ComputeSecurityPolicy } from '@cdktf/provider-google/lib/compute-security-policy';
import { ServiceAccount } from '@cdktf/provider-google/lib/service-account';
import { StorageBucket } from '@cdktf/provider-google/lib/storage-bucket';
import { StorageBucketIamMember } from '@cdktf/provider-google/lib/storage-bucket-iam-member';
import { StagedBundle } from '../assets';
import { CollectorNetwork } from '../collector-network';

/** What a GlobalCollector hands each backend when it binds it. */
export interface CollectorBackendContext {
  /** Prefix of resource names, unique per GlobalCollector. */
  readonly namePrefix: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The collector's configuration as environment variables. */
  readonly environment: Readonly<Record<string, string>>;
  /** The collector's own service account. */
  readonly serviceAccount: ServiceAccount;
  /** The bucket holding the collector code. */
  readonly codeBucket: StorageBucket;
  /** The collector account's read grant on {@link codeBucket}: what reads the code at deploy time must wait for it. */
  readonly codeReadGrant: StorageBucketIamMember;
  /** The single-file bundle (`collector-<hash>.js`), uploaded to {@link codeBucket}. */
  readonly bundle: StagedBundle;
  /** The Cloud Functions / App Engine zip (`collector-<hash>.zip`), uploaded to {@link codeBucket}. */
  readonly zip: StagedBundle;
  /** The Cloud Armor policy to attach to the backend service; undefined when the collector has none (`cloudArmor: false`). */
  readonly securityPolicy?: ComputeSecurityPolicy;
  /** Fraction of requests the load balancer logs. */
  readonly logSampleRate: number;
  /** The project id (apply-time value when not given). */
  readonly projectId: string;
  /** The VPC for VM and GKE backends, created on first use. */
  network(): CollectorNetwork;
}

/** A bound backend: one global backend service fronting all its regions. */
export interface BoundCollectorBackend {
  readonly kind: string;
  readonly backendService: ComputeBackendService;
  /** Relative share of traffic when a collector has several backends. */
  readonly weight: number;
  /** The regions it serves. */
  readonly regions: readonly string[];
}
