/**
 * The supervised child (src/platform/supervisor.ts) with a tiny HTTP server as the "binary": it is
 * started on a loopback port with its configuration, started again when it dies, a leftover of a
 * killed server (pid file, our folder on its command line) is stopped first, and stop() ends it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Supervisor } from './supervisor.ts';

const SERVER = `require('node:http').createServer((q, s) => s.end(String(process.pid))).listen(Number(process.argv[1]), '127.0.0.1')`;
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('supervised child', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cauyte-supervisor-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('starts on a free loopback port, restarts after a crash, stops a leftover first, and stops', async () => {
    // A leftover of a server that was SIGKILLed: its child still runs, named in the pid file.
    const leftover = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', dir], { stdio: 'ignore' });
    writeFileSync(join(dir, 'tiny.pid'), String(leftover.pid));
    const gone = new Promise((r) => leftover.once('exit', r));
    let configuredPort = 0;
    const s = new Supervisor({
      name: 'tiny',
      dir,
      binary: process.execPath,
      configure: (port) => {
        configuredPort = port;
        writeFileSync(join(dir, 'tiny.conf'), `port=${port}\n`);
        return ['-e', SERVER, String(port), dir];
      },
      readyUrl: (port) => `http://127.0.0.1:${port}/`,
      startMs: 10_000,
      stopMs: 2000,
    });
    let restarts = 0;
    s.onRestart = () => restarts++;
    const port = await s.start();
    await gone;
    expect(port).toBe(configuredPort);
    expect(readFileSync(join(dir, 'tiny.conf'), 'utf8')).toBe(`port=${port}\n`);
    const first = Number(await (await fetch(`http://127.0.0.1:${port}/`)).text());
    expect(Number(readFileSync(join(dir, 'tiny.pid'), 'utf8'))).toBe(first);
    // A crash: started again on the same port.
    process.kill(first, 'SIGKILL');
    let second = first;
    for (let i = 0; i < 100 && (second === first || Number.isNaN(second)); i++) {
      await new Promise((r) => setTimeout(r, 100));
      second = await fetch(`http://127.0.0.1:${port}/`).then(
        async (r) => Number(await r.text()),
        () => first,
      );
    }
    expect(second).not.toBe(first);
    await expect.poll(() => restarts).toBe(1); // told once it answers again
    await s.stop();
    await new Promise((r) => setTimeout(r, 200));
    expect(alive(second)).toBe(false);
    // Stopped means stopped: no restart.
    await new Promise((r) => setTimeout(r, 1500));
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
  });
});
