import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Testing, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { STABLE_ASSET_HASHES_CONTEXT } from '../../lib/private/assets';

export interface Synthesized {
  /** The synthesized Terraform JSON as text (for cdktf's matchers and snapshots). */
  readonly text: string;
  /** The same, parsed. */
  readonly json: any;
  /** Resources of one type, by their logical id. */
  resources(type: string): Record<string, any>;
  /** The only resource of a type (fails when there are none or several). */
  only(type: string): any;
}

/**
 * Synthesizes one stack built by `build`, with a google provider and fixed asset hashes (so snapshots do not
 * churn when runtime code changes; the bundles are still built and staged).
 */
export function synth(build: (scope: Construct) => void, options: { stableHashes?: boolean } = {}): Synthesized {
  const app = Testing.app({ context: { [STABLE_ASSET_HASHES_CONTEXT]: options.stableHashes ?? true } });
  const stack = new TerraformStack(app, 'test');
  new GoogleProvider(stack, 'google', { project: 'acme-analytics', region: 'us-central1' });
  build(stack);
  const text = Testing.synth(stack);
  const json = JSON.parse(text);
  const resources = (type: string): Record<string, any> => json.resource?.[type] ?? {};
  return {
    text,
    json,
    resources,
    only(type: string) {
      const all = Object.values(resources(type));
      if (all.length !== 1) throw new Error(`expected one ${type}, found ${all.length}`);
      return all[0];
    },
  };
}

/** Every resource of synthesized Terraform JSON as [type, logical id, config]. */
export function allResources(s: Synthesized | { resource?: unknown }): Array<[string, string, any]> {
  const tf: any = 'json' in s ? s.json : s;
  const out: Array<[string, string, any]> = [];
  for (const [type, byId] of Object.entries<Record<string, any>>(tf.resource ?? {})) {
    for (const [id, config] of Object.entries(byId)) out.push([type, id, config]);
  }
  return out;
}

const labelAttributes = new Map<string, string | null>();

/**
 * The attribute that holds a google resource type's labels (`labels`, or `resource_labels` for clusters), or null
 * when the type takes none: read from the provider binding's .d.ts, so no list goes stale.
 */
export function labelAttribute(type: string): string | null {
  if (!labelAttributes.has(type)) {
    const dir = type.replace(/^google_/, '').replace(/_/g, '-');
    const dts = readFileSync(join(__dirname, '../../node_modules/@cdktf/provider-google/lib', dir, 'index.d.ts'), 'utf8');
    const config = dts.match(/export interface \w+Config extends cdktf\.TerraformMetaArguments \{([\s\S]*?)\n\}/);
    if (!config) throw new Error(`no Config interface in the binding of ${type}`);
    labelAttributes.set(type, /\n\s+readonly labels\?:/.test(config[1]) ? 'labels' : /\n\s+readonly resourceLabels\?:/.test(config[1]) ? 'resource_labels' : null);
  }
  return labelAttributes.get(type)!;
}

/** Whether a google resource type takes labels. */
export function takesLabels(type: string): boolean {
  return labelAttribute(type) !== null;
}
