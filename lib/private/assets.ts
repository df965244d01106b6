/**
 * Turns a {@link Bundle} into a Terraform file asset plus the object name it is uploaded under.
 * The object name carries the content hash, so new code gets a new object and dependants (instance
 * templates, functions, Dataflow jobs) roll forward on their own.
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AssetType, TerraformAsset } from 'cdktf';
import { Construct } from 'constructs';
import { Bundle, writeFileAtomic } from './bundler';

/**
 * Context key: when `true`, asset hashes in names are replaced by a fixed placeholder. Tests set it so
 * their snapshots don't change with every edit of runtime code; the bundle is still built and staged
 * exactly as in production, only its name is fixed.
 */
export const STABLE_ASSET_HASHES_CONTEXT = 'waymark:stableAssetHashes';

/** The placeholder hash used when {@link STABLE_ASSET_HASHES_CONTEXT} is on. */
export const STABLE_HASH = '0000000000000000';

export interface StagedBundle {
  readonly bundle: Bundle;
  readonly asset: TerraformAsset;
  /** The hash used in names: the content hash, or the placeholder in stable-hash mode. */
  readonly hash: string;
  /** `name-<hash>.ext`: the object name to upload under. */
  readonly objectName: string;
}

export function stableAssetHashes(scope: Construct): boolean {
  const value = scope.node.tryGetContext(STABLE_ASSET_HASHES_CONTEXT);
  return value === true || value === 'true';
}

/** Stages a bundle as a file asset of `scope` (construct id `id`). */
export function stageBundle(scope: Construct, id: string, b: Bundle): StagedBundle {
  const stable = stableAssetHashes(scope);
  const hash = stable ? STABLE_HASH : b.hash;
  // A cache keyed by content, kept on purpose: the same bundle (same hash, same bytes) is written once per machine and
  // shared by every synth, in parallel too (writeFileAtomic); cdktf copies the file into its outdir at synth.
  const folder = join(tmpdir(), 'waymark-assets', b.hash);
  const file = join(folder, b.fileName);
  if (!existsSync(file)) writeFileAtomic(file, b.contents);
  const asset = new TerraformAsset(scope, id, { path: file, type: AssetType.FILE, assetHash: hash });
  const objectName = stable ? b.hashedName.replace(b.hash, STABLE_HASH) : b.hashedName;
  return { bundle: b, asset, hash, objectName };
}
