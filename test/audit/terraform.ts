/**
 * A small model of synthesized Terraform JSON for the deploy audit: resources by address, references between
 * them, dependency closure, IAM grants with their identity and target normalized to resource addresses.
 */

export type Tf = Record<string, any>;

export interface Resource {
  /** `type.id`, the address Terraform prints. */
  readonly address: string;
  readonly type: string;
  readonly config: any;
}

/** Every resource of a stack. */
export function resourcesOf(tf: Tf): Resource[] {
  const out: Resource[] = [];
  for (const [type, byId] of Object.entries<Record<string, any>>(tf.resource ?? {})) {
    for (const [id, config] of Object.entries(byId)) out.push({ address: `${type}.${id}`, type, config });
  }
  return out;
}

/** Every data source of a stack (`data.type.id`). */
export function dataSourcesOf(tf: Tf): Resource[] {
  const out: Resource[] = [];
  for (const [type, byId] of Object.entries<Record<string, any>>(tf.data ?? {})) {
    for (const [id, config] of Object.entries(byId)) out.push({ address: `data.${type}.${id}`, type, config });
  }
  return out;
}

const REF = /\$\{(data\.)?([a-z][a-z0-9_-]*)\.([A-Za-z0-9_-]+)\.[a-z_]/g;

/** The addresses `value` (any JSON) refers to through `${...}` interpolations. */
export function referencesIn(value: unknown): string[] {
  const text = JSON.stringify(value) ?? '';
  const out = new Set<string>();
  for (const m of text.matchAll(REF)) out.add(`${m[1] ?? ''}${m[2]}.${m[3]}`);
  return [...out];
}

/** The one address a string interpolates (e.g. `gs://${google_storage_bucket.b.name}/x` → `google_storage_bucket.b`). */
export function referenceOf(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const refs = referencesIn(value);
  return refs.length === 1 ? refs[0] : undefined;
}

export class Stack {
  public readonly resources: Resource[];
  public readonly byAddress: Map<string, Resource>;
  private readonly closures = new Map<string, Set<string>>();

  constructor(public readonly name: string, public readonly tf: Tf) {
    this.resources = resourcesOf(tf);
    this.byAddress = new Map(this.resources.map((r) => [r.address, r]));
  }

  public ofType(type: string): Resource[] {
    return this.resources.filter((r) => r.type === type);
  }

  /** Direct dependencies: `depends_on` and interpolated references. */
  public dependencies(address: string): string[] {
    const r = this.byAddress.get(address);
    if (!r) return [];
    return [...new Set([...(r.config.depends_on ?? []), ...referencesIn({ ...r.config, depends_on: undefined })])];
  }

  /** Everything `address` waits for, transitively. */
  public closure(address: string): Set<string> {
    const cached = this.closures.get(address);
    if (cached) return cached;
    const seen = new Set<string>();
    const todo = [...this.dependencies(address)];
    while (todo.length) {
      const next = todo.pop()!;
      if (seen.has(next)) continue;
      seen.add(next);
      todo.push(...this.dependencies(next));
    }
    this.closures.set(address, seen);
    return seen;
  }
}

/**
 * The identity a member string names, as the address of the resource that makes it: `google_service_account.x`,
 * `service-agent:<api>` for a google_project_service_identity (one agent per API, however many resources ask for
 * it), `google_logging_project_sink.x.writer_identity`; a literal member as itself.
 */
export function identityOf(stack: Stack, member: unknown): string | undefined {
  if (typeof member !== 'string') return undefined;
  const sink = /^\$\{(google_logging_project_sink\.[A-Za-z0-9_-]+)\.writer_identity\}$/.exec(member);
  if (sink) return `${sink[1]}.writer_identity`;
  const ref = referenceOf(member);
  if (ref === undefined) return member;
  if (ref.startsWith('google_project_service_identity.')) return `service-agent:${stack.byAddress.get(ref)?.config.service}`;
  return ref;
}

export interface Grant {
  readonly address: string;
  readonly role: string;
  /** The normalized identity (see {@link identityOf}). */
  readonly identity: string;
  readonly member: string;
  /** `project`, or the address of the resource the role is granted on. */
  readonly on: string;
}

const TARGET_FIELD: Record<string, string> = {
  google_storage_bucket_iam_member: 'bucket',
  google_bigquery_dataset_iam_member: 'dataset_id',
  google_bigquery_table_iam_member: 'table_id',
  google_pubsub_subscription_iam_member: 'subscription',
  google_pubsub_topic_iam_member: 'topic',
  google_service_account_iam_member: 'service_account_id',
  google_cloud_run_v2_service_iam_member: 'name',
  google_kms_crypto_key_iam_member: 'crypto_key_id',
};

/** Every IAM member resource of a stack, normalized. */
export function grantsOf(stack: Stack): Grant[] {
  const out: Grant[] = [];
  for (const r of stack.resources) {
    if (!/_iam_(member|binding)$/.test(r.type)) continue;
    const members: string[] = r.config.members ?? [r.config.member];
    const field = TARGET_FIELD[r.type];
    const on = r.type === 'google_project_iam_member' ? 'project' : field ? (referenceOf(r.config[field]) ?? String(r.config[field])) : r.address;
    for (const member of members) out.push({ address: r.address, role: r.config.role, member, identity: identityOf(stack, member) ?? member, on });
  }
  return out;
}

/** The bucket address of a `gs://` URI or `https://storage.googleapis.com/` URL, and the object path in it. */
export function gsPath(uri: unknown): { bucket: string; path: string } | undefined {
  if (typeof uri !== 'string') return undefined;
  const m = /^(?:gs:\/\/|https:\/\/storage\.googleapis\.com\/)(\$\{[^}]+\}|[^/]+)\/?(.*)$/.exec(uri);
  if (!m) return undefined;
  return { bucket: referenceOf(m[1]) ?? `bucket:${m[1]}`, path: m[2] };
}

/** The collector's environment of a workload resource, whatever form its type keeps it in. */
export function environmentOf(r: Resource): Record<string, string> {
  const c = r.config;
  const list = (env: Array<{ name: string; value?: string }> | undefined): Record<string, string> => Object.fromEntries((env ?? []).map((e) => [e.name, e.value ?? '']));
  switch (r.type) {
    case 'google_cloud_run_v2_service': return list(c.template?.containers?.[0]?.env);
    case 'google_cloudfunctions2_function': return { ...(c.service_config?.environment_variables ?? {}) };
    case 'google_app_engine_standard_app_version': return { ...(c.env_variables ?? {}) };
    case 'kubernetes_deployment_v1': return list(c.spec?.template?.spec?.container?.[0]?.env);
    case 'google_compute_region_instance_template': {
      const script: string = c.metadata?.['startup-script'] ?? '';
      const block = /<<'WAYMARK_ENV'\n([\s\S]*?)\nWAYMARK_ENV/.exec(script)?.[1] ?? '';
      return Object.fromEntries(block.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    }
    default: return {};
  }
}
