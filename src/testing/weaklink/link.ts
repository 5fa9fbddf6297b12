/**
 * The weak-link emulator: a client process (a browser) in its own network namespace, reaching the
 * host through a "wire" namespace where wire.py copies Ethernet frames between two veth pairs,
 * adding delay, jitter, loss and blackouts (this kernel has no netem); `tc tbf` on the wire's two
 * ends shapes the rate in each direction.
 *
 *   host ns: <id>h 10.231.K.1/30 ── wire ns: <id>a ⇄ wire.py ⇄ <id>b ── client ns: <id>c 10.231.K.2/30
 *
 * Rules: needs root and iproute2 (a link that cannot be made throws with the reason — callers fail,
 * never skip); touches no address or interface it did not create (K is a /24 with no address on
 * the host); every namespace it makes is deleted by close(), at process exit, or — if a run was
 * killed — by the next run (names carry the creating pid). See docs/weak-links.md.
 */
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { PROFILES, type LinkConditions, type ProfileName } from './profiles.ts';

const WIRE = join(dirname(fileURLToPath(import.meta.url)), 'wire.py');
const PYTHON = '/usr/bin/python3';
const PREFIX = 'cauyte-wl-';

export interface WeakLink {
  /** The host's end of the link: servers the client must reach listen here. */
  readonly hostAddress: string;
  /** The host's end of the link: its interface name (e.g. for Janus's ICE interface list). */
  readonly hostInterface: string;
  /** The client's address inside its namespace. */
  readonly clientAddress: string;
  /** The client's network namespace (for `ip netns exec`). */
  readonly namespace: string;
  /** The conditions now applied. */
  readonly conditions: LinkConditions;
  /** Applies a named profile or explicit conditions, in both directions. */
  shape(profile: ProfileName | LinkConditions): Promise<void>;
  /** Nothing gets through for this long, then the previous conditions return. */
  blackout(ms: number): Promise<void>;
  /** An executable that runs a program inside the client namespace: `<wrapper> program args…`. */
  readonly runInside: string;
  /** An executable that runs `program` inside the client namespace with the arguments it is given (e.g. Chromium for Playwright). */
  wrap(program: string): string;
  /** Frames forwarded and dropped by the wire so far, per direction (up: client → host). */
  counts(): Promise<{ up: [number, number]; down: [number, number] }>;
  /** Deletes the namespaces (and with them every interface made here). Safe to call twice. */
  close(): Promise<void>;
}

let made = 0;
const open = new Set<string>();

function ip(args: string[]): string {
  try {
    return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`weak link: \`ip ${args.join(' ')}\` failed: ${(e.stderr || e.message).trim()}`, { cause: err });
  }
}

function tc(ns: string, args: string[]): void {
  try {
    execFileSync('ip', ['netns', 'exec', ns, 'tc', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(`weak link: \`tc ${args.join(' ')}\` failed: ${String(e.stderr ?? e.message).trim()}`, { cause: err });
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Namespaces left by a run that was killed before it could clean up (its pid is gone). */
function removeLeftovers(): void {
  let list: string;
  try {
    list = ip(['netns', 'list']);
  } catch {
    return;
  }
  for (const line of list.split('\n')) {
    const name = line.split(' ')[0];
    const m = name?.startsWith(PREFIX) ? /^cauyte-wl-(\d+)-/.exec(name) : null;
    if (m && !alive(Number(m[1]))) execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  }
}

/** A /24 under 10.231.0.0/16 with no address on the host: the link's /30 is made inside it. */
function freeSubnet(): number {
  const used = ip(['-4', '-o', 'addr', 'show']);
  const routes = ip(['-4', 'route', 'show']);
  for (let i = 0; i < 256; i++) {
    const k = (process.pid + made * 7 + i) % 256;
    if (!used.includes(`10.231.${k}.`) && !routes.includes(`10.231.${k}.`)) return k;
  }
  throw new Error('weak link: no free 10.231.K.0/24 left on this host');
}

function deleteNamespaces(names: string[]): void {
  for (const n of names) {
    try {
      execFileSync('ip', ['netns', 'del', n], { stdio: 'ignore' });
    } catch {
      // already gone
    }
    open.delete(n);
  }
}

process.on('exit', () => deleteNamespaces([...open]));

/** Makes the link, applies `profile`, and starts the wire. Throws (with the reason) when it cannot. */
export async function openWeakLink(profile: ProfileName | LinkConditions = 'good'): Promise<WeakLink> {
  if (process.getuid?.() !== 0) throw new Error('weak link: needs root (network namespaces); run the tests as root');
  removeLeftovers();
  const id = `${process.pid}-${++made}`;
  const short = `wl${(process.pid % 10000).toString(36)}${made.toString(36)}`; // interface names ≤ 15 chars
  const wire = `${PREFIX}${id}-wire`;
  const client = `${PREFIX}${id}-client`;
  const k = freeSubnet();
  const hostAddress = `10.231.${k}.1`;
  const clientAddress = `10.231.${k}.2`;
  const [h, a, b, c] = ['h', 'a', 'b', 'c'].map((x) => short + x);
  const dir = mkdtempSync(join(tmpdir(), 'cauyte-wl-'));
  let proc: ChildProcessWithoutNullStreams | undefined;
  const cleanup = () => {
    proc?.stdin.end();
    proc?.kill();
    // The host's end first: a namespace is torn down in the background, its veth peers with it.
    try {
      execFileSync('ip', ['link', 'del', h], { stdio: 'ignore' });
    } catch {
      // never made, or already gone
    }
    deleteNamespaces([wire, client]);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const ns of [wire, client]) {
      ip(['netns', 'add', ns]);
      open.add(ns);
    }
    ip(['link', 'add', h, 'type', 'veth', 'peer', 'name', a, 'netns', wire]);
    ip(['link', 'add', c, 'netns', client, 'type', 'veth', 'peer', 'name', b, 'netns', wire]);
    ip(['addr', 'add', `${hostAddress}/30`, 'dev', h]);
    ip(['link', 'set', h, 'up']);
    ip(['-n', client, 'addr', 'add', `${clientAddress}/30`, 'dev', c]);
    ip(['-n', client, 'link', 'set', c, 'up']);
    ip(['-n', client, 'link', 'set', 'lo', 'up']);
    ip(['-n', wire, 'link', 'set', a, 'up']);
    ip(['-n', wire, 'link', 'set', b, 'up']);
    // Frames copied by a packet socket must carry their real checksums and fit one MTU.
    execFileSync(PYTHON, [WIRE, 'offloads-off', h]);
    for (const [ns, dev] of [
      [client, c],
      [wire, a],
      [wire, b],
    ])
      execFileSync('ip', ['netns', 'exec', ns, PYTHON, WIRE, 'offloads-off', dev]);

    proc = spawn('ip', ['netns', 'exec', wire, PYTHON, WIRE, a, b], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr.on('data', (d) => (stderr += String(d)));
    const lines = createInterface({ input: proc.stdout });
    const replies: ((line: string) => void)[] = [];
    lines.on('line', (line) => replies.shift()?.(line));
    const reply = () =>
      new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`weak link: the wire did not answer${stderr ? `: ${stderr.trim()}` : ''}`)), 5000);
        replies.push((line) => (clearTimeout(timer), resolve(line)));
      });
    const ready = reply();
    proc.on('exit', (code) => {
      if (open.has(wire)) console.warn(`weak link: the wire exited (${code}) ${stderr.trim()}`);
    });
    if ((await ready) !== 'ready') throw new Error(`weak link: the wire did not start: ${stderr}`);
    const tell = async (msg: string) => {
      const answer = reply();
      proc!.stdin.write(`${msg}\n`);
      return answer;
    };

    const runInside = join(dir, 'in-namespace');
    writeFileSync(runInside, `#!/bin/sh\nexec ip netns exec ${client} "$@"\n`);
    chmodSync(runInside, 0o755);

    let conditions: LinkConditions = PROFILES.good;
    const shape = async (p: ProfileName | LinkConditions) => {
      const next = typeof p === 'string' ? PROFILES[p] : p;
      if (!next) throw new Error(`weak link: no profile ${String(p)}`);
      if (!next.blackout && next.rateKbps !== conditions.rateKbps) {
        for (const dev of [a, b]) {
          if (next.rateKbps === null) {
            tc(wire, ['qdisc', 'replace', 'dev', dev, 'root', 'pfifo', 'limit', '1000']);
          } else {
            // A burst of ≈ 20 ms of traffic (at least three full frames); a queue of ≈ 400 ms, as a
            // 3G base station buffers before it drops.
            const burst = Math.max(4500, Math.round((next.rateKbps * 1000) / 8 / 50));
            tc(wire, ['qdisc', 'replace', 'dev', dev, 'root', 'tbf', 'rate', `${next.rateKbps}kbit`, 'burst', String(burst), 'latency', '400ms']);
          }
        }
      }
      const wireConditions = { delayMs: next.delayMs, jitterMs: next.jitterMs, loss: next.loss, blackout: next.blackout };
      if ((await tell(JSON.stringify(wireConditions))) !== 'ok') throw new Error('weak link: the wire refused the conditions');
      conditions = next.blackout ? { ...conditions, blackout: true, loss: 1 } : next;
    };
    await shape(profile);

    let closed = false;
    let wrapped = 0;
    return {
      hostAddress,
      hostInterface: h,
      clientAddress,
      namespace: client,
      runInside,
      get conditions() {
        return conditions;
      },
      shape,
      wrap(program: string) {
        const path = join(dir, `in-namespace-${++wrapped}`);
        writeFileSync(path, `#!/bin/sh\nexec ip netns exec ${client} ${JSON.stringify(program)} "$@"\n`);
        chmodSync(path, 0o755);
        return path;
      },
      async blackout(ms: number) {
        const before = conditions;
        await shape({ ...before, blackout: true, loss: 1 });
        await new Promise((r) => setTimeout(r, ms));
        await shape(before);
      },
      async counts() {
        return JSON.parse(await tell('stats')) as { up: [number, number]; down: [number, number] };
      },
      async close() {
        if (closed) return;
        closed = true;
        cleanup();
      },
    };
  } catch (err) {
    cleanup();
    throw err;
  }
}
