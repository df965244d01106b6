/**
 * Waiting for IAM grants to take effect before a workload uses them. Google documents that a granted role
 * "typically" takes effect within 2 minutes and may take 7 minutes or longer
 * (https://cloud.google.com/iam/docs/access-change-propagation). Terraform's `depends_on` only orders the API calls:
 * a Dataflow job launched the second after its worker account's grants can still be refused (its launcher VM and
 * workers act as that account at once), and its launch then fails. A `time_sleep` (hashicorp/time) between the
 * grants and the workload covers the usual propagation time on the first deploy; it is created once, so later
 * applies do not wait again unless it is replaced.
 *
 * The one place the project uses the time provider: every wait goes through {@link afterIamPropagation}.
 */
import { Construct, IConstruct } from 'constructs';
import { ITerraformDependable, TerraformStack } from 'cdktf';
import { TimeProvider } from '@cdktf/provider-time/lib/provider';
import { Sleep } from '@cdktf/provider-time/lib/sleep';

/** How long a fresh grant is given to propagate before a workload relies on it: Google's "typically 2 minutes". */
export const IAM_PROPAGATION_SECONDS = 120;

/** The stack's time provider (hashicorp/time), added once per stack at its root. */
function timeProvider(scope: IConstruct): TimeProvider {
  const stack = TerraformStack.of(scope);
  const existing = stack.node.tryFindChild('time');
  if (existing instanceof TimeProvider) return existing;
  return new TimeProvider(stack, 'time');
}

/**
 * A `time_sleep` created {@link IAM_PROPAGATION_SECONDS} after `grants`: make the workload depend on it (instead of
 * on the grants directly).
 */
export function afterIamPropagation(scope: Construct, id: string, grants: readonly ITerraformDependable[]): Sleep {
  return new Sleep(scope, id, {
    provider: timeProvider(scope),
    createDuration: `${IAM_PROPAGATION_SECONDS}s`,
    dependsOn: [...grants],
  });
}
