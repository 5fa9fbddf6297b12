/**
 * Killing the server with SIGKILL in the middle of a stream of writes loses no write that was
 * answered 201: every acknowledged resource is there after a restart, on both databases.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDb, DB_KINDS, type TestDb } from '../testing/databases.ts';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { freePort, TEST_SECRET } from '../testing/platform.ts';
import { announcedUrl } from '../platform/demo-banner.ts';

const CLI = new URL('../../bin/cauyte.js', import.meta.url).pathname;
const run = promisify(execFile);

function startServer(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'serve'], {
      env: { ...process.env, ...env, CAUYTE_DEMO: 'off', CAUYTE_JANUS: 'off', CAUYTE_ORTHANC: 'off', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      const url = announcedUrl(out);
      if (url) resolve({ child, url });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => reject(new Error(`server exited (${code}) before it was ready: ${out}`)));
    // A server that never says it is ready is stopped, never left running after the test.
    setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start: ${out}`));
    }, 60_000).unref();
  });
}

describe.each(DB_KINDS)('crash safety on %s', (kind) => {
  let testDb: TestDb | undefined;
  let dir: string | undefined;
  afterAll(async () => {
    await testDb?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every write that was answered 201 after SIGKILL', async () => {
    const port = String(await freePort());
    let env: Record<string, string>;
    if (kind === 'postgres') {
      testDb = await createTestDb('postgres');
      env = { DATABASE_URL: testDb.url!, PORT: port };
    } else {
      dir = mkdtempSync(join(tmpdir(), 'cauyte-crash-'));
      env = { CAUYTE_DATA_DIR: dir, PORT: port };
    }
    env.CAUYTE_SECRET_KEY = TEST_SECRET;
    // An integration system's token, issued by an operator on the server (before it starts: PGlite has one owner).
    const { stdout } = await run(process.execPath, [CLI, 'token', 'issue', '--role', 'integration', '--ttl', '30m'], {
      env: { ...process.env, ...env, LOG_LEVEL: 'silent' },
    });
    const auth = { authorization: `Bearer ${stdout.trim()}` };
    const first = await startServer(env);
    const acknowledged: string[] = [];
    let stop = false;
    let failedAfterKill = 0;
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        try {
          const res = await fetch(`${first.url}/fhir/R4/Patient`, {
            method: 'POST',
            headers: { 'content-type': 'application/fhir+json', ...auth },
            body: JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Crash', given: [`W${w}`, `N${i}`] }] }),
          });
          if (res.status === 201) acknowledged.push(((await res.json()) as { id: string }).id);
        } catch {
          failedAfterKill++; // the connection died with the server: not acknowledged
          return;
        }
      }
    };
    const writers = [0, 1, 2, 3, 4, 5].map(writer);
    while (acknowledged.length < 150) await new Promise((r) => setTimeout(r, 20));
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    await Promise.all(writers);
    stop = true;
    const acked = [...acknowledged];
    expect(acked.length).toBeGreaterThanOrEqual(150);
    expect(failedAfterKill).toBeGreaterThan(0); // writes really were in flight when it died

    const second = await startServer(env);
    try {
      const missing: string[] = [];
      for (const id of acked) {
        const res = await fetch(`${second.url}/fhir/R4/Patient/${id}`, { headers: auth });
        if (res.status !== 200) missing.push(`${id}: ${res.status}`);
      }
      expect(missing).toEqual([]);
      const count = (await (await fetch(`${second.url}/fhir/R4/Patient?_summary=count`, { headers: auth })).json()) as { total: number };
      expect(count.total).toBeGreaterThanOrEqual(acked.length);
    } finally {
      second.child.kill('SIGTERM');
      await new Promise((r) => second.child.once('exit', r));
    }
  });
});
