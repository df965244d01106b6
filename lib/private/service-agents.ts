/**
 * Google-managed service agents a pipeline grants roles to. A service agent is created by Google on first use of
 * its API, which on a fresh project may be after Terraform grants it a role: an IAM binding of an agent that does
 * not exist yet fails ("Service account ... does not exist"). `google_project_service_identity` asks Service Usage
 * to create the agent and returns its address, so grants made to its `member` are ordered after it, and no project
 * number is read at plan time (a data source that waits for an API would make the address unknown and replace the
 * grants on every plan with a pending API change).
 *
 * https://cloud.google.com/iam/docs/service-agents (service agents are created when the API is first used;
 * `gcloud beta services identity create` creates one on demand) and
 * https://registry.terraform.io/providers/hashicorp/google/latest/docs/resources/project_service_identity (google-beta).
 */
import { Construct } from 'constructs';
import { TerraformProvider, TerraformStack } from 'cdktf';
import { GoogleProjectServiceIdentity } from '@cdktf/provider-google-beta/lib/google-project-service-identity';
import { GoogleBetaProvider } from '@cdktf/provider-google-beta/lib/provider';
import { PropError } from './validate';

/** The stack's unaliased google-beta provider, or `given`; the error names `construct`'s `betaProvider` prop. */
export function betaProviderOf(scope: Construct, construct: string, given: TerraformProvider | undefined, why: string): TerraformProvider {
  if (given) return given;
  const found = TerraformStack.of(scope).node.findAll().find((c): c is GoogleBetaProvider => c instanceof GoogleBetaProvider && c.alias === undefined);
  if (!found) {
    throw new PropError(construct, 'betaProvider', `is required when the stack has no google-beta provider: ${why}. Add \`new GoogleBetaProvider(stack, 'google-beta', { project, region })\` or pass one`);
  }
  return found;
}

/**
 * The Pub/Sub service agent (`service-<number>@gcp-sa-pubsub.iam.gserviceaccount.com`), created if need be: it
 * writes Cloud Storage and BigQuery subscriptions, dead-letters messages and signs push OIDC tokens. Grant roles to
 * its `member`.
 */
export function pubsubServiceAgent(scope: Construct, id: string, construct: string, project: string | undefined, betaProvider?: TerraformProvider): GoogleProjectServiceIdentity {
  return new GoogleProjectServiceIdentity(scope, id, {
    provider: betaProviderOf(scope, construct, betaProvider, 'the Pub/Sub service agent is created with google_project_service_identity, which exists only there'),
    project,
    service: 'pubsub.googleapis.com',
  });
}
