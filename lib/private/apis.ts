/**
 * The Google Cloud APIs a pipeline needs, enabled by the pipeline itself so that one `cdktf deploy` works on a
 * fresh project: every resource of the pipeline waits for them (Terraform would otherwise create resources of a
 * service whose API is still off, and the first apply would fail).
 */
import { Construct, IConstruct } from 'constructs';
import { TerraformDataSource, TerraformResource } from 'cdktf';
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

/** Makes every resource and data source below `root` (but the services themselves) wait for `services`. */
export function dependOnApis(root: IConstruct, services: readonly ProjectService[]): void {
  // Plain addresses (`google_project_service.<id>`), the form depends_on takes.
  const fqns = services.map((s) => `${s.terraformResourceType}.${s.friendlyUniqueId}`);
  const own = new Set<IConstruct>(services);
  for (const node of root.node.findAll()) {
    if (own.has(node)) continue;
    if (node instanceof TerraformResource || node instanceof TerraformDataSource) {
      // Kubernetes objects talk to the cluster, not to Google APIs; they wait for the cluster already.
      if (node.terraformResourceType.startsWith('kubernetes_')) continue;
      node.dependsOn = [...(node.dependsOn ?? []), ...fqns.filter((f) => !(node.dependsOn ?? []).includes(f))];
    }
  }
}
