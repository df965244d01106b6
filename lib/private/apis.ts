/**
 * The Google Cloud APIs a pipeline needs, enabled by the pipeline itself so that one `cdktf deploy` works on a
 * fresh project: every resource of the pipeline waits for them (Terraform would otherwise create resources of a
 * service whose API is still off, and the first apply would fail).
 */
import { Construct, IConstruct } from 'constructs';
import { TerraformResource } from 'cdktf';
import { ProjectService } from '@cdktf/provider-google/lib/project-service';

export function enableApis(scope: Construct, id: string, project: string | undefined, services: readonly string[]): ProjectService[] {
  const group = new Construct(scope, id);
  return [...new Set(services)].sort().map((service) => new ProjectService(group, service.split('.')[0], {
    project,
    service,
    // Turning an API off on destroy would break whatever else in the project uses it.
    disableOnDestroy: false,
    disableDependentServices: false,
  }));
}

/**
 * Makes every Google resource below `root` (but the services themselves) wait for `services`.
 *
 * Data sources never wait: a data source with `depends_on` on a resource that has a pending change is read only
 * at apply time, so everything derived from it (the project id of `google_client_config`, a bucket name built from
 * it, a GKE provider token) is unknown at plan time, and resources using those values are planned for replacement
 * on every plan with a pending API change (https://developer.hashicorp.com/terraform/language/data-sources#data-resource-dependencies).
 * The data sources the pipeline reads need no API of the project (`google_client_config` reads the provider's own
 * configuration; BigQuery's encryption account with `kmsKeyName` uses the BigQuery API, on by default in new
 * projects: https://cloud.google.com/service-usage/docs/enabled-service#default).
 */
export function dependOnApis(root: IConstruct, services: readonly ProjectService[]): void {
  // Plain addresses (`google_project_service.<id>`), the form depends_on takes.
  const fqns = services.map((s) => `${s.terraformResourceType}.${s.friendlyUniqueId}`);
  const own = new Set<IConstruct>(services);
  for (const node of root.node.findAll()) {
    if (own.has(node)) continue;
    // Kubernetes objects talk to the cluster, not to Google APIs (they wait for the cluster already); time_sleep
    // calls no API at all.
    if (node instanceof TerraformResource && node.terraformResourceType.startsWith('google_')) {
      node.dependsOn = [...(node.dependsOn ?? []), ...fqns.filter((f) => !(node.dependsOn ?? []).includes(f))];
    }
  }
}
