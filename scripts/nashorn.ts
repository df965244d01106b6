/**
 * The production engine for tests and benchmarks: Nashorn 15.4 (org.openjdk.nashorn:nashorn-core:15.4, the engine
 * Google's Dataflow templates run UDFs in), and the harness that calls the UDF the way the templates do
 * (test/support/java/UdfHarness.java).
 *
 * One way to get the engine, {@link nashornClasspath}, first that works:
 *   1. WAYMARK_NASHORN_CP, a Java classpath holding Nashorn 15.4 and ASM (used as it is);
 *   2. the cached build, `<tmpdir>/nashorn-15.4` (a folder with `.complete`), or the cached Maven Central jars,
 *      `<tmpdir>/waymark-nashorn-15.4-jars`;
 *   3. a build from the Nashorn sources: WAYMARK_ENGINES_DIR, else the nearest `shared/engines` beside the
 *      repository or one of its parent folders (`../shared/engines` for a clone next to it), holding
 *      `build-nashorn.sh` and the release-15.4 source archive; needs javac and Debian's libasm-java;
 *   4. the jars from Maven Central (nashorn-core 15.4, ASM 7.3.1), checked against the SHA-1 Maven publishes;
 *   5. else an Error that says how to get it.
 * Java 11 or later (javac too, for the harness) must be on the PATH.
 *
 *   tsx scripts/nashorn.ts          # gets the engine (CI runs this), prints the classpath
 */
import { execFileSync, spawn, spawnSync, ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';

const REPO_ROOT = resolve(__dirname, '..');
const BUILD_CACHE = join(tmpdir(), 'nashorn-15.4');
const JARS_CACHE = join(tmpdir(), 'waymark-nashorn-15.4-jars');
const MAVEN = 'https://repo1.maven.org/maven2';
const JARS: ReadonlyArray<readonly [string, string, string]> = [
  ['org/openjdk/nashorn', 'nashorn-core', '15.4'],
  ['org/ow2/asm', 'asm', '7.3.1'],
  ['org/ow2/asm', 'asm-commons', '7.3.1'],
  ['org/ow2/asm', 'asm-tree', '7.3.1'],
  ['org/ow2/asm', 'asm-util', '7.3.1'],
  ['org/ow2/asm', 'asm-analysis', '7.3.1'],
];

export const NASHORN_HELP =
  'Nashorn 15.4 is needed to run the UDF as Dataflow does. Set WAYMARK_NASHORN_CP to a classpath with ' +
  'org.openjdk.nashorn:nashorn-core:15.4 and ASM 7.3.1+ (asm, asm-commons, asm-tree, asm-util, asm-analysis), or set ' +
  'WAYMARK_ENGINES_DIR to a folder with build-nashorn.sh and the Nashorn 15.4 sources (needs javac and ' +
  '`apt-get install -y libasm-java unzip`), or allow downloads from ' + MAVEN + '; then run `npx tsx scripts/nashorn.ts`.';

let resolved: string | null = null;

/** The Java classpath of Nashorn 15.4 (see the file comment for where it comes from). */
export function nashornClasspath(log: (line: string) => void = () => undefined): string {
  if (resolved !== null) return resolved;
  const fromEnv = process.env.WAYMARK_NASHORN_CP;
  if (fromEnv) return (resolved = fromEnv);
  if (existsSync(join(BUILD_CACHE, '.complete'))) return (resolved = BUILD_CACHE);
  if (existsSync(join(JARS_CACHE, '.complete'))) return (resolved = jarsClasspath());
  const engines = enginesDir();
  const errors: string[] = [];
  if (engines !== null) {
    log(`nashorn: building from ${engines} into ${BUILD_CACHE}`);
    const r = spawnSync('bash', [join(engines, 'build-nashorn.sh'), BUILD_CACHE], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.status === 0 && existsSync(join(BUILD_CACHE, '.complete'))) return (resolved = BUILD_CACHE);
    errors.push(`building from ${engines} failed: ${(r.stderr || r.stdout || String(r.error)).trim().split('\n').slice(-3).join(' / ')}`);
  }
  try {
    log(`nashorn: downloading nashorn-core 15.4 and ASM from ${MAVEN} into ${JARS_CACHE}`);
    downloadJars();
    return (resolved = jarsClasspath());
  } catch (e) {
    errors.push(`downloading from Maven Central failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  throw new Error(`${NASHORN_HELP}\n${errors.join('\n')}`);
}

/** WAYMARK_ENGINES_DIR, else the nearest `shared/engines` with build-nashorn.sh above the repository. */
function enginesDir(): string | null {
  const fromEnv = process.env.WAYMARK_ENGINES_DIR;
  if (fromEnv) return existsSync(join(fromEnv, 'build-nashorn.sh')) ? resolve(fromEnv) : null;
  for (let dir = dirname(REPO_ROOT); ; dir = dirname(dir)) {
    const candidate = join(dir, 'shared', 'engines');
    if (existsSync(join(candidate, 'build-nashorn.sh'))) return candidate;
    if (dirname(dir) === dir) return null;
  }
}

function jarsClasspath(): string {
  return JARS.map(([, name, version]) => join(JARS_CACHE, `${name}-${version}.jar`)).join(delimiter);
}

function downloadJars(): void {
  const tmp = mkdtempSync(join(tmpdir(), 'waymark-nashorn-jars-'));
  try {
    for (const [group, name, version] of JARS) {
      const url = `${MAVEN}/${group}/${name}/${version}/${name}-${version}.jar`;
      const file = join(tmp, `${name}-${version}.jar`);
      execFileSync('curl', ['-fsSL', '--retry', '3', '-o', file, url], { stdio: ['ignore', 'ignore', 'pipe'] });
      const sha1 = execFileSync('curl', ['-fsSL', '--retry', '3', url + '.sha1'], { encoding: 'utf8' }).trim().split(/\s+/)[0];
      const actual = createHash('sha1').update(readFileSync(file)).digest('hex');
      if (actual !== sha1) throw new Error(`${url}: SHA-1 ${actual}, Maven publishes ${sha1}`);
    }
    writeFileSync(join(tmp, '.complete'), '');
    rmSync(JARS_CACHE, { recursive: true, force: true });
    mkdirSync(dirname(JARS_CACHE), { recursive: true });
    renameSync(tmp, JARS_CACHE);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

const HARNESS_SOURCE = join(REPO_ROOT, 'test', 'support', 'java', 'UdfHarness.java');

/**
 * Compiles the harness (once per source version, into the temp folder); returns the classpath with Nashorn's. The
 * `<tmp>/waymark-udf-harness/<hash of source and classpath>` folder is a cache kept on purpose for later runs.
 */
export function harnessClasspath(): string {
  const cp = nashornClasspath();
  const source = readFileSync(HARNESS_SOURCE);
  const out = join(tmpdir(), 'waymark-udf-harness', createHash('sha256').update(source).update(cp).digest('hex').slice(0, 16));
  if (!existsSync(join(out, 'UdfHarness.class'))) {
    const tmp = out + '.' + process.pid;
    mkdirSync(tmp, { recursive: true });
    const r = spawnSync('javac', ['-nowarn', '-encoding', 'UTF-8', '-cp', cp, '-d', tmp, HARNESS_SOURCE], { encoding: 'utf8' });
    if (r.status !== 0) {
      rmSync(tmp, { recursive: true, force: true });
      throw new Error(`javac UdfHarness.java failed (Java 11+ with javac is needed): ${r.stderr || String(r.error)}`);
    }
    try {
      renameSync(tmp, out);
    } catch {
      rmSync(tmp, { recursive: true, force: true }); // another process compiled it first
    }
  }
  return cp + delimiter + out;
}

/** What one call gave in Nashorn: the returned String, null (dropped), or e.getMessage() of what it threw. */
export type NashornOutcome = { returned: string | null } | { thrown: string; exception: string };

/** `s` as a JSON string literal in printable ASCII (lone surrogates escaped), for the harness's line protocol. */
function literal(s: string): string {
  return JSON.stringify(s).replace(/[^\x20-\x7e]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

/** One JVM with one Nashorn engine that has evaluated the UDF, serving calls in order. */
export class NashornUdf {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly dir: string;
  private buffer = '';
  private stderr = '';
  private readonly waiting: Array<(line: string) => void> = [];
  /** Lines that came before anyone waited for them. */
  private readonly pending: string[] = [];
  private exited: string | null = null;

  /** Starts the JVM with `code` as the UDF file; `now` fixes Date.now() (tests). */
  constructor(code: string, options: { now?: number; jvmArgs?: readonly string[] } = {}) {
    const cp = harnessClasspath();
    this.dir = mkdtempSync(join(tmpdir(), 'waymark-nashorn-'));
    const file = join(this.dir, 'enrich.js');
    writeFileSync(file, code);
    const args = [...(options.jvmArgs ?? []), '-cp', cp, 'UdfHarness', file];
    if (options.now !== undefined) args.push('--now', String(options.now));
    this.child = spawn('java', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.setEncoding('utf8');
    this.child.stderr.setEncoding('utf8');
    this.child.stdout.on('data', (chunk: string) => {
      this.buffer += chunk;
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        // The JVM's own log lines (e.g. Flight Recorder's "[0.5s][info][jfr,startup] ...") are no answers.
        if (line.startsWith('[')) continue;
        const w = this.waiting.shift();
        if (w) w(line);
        else this.pending.push(line);
      }
    });
    this.child.stderr.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-4000);
    });
    this.child.on('exit', (code, signal) => {
      this.exited = `the Nashorn harness exited (${code ?? signal}): ${this.stderr}`;
      for (const w of this.waiting.splice(0)) w('E ' + JSON.stringify(this.exited));
    });
  }

  private request(line: string): Promise<string> {
    if (this.exited !== null) return Promise.reject(new Error(this.exited));
    return new Promise((resolveLine) => {
      this.waiting.push(resolveLine);
      this.child.stdin.write(line + '\n');
    });
  }

  private next(): Promise<string> {
    const line = this.pending.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.exited !== null) return Promise.reject(new Error(this.exited));
    return new Promise((resolveLine) => this.waiting.push(resolveLine));
  }

  /** Calls the UDF's global `fn` with `input` as the template does. */
  async call(fn: 'process' | 'processBatch', input: string): Promise<NashornOutcome> {
    return parseAnswer(await this.request(`${fn} ${literal(input)}`));
  }

  /** Calls `fn` for every input, pipelined (the calls still run one after another in the engine). */
  async callAll(fn: 'process' | 'processBatch', inputs: readonly string[]): Promise<NashornOutcome[]> {
    return Promise.all(inputs.map((input) => this.call(fn, input)));
  }

  /**
   * Runs `process` over the lines of `eventsFile` for `cpuSeconds` of the JVM's CPU time; returns the cumulative
   * counts after each window of `window` events.
   */
  async bench(eventsFile: string, cpuSeconds: number, window: number): Promise<Array<{ events: number; cpu: number; wall: number; bad: number }>> {
    const out: Array<{ events: number; cpu: number; wall: number; bad: number }> = [];
    let line = await this.request(`bench ${eventsFile} ${cpuSeconds} ${window}`);
    while (line !== 'done') {
      if (line.startsWith('E ')) throw new Error(JSON.parse(line.slice(2)) as string);
      out.push(JSON.parse(line) as { events: number; cpu: number; wall: number; bad: number });
      line = await this.next();
    }
    return out;
  }

  /** Ends the JVM and removes its folder. */
  async close(): Promise<void> {
    if (this.exited === null) {
      const done = new Promise<void>((r) => this.child.once('exit', () => r()));
      this.child.stdin.end();
      await done;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function parseAnswer(line: string): NashornOutcome {
  if (line === 'N') return { returned: null };
  if (line.startsWith('R ')) return { returned: JSON.parse(line.slice(2)) as string };
  if (line.startsWith('T ')) {
    const end = line.lastIndexOf(' ');
    return { thrown: JSON.parse(line.slice(2, end)) as string, exception: line.slice(end + 1) };
  }
  if (line.startsWith('E ')) throw new Error(JSON.parse(line.slice(2)) as string);
  throw new Error('unexpected answer from the Nashorn harness: ' + line.slice(0, 200));
}

if (require.main === module) {
  try {
    const cp = nashornClasspath((line) => process.stderr.write(line + '\n'));
    harnessClasspath();
    process.stdout.write(cp + '\n');
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
}
