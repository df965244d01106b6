/**
 * Reserved test ports (ports.ts): outside the kernel's ephemeral range, claimed across processes with lock files,
 * stale claims taken over, ports something else listens on skipped.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:net';
import { join } from 'node:path';
import { ephemeralStart, LOCK_DIR, releasePort, reservePort } from '../helpers/ports';

const listen = (port: number): Promise<Server> =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
const close = (s: Server): Promise<void> => new Promise((r) => s.close(() => r()));
const lockFile = (port: number): string => join(LOCK_DIR, String(port));

test('a reserved port is below the ephemeral range, locked with our pid, bindable again and again, and released', async () => {
  const a = await reservePort();
  const b = await reservePort();
  try {
    expect(a).not.toBe(b);
    for (const p of [a, b]) {
      expect(p).toBeGreaterThanOrEqual(20000);
      expect(p).toBeLessThan(ephemeralStart());
      expect(readFileSync(lockFile(p), 'utf8')).toBe(String(process.pid));
    }
    // Stop and start on the same port, with 300 port-0 listeners in between: the kernel never hands it out.
    let s = await listen(a);
    await close(s);
    const others = await Promise.all(Array.from({ length: 300 }, () => listen(0)));
    expect(others.map((o) => (o.address() as { port: number }).port).filter((p) => p < ephemeralStart())).toEqual([]);
    await Promise.all(others.map(close));
    s = await listen(a);
    await close(s);
  } finally {
    releasePort(a);
    releasePort(b);
  }
  expect(existsSync(lockFile(a))).toBe(false);
});

test("another live process's claim is respected; a dead process's claim is taken over; a port in use is skipped", async () => {
  // Four ports of our own, whose lock files the test then rewrites as other processes' claims.
  const [live, dead, used, free] = [await reservePort(), await reservePort(), await reservePort(), await reservePort()];
  const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
  const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
  releasePort(used);
  releasePort(free);
  const server = await listen(used);
  try {
    writeFileSync(lockFile(live), String(sleeper.pid));
    writeFileSync(lockFile(dead), gone);
    expect(await reservePort({ candidates: [live] }).catch((e: Error) => e.message)).toBe(`reservePort: no free port among ${live} (locks in ${LOCK_DIR})`);
    expect(await reservePort({ candidates: [live, dead] })).toBe(dead);
    expect(readFileSync(lockFile(dead), 'utf8')).toBe(String(process.pid));
    expect(await reservePort({ candidates: [live, used, free] })).toBe(free);
  } finally {
    sleeper.kill();
    await close(server);
    for (const p of [live, dead, used, free]) releasePort(p);
  }
});
