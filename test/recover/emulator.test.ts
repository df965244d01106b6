/**
 * The recovery loop end to end on one machine, with the real Pub/Sub emulator and the shipped local pipeline
 * (`waymark-local.js --pubsub`: collector → emulator raw topic → local enricher running the shipped UDF → good.jsonl /
 * bad.jsonl):
 *   1. the pipeline runs with the built-in schemas only: a button_click event (the demo's schema) becomes a bad row;
 *   2. the schema is "added": the pipeline restarts with a UDF built with examples/schemas (same emulator, same files);
 *   3. `waymark recover` dry run over bad.jsonl: 1 of 1 would now pass, nothing published;
 *   4. replay: the original message goes back to the raw topic and comes out as a good row;
 *   5. replay again (the shipped CLI entry, as a process): nothing is published, and after a later event has gone
 *      through, the good rows still hold the recovered event exactly once.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runRecover } from '../../lib/recover/cli';
import { loadState, REPLAY_ID_ATTRIBUTE } from '../../lib/recover/recover';
import { payloadId } from '../../lib/recover/rows';
import { buildRuntimeBundle } from '../helpers/bundles';
import { releasePort, reservePort } from '../helpers/ports';
import { LocalInstance, requireGcloud, runDetached, startLocalBundle, waitFor } from '../local/support';
import { buttonClickQuery, EXAMPLE_SCHEMAS, ROOT } from './support';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
});

const EVENT_ID = '0b5e6c1a-2d3f-4a5b-8c6d-7e8f9a0b1c2d';
const LATER_ID = '0b5e6c1a-2d3f-4a5b-8c6d-7e8f9a0b1c2e';

async function startEmulator(): Promise<string> {
  requireGcloud();
  const port = await reservePort();
  cleanups.push(() => releasePort(port));
  const dataDir = mkdtempSync(join(tmpdir(), 'waymark-recover-emulator-'));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const proc = runDetached('gcloud', ['beta', 'emulators', 'pubsub', 'start', `--host-port=127.0.0.1:${port}`, `--data-dir=${dataDir}`]);
  cleanups.push(() => proc.killGroup());
  await waitFor('the Pub/Sub emulator to answer', async () => (await fetch(`http://127.0.0.1:${port}/`)).ok, 90000).catch((e: Error) => {
    throw new Error(`${e.message}\n${proc.output()}`);
  });
  return `127.0.0.1:${port}`;
}

const lines = (file: string): string[] => {
  try {
    return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
  } catch {
    return [];
  }
};
const goodWith = (dataDir: string, eid: string) => lines(join(dataDir, 'good.jsonl')).map((l) => JSON.parse(l)).filter((r) => r.event_id === eid);

async function send(inst: LocalInstance, eid: string): Promise<void> {
  const r = await fetch(`${inst.base}/i?${buttonClickQuery(eid)}`);
  expect(r.status).toBe(200);
}

describe('waymark recover against the Pub/Sub emulator and the local pipeline', () => {
  let emulator: string;
  let dataDir: string;
  let stateFile: string;
  let inst: LocalInstance;
  const savedEnv = process.env.PUBSUB_EMULATOR_HOST;

  beforeAll(async () => {
    emulator = await startEmulator();
    dataDir = mkdtempSync(join(tmpdir(), 'waymark-recover-data-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    stateFile = join(dataDir, 'replay-state.json');
    process.env.PUBSUB_EMULATOR_HOST = emulator;
    cleanups.push(() => {
      if (savedEnv === undefined) delete process.env.PUBSUB_EMULATOR_HOST;
      else process.env.PUBSUB_EMULATOR_HOST = savedEnv;
    });

    // 1. Built-in schemas only: the event is a schema violation.
    const builtinsOnly = await buildRuntimeBundle('udf');
    const first = await startLocalBundle(['--pubsub'], { PUBSUB_EMULATOR_HOST: emulator, WAYMARK_LOCAL_UDF: builtinsOnly, WAYMARK_LOCAL_DATA_DIR: dataDir });
    cleanups.push(() => rmSync(first.dataDir, { recursive: true, force: true }));
    cleanups.push(() => first.proc.killGroup());
    await send(first, EVENT_ID);
    await waitFor('the bad row in bad.jsonl', () => lines(join(dataDir, 'bad.jsonl')).some((l) => l.includes(EVENT_ID)), 60000);
    expect(goodWith(dataDir, EVENT_ID)).toEqual([]);
    first.proc.signalGroup('SIGINT');
    await first.proc.exited;

    // 2. The schema is added: the pipeline runs again with the examples' schemas, on the same emulator and files.
    inst = await startLocalBundle(['--pubsub'], { PUBSUB_EMULATOR_HOST: emulator, WAYMARK_LOCAL_UDF: await buildRuntimeBundle('udf-examples'), WAYMARK_LOCAL_DATA_DIR: dataDir });
    cleanups.push(() => rmSync(inst.dataDir, { recursive: true, force: true }));
    cleanups.push(() => inst.proc.killGroup());
  });

  const recoverJson = async (args: string[]) => {
    let out = '';
    let err = '';
    const code = await runRecover(['--input', join(dataDir, 'bad.jsonl'), '--schemas', EXAMPLE_SCHEMAS, '--json', ...args], (t) => (out += t), (t) => (err += t));
    if (code !== 0) throw new Error(`waymark recover exited ${code}: ${err}${out}`);
    return JSON.parse(out);
  };

  test('dry run: the bad row would now pass; nothing is published', async () => {
    const report = await recoverJson([]);
    expect(report).toMatchObject({ read: 1, selected: 1, wouldPass: 1, stillFailing: 0, dryRun: true, published: 0 });
    // Without the schema folder it still fails, with the reason.
    let out = '';
    await runRecover(['--input', join(dataDir, 'bad.jsonl'), '--json'], (t) => (out += t));
    expect(JSON.parse(out)).toMatchObject({ wouldPass: 0, stillFailing: 1 });
  });

  test('replay: the original message is republished and becomes a good row, marked in the state file', async () => {
    const report = await recoverJson(['--replay', '--topic', 'waymark-raw', '--project', 'waymark-local', '--state', stateFile]);
    expect(report).toMatchObject({ selected: 1, wouldPass: 1, published: 1, alreadyReplayed: 0, publishErrors: [] });
    const rows = await waitFor('the recovered event in good.jsonl', () => {
      const r = goodWith(dataDir, EVENT_ID);
      return r.length > 0 ? r : undefined;
    }, 60000);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ event_id: EVENT_ID, event_name: 'button_click', app_id: 'shop' });
    expect(rows[0].unstruct_event_io_waymark_example_button_click_1).toMatchObject({ button_id: 'buy' });
    const state = loadState(stateFile);
    const [id] = Object.keys(state.replayed);
    expect(Object.keys(state.replayed)).toHaveLength(1);
    expect(id).toBe(payloadId(JSON.stringify(JSON.parse(lines(join(dataDir, 'bad.jsonl'))[0]).data.payload)));
    expect(REPLAY_ID_ATTRIBUTE).toBe('waymark_replay_id');
  });

  test('replaying twice does not duplicate (the shipped CLI entry, run as a process)', () => {
    const tsx = join(ROOT, 'node_modules', '.bin', 'tsx');
    const r = spawnSync(tsx, [join(ROOT, 'lib', 'recover', 'cli.ts'), 'recover', '--input', join(dataDir, 'bad.jsonl'), '--schemas', EXAMPLE_SCHEMAS, '--replay', '--topic', 'projects/waymark-local/topics/waymark-raw', '--state', stateFile], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, PUBSUB_EMULATOR_HOST: emulator },
      encoding: 'utf8',
      cwd: dataDir,
    });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(r.stdout).toContain('would now pass: 1');
    expect(r.stdout).toMatch(/published 0 to waymark-local\/waymark-raw; skipped 1 already replayed/);
  });

  test('after a later event has been enriched, the recovered event is still in good.jsonl exactly once', async () => {
    await send(inst, LATER_ID);
    await waitFor('the later event in good.jsonl', () => goodWith(dataDir, LATER_ID).length === 1, 60000);
    expect(goodWith(dataDir, EVENT_ID)).toHaveLength(1);
  });
});
