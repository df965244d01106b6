/**
 * How container-based collector backends (instance groups, GKE, Cloud Run) get the collector bundle: a stock
 * Node 20 image runs a small bootstrap that downloads the content-hashed bundle object from Cloud Storage with
 * the workload's own credentials (metadata server), checks its SHA-256 against the hash in its name, writes it
 * to disk, and then the shell `exec`s `node collector.js` so the collector is PID 1 and receives SIGTERM.
 *
 * No image is built or pushed: a new bundle is a new object name, which changes the instance template / pod
 * spec / revision, which rolls the workload forward.
 */

/** Environment variables the bootstrap reads. */
export const BOOTSTRAP_ENV = {
  /** `gs://bucket/object`: the bundle to fetch. */
  bundle: 'WAYMARK_BUNDLE',
  /** The bootstrap source itself, run with `node -e`. */
  script: 'WAYMARK_BOOTSTRAP',
  /** Where to write the bundle. */
  file: 'WAYMARK_BUNDLE_FILE',
  /** Overrides for tests: the metadata server and the Cloud Storage API roots. */
  metadataUrl: 'WAYMARK_METADATA_URL',
  storageUrl: 'WAYMARK_STORAGE_URL',
} as const;

/** Where the bundle is written inside the container. */
export const BUNDLE_FILE = '/tmp/waymark/collector.js';

/**
 * The bootstrap program (Node 20, CommonJS, no dependencies). It retries for a while, because a fresh VM's
 * metadata server or network may need a few seconds, and exits non-zero with a clear message otherwise.
 */
export const BOOTSTRAP_SOURCE = `
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const env = process.env;
const target = env.${BOOTSTRAP_ENV.bundle} || '';
const file = env.${BOOTSTRAP_ENV.file} || ${JSON.stringify(BUNDLE_FILE)};
const metadata = env.${BOOTSTRAP_ENV.metadataUrl} || 'http://metadata.google.internal/computeMetadata/v1';
const storage = env.${BOOTSTRAP_ENV.storageUrl} || 'https://storage.googleapis.com/storage/v1';
const log = (severity, message) => process.stdout.write(JSON.stringify({ severity, message, component: 'waymark-bootstrap' }) + '\\n');
const m = /^gs:\\/\\/([^/]+)\\/(.+)$/.exec(target);
if (!m) { log('ERROR', 'set ${BOOTSTRAP_ENV.bundle} to gs://<bucket>/<object>'); process.exit(2); }
const hash = (/-([0-9a-f]{16})\\.js$/.exec(m[2]) || [])[1];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function fetchOnce() {
  const t = await fetch(metadata + '/instance/service-accounts/default/token', { headers: { 'Metadata-Flavor': 'Google' } });
  if (!t.ok) throw new Error('metadata server answered ' + t.status);
  const token = (await t.json()).access_token;
  const url = storage + '/b/' + encodeURIComponent(m[1]) + '/o/' + encodeURIComponent(m[2]) + '?alt=media';
  const r = await fetch(url, { headers: { Authorization: 'Bearer ' + token } });
  if (!r.ok) throw new Error('storage answered ' + r.status + ' for ' + target);
  const body = Buffer.from(await r.arrayBuffer());
  const digest = crypto.createHash('sha256').update(body).digest('hex');
  if (hash && !digest.startsWith(hash)) throw new Error('bundle hash mismatch: name says ' + hash + ', content is ' + digest.slice(0, 16));
  return body;
}
(async () => {
  let lastError;
  for (let attempt = 1; attempt <= 10; attempt++) {
    try {
      const body = await fetchOnce();
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file + '.tmp', body);
      fs.renameSync(file + '.tmp', file);
      log('INFO', 'fetched ' + target + ' (' + body.length + ' bytes)');
      return;
    } catch (error) {
      lastError = error;
      log('WARNING', 'attempt ' + attempt + ' to fetch the collector bundle failed: ' + error.message);
      await sleep(Math.min(500 * 2 ** attempt, 10000));
    }
  }
  log('ERROR', 'could not fetch the collector bundle: ' + (lastError && lastError.message));
  process.exit(1);
})();
`.trim();

/**
 * The container command: bootstrap, then replace the shell with the collector. Plain `$NAME` expansions only:
 * Terraform reads `\${` in any string of the configuration as an interpolation (and fails the plan), so the
 * bundle path comes from the environment ({@link bootstrapEnvironment} sets it) instead of a `\${NAME:-default}`.
 */
export function bootstrapCommand(): string[] {
  return ['sh', '-c', `node -e "$${BOOTSTRAP_ENV.script}" && exec node "$${BOOTSTRAP_ENV.file}"`];
}

/** The environment a container needs to bootstrap the given bundle object. */
export function bootstrapEnvironment(bucketName: string, objectName: string): Record<string, string> {
  return {
    [BOOTSTRAP_ENV.bundle]: `gs://${bucketName}/${objectName}`,
    [BOOTSTRAP_ENV.file]: BUNDLE_FILE,
    [BOOTSTRAP_ENV.script]: BOOTSTRAP_SOURCE,
  };
}
