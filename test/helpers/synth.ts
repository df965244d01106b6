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

/** Every resource of the synthesized stack as [type, logical id, config]. */
export function allResources(s: Synthesized): Array<[string, string, any]> {
  const out: Array<[string, string, any]> = [];
  for (const [type, byId] of Object.entries<Record<string, any>>(s.json.resource ?? {})) {
    for (const [id, config] of Object.entries(byId)) out.push([type, id, config]);
  }
  return out;
}
