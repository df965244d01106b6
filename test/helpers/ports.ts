/**
 * Ports for test servers that must listen on a port known in advance: a server stopped and started again on the same
 * port (clients keep its address), or a program that binds the port itself seconds after being told it (the Pub/Sub
 * emulator's JVM). A port from `listen(0)` is free only at that instant: the kernel may hand it to any other socket
 * (another jest worker's server, any outgoing connection) before it is bound again, and then the start fails with
 * EADDRINUSE.
 *
 * A reserved port avoids both kinds of thieves:
 * - it lies below the kernel's ephemeral range (/proc/sys/net/ipv4/ip_local_port_range), so the kernel never gives it
 *   to a `listen(0)` or to an outgoing connection;
 * - it is claimed with an exclusive lock file (`<tmp>/waymark-test-ports/<port>`, holding the owner's pid), so no other
 *   test process using this module (parallel workers, other jest runs on the machine) picks it while the owner lives.
 *   `releasePort` removes the lock; a lock whose process is gone (a worker that exited or was killed) is taken over.
 *   The folder itself stays: every test process shares it.
 * A program outside this scheme could still bind the port: `reservePort` checks the port is bindable when it claims it,
 * and a later start that still fails says EADDRINUSE with the port.
 */
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const LOCK_DIR = join(tmpdir(), 'waymark-test-ports');
/** Lowest port handed out (above the registered ports most services use). */
const FIRST = 20000;
const held = new Set<number>();

/** First port of the kernel's ephemeral range (32768 on Linux by default). */
export function ephemeralStart(): number {
  try {
    const lo = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(lo) && lo > 0 ? lo : 32768;
  } catch {
    return 32768;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Creates the lock file of `port`; false when a live process holds it. */
function claim(port: number): boolean {
  const file = join(LOCK_DIR, String(port));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let owner = NaN;
      try {
        owner = Number(readFileSync(file, 'utf8'));
      } catch {
        continue; // removed meanwhile: try again
      }
      // An empty file is a claim being written right now: leave it.
      if (!Number.isInteger(owner) || owner <= 0 || owner === process.pid || processAlive(owner)) return false;
      try {
        unlinkSync(file); // stale: its process is gone
      } catch {
        // another process took it over first
      }
    }
  }
  return false;
}

function unlock(port: number): void {
  held.delete(port);
  try {
    unlinkSync(join(LOCK_DIR, String(port)));
  } catch {
    // already gone
  }
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * Reserves a loopback port for this process until `releasePort` (or until the process is gone). Fails with a message naming the range when
 * none is left (a machine whose ephemeral range starts too low, or hundreds of stale claims).
 */
export async function reservePort(options: { readonly candidates?: readonly number[] } = {}): Promise<number> {
  const end = Math.min(ephemeralStart(), 65536);
  if (end - FIRST < 100) {
    throw new Error(`reservePort: the kernel's ephemeral port range starts at ${end}, leaving no ports from ${FIRST} below it (see /proc/sys/net/ipv4/ip_local_port_range)`);
  }
  mkdirSync(LOCK_DIR, { recursive: true });
  const size = end - FIRST;
  const offset = Math.floor(Math.random() * size);
  // Bounded: at most 500 candidates, each a file create and a bind. `candidates` (tests of this module) replaces the range.
  const tries = options.candidates?.length ?? Math.min(size, 500);
  for (let i = 0; i < tries; i++) {
    const port = options.candidates?.[i] ?? FIRST + ((offset + i) % size);
    if (!claim(port)) continue;
    held.add(port);
    if (await bindable(port)) return port;
    // Something outside this scheme listens there: keep the claim (nobody else in the scheme tries it), try another.
  }
  throw new Error(`reservePort: no free port ${options.candidates ? `among ${options.candidates.join(', ')}` : `between ${FIRST} and ${end - 1} after 500 tries`} (locks in ${LOCK_DIR})`);
}

/** Gives a reserved port back. */
export function releasePort(port: number): void {
  if (held.has(port)) unlock(port);
}
