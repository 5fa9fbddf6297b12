/**
 * Suite `training`: one tele-mentoring session with 30 bridge points. Thirty commune stations
 * (one clinician each) enrol in a course; the teacher opens the session's room; 29 stations join
 * over the room page's signalling protocol (bench/training-clients.ts) and one through a real
 * Chromium on the room page, all at once; they stay, the teacher ends the room and counts
 * attendance. The run fails unless attendance is recorded for every one of the 30 sites; how many
 * count (present for half of this short session) is reported.
 *
 * Join time per participant: from opening the room (the learning page's POST) to the server's
 * `welcome` for a simulated site; from the click on "join" to the same `welcome` in the browser.
 * Server CPU: process.cpuUsage() of this process, which runs only the platform (the participants
 * are in a child process; Chromium and Janus are processes of their own), over the join burst,
 * a steady stretch with everyone in the room, and the end + attendance count.
 *
 * A room for more than 4 people is an SFU room: the video domain opens it only with a media
 * server (src/video/rooms.ts), so Janus must be installed even though the simulated sites send
 * no media; the browser publishes its fake camera through it.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as pathJoin } from 'node:path';
import type { Organization, Practitioner } from '@medplum/fhirtypes';
import type { Role } from '../src/auth/policy.ts';
import { seedDemo } from '../src/seed/demo.ts';
import { call, startTestPlatform, type TestPlatform } from '../src/testing/platform.ts';
import type { DbKind } from '../src/testing/databases.ts';
import type { CourseView, ProgrammeView, SessionResult } from '../src/training/contract.ts';
import type { ClientPlan } from './training-clients.ts';
import { fmt, median, percentile, rows } from './lib.ts';

const SITES = 30;

export interface TrainingRound {
  joinMs: number[];
  /** Per simulated join: opening the room (POST), reading it (GET), the socket to `welcome`. */
  parts: [number, number, number][];
  browserMs: number;
  /** Server CPU ms over the join burst, per participant. */
  joinCpuMsPer: number;
  /** Server CPU over the steady stretch, % of one core per participant. */
  steadyCpuPctPer: number;
  steadySeconds: number;
  /** Server CPU ms for ending the room and counting attendance, per participant. */
  closeCpuMsPer: number;
  closeMs: number;
  sitesRecorded: number;
  sitesCounted: number;
}

const json = (h: Record<string, string>) => ({ ...h, 'content-type': 'application/json' });

function cpuMs(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
}

/** Runs one command in the participants' process and returns its answer. */
function ask<T>(child: ReturnType<typeof fork>, msg: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    child.once('message', (r: { ok: boolean; result?: T; error?: string }) => (r.ok ? resolve(r.result!) : reject(new Error(r.error))));
    child.send(msg as object);
  });
}

let made = 0;

/**
 * A clinician with a Practitioner record and a signed-in browser session (cookie + CSRF), made on
 * the platform directly: 32 sign-ins a round would pass the login route's limit (20 a minute).
 */
async function staff(p: TestPlatform, name: string, organizationId: string, role: Role): Promise<{ practitionerId: string; headers: Record<string, string> }> {
  const practitioner = await p.fixtures.create<Practitioner>({ resourceType: 'Practitioner', active: true, name: [{ text: name }] });
  const account = await p.accounts.create({
    username: `bench.training.${++made}.${Date.now() % 100000}`,
    displayName: name,
    kind: 'staff',
    practitionerId: practitioner.id,
    roles: [{ role, organizationId }],
  });
  const { token, session } = await p.sessions.create(account.id, true, { role, organizationId }, { ip: '127.0.0.1', userAgent: 'bench' });
  return { practitionerId: practitioner.id!, headers: { authorization: '', cookie: `cy_session=${token}`, 'x-csrf-token': session.csrfToken } };
}

interface Network {
  hub: string;
  sites: string[];
}

async function round(p: TestPlatform, base: string, net: Network, n: number, steadySeconds: number, log: (m: string) => void): Promise<TrainingRound> {
  const coordinator = await staff(p, `Điều phối ${n}`, net.hub, 'coordinator');
  const teacher = await staff(p, `Giảng viên ${n}`, net.hub, 'specialist');
  const learners = [];
  for (const [i, o] of net.sites.entries()) learners.push(await staff(p, `Học viên ${n}.${i + 1}`, o, 'commune_clinician'));
  const prog = await call<ProgrammeView>(p, 'POST', '/api/training/programmes', { title: `Chương trình bench ${n}` }, json(coordinator.headers));
  if (prog.status !== 201) throw new Error(`programme: ${prog.status} ${prog.text}`);
  const start = Date.now() - 60_000;
  const course = await call<CourseView>(
    p,
    'POST',
    '/api/training/courses',
    {
      programmeId: prog.body.id,
      title: `Khoá bench ${n}`,
      capacity: 100,
      // The session here lasts a minute, not an hour: the join burst is a large share of it.
      minShare: 0.5,
      teacherPractitionerIds: [teacher.practitionerId],
      sessions: [{ title: 'Buổi 1', start: new Date(start).toISOString(), end: new Date(start + 3_600_000).toISOString(), credits: 2 }],
    },
    json(coordinator.headers),
  );
  if (course.status !== 201) throw new Error(`course: ${course.status} ${course.text}`);
  for (const l of learners) {
    const r = await call(p, 'POST', `/api/training/courses/${course.body.id}/enrol`, {}, json(l.headers));
    if (r.status !== 200) throw new Error(`enrol: ${r.status} ${r.text}`);
  }
  const sessionId = course.body.sessions[0].id;
  const plan: ClientPlan = {
    base,
    appointmentId: sessionId,
    teacher: teacher.headers,
    sites: learners.slice(1).map((l) => l.headers),
    browser: learners[0].headers,
  };
  const child = fork(new URL('./training-clients.ts', import.meta.url).pathname, [], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  try {
    log(`training round ${n}: ${SITES} sites join`);
    const c0 = process.cpuUsage();
    const joined = await ask<{ joinMs: number[]; parts: [number, number, number][]; browserMs: number }>(child, { cmd: 'join', plan });
    const joinCpu = cpuMs(c0);
    // The steady stretch: everyone in the room, pings, the browser's media through Janus.
    const c1 = process.cpuUsage();
    const t1 = performance.now();
    await new Promise((r) => setTimeout(r, steadySeconds * 1000));
    const steadyCpu = cpuMs(c1);
    const steadyWall = (performance.now() - t1) / 1000;
    const c2 = process.cpuUsage();
    const t2 = performance.now();
    const ended = await ask<{ ended: number }>(child, { cmd: 'end' });
    if (ended.ended !== SITES - 1) throw new Error(`only ${ended.ended} of ${SITES - 1} simulated sites were told the session ended`);
    const closed = await call<SessionResult>(p, 'POST', `/api/training/sessions/${sessionId}/close`, {}, json(teacher.headers));
    if (closed.status !== 200) throw new Error(`close: ${closed.status} ${closed.text}`);
    const closeMs = performance.now() - t2;
    const closeCpu = cpuMs(c2);
    const sites = new Set(closed.body.attendance.map((a) => a.organizationName));
    const counted = new Set(closed.body.attendance.filter((a) => a.counted).map((a) => a.organizationName));
    if (sites.size !== SITES) throw new Error(`attendance recorded for ${sites.size} of ${SITES} sites: ${JSON.stringify(closed.body.attendance)}`);
    return {
      joinMs: joined.joinMs,
      parts: joined.parts,
      browserMs: joined.browserMs,
      joinCpuMsPer: joinCpu / SITES,
      steadyCpuPctPer: (steadyCpu / 1000 / steadyWall / SITES) * 100,
      steadySeconds: steadyWall,
      closeCpuMsPer: closeCpu / SITES,
      closeMs,
      sitesRecorded: sites.size,
      sitesCounted: counted.size,
    };
  } finally {
    child.kill();
  }
}

export async function benchTraining(opts: { kind: DbKind; rounds: number; steadySeconds: number; log: (m: string) => void }): Promise<TrainingRound[]> {
  const dataDir = mkdtempSync(pathJoin(tmpdir(), 'cauyte-bench-training-'));
  let p: TestPlatform | undefined;
  try {
    p = await startTestPlatform(opts.kind, { CAUYTE_JANUS: 'auto', CAUYTE_DATA_DIR: dataDir }, undefined, {
      domains: ['consult', 'video', 'programme', 'training'],
    });
    if (!p.janus.length) throw new Error('janus is not installed (apt-get install janus): a 31-person room is an SFU room');
    const demo = await seedDemo(p.store, 2);
    const net: Network = { hub: demo.ids.organizations.bachmai, sites: [] };
    for (let i = 1; i <= SITES; i++)
      net.sites.push(
        (await p.fixtures.create<Organization>({ resourceType: 'Organization', active: true, name: `Trạm Y tế bench ${String(i).padStart(2, '0')}` })).id!,
      );
    const base = await p.listen();
    const out: TrainingRound[] = [];
    for (let n = 1; n <= opts.rounds; n++) out.push(await round(p, base, net, n, opts.steadySeconds, opts.log));
    report(out, opts.kind);
    return out;
  } finally {
    await p?.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function report(r: TrainingRound[], db: string): void {
  const all = r.flatMap((x) => x.joinMs);
  const spread = (xs: number[], d = 0) => (xs.length > 1 ? ` (rounds: ${xs.map((x) => fmt(x, d)).join(', ')})` : '');
  const p95s = r.map((x) => percentile(x.joinMs, 95));
  rows.push({
    benchmark: `training session, ${SITES} bridge points: join time, ${SITES - 1} simulated sites at once (open room → welcome)`,
    db,
    value: `p50 ${fmt(percentile(all, 50))}, p95 ${fmt(percentile(all, 95))}`,
    unit: 'ms',
    note: `${all.length} joins over ${r.length} round(s); p95 per round${spread(p95s)}; max ${fmt(Math.max(...all))}; one Chromium joining at the same time`,
  });
  const part = (i: number) =>
    `p50 ${fmt(
      percentile(
        r.flatMap((x) => x.parts.map((q) => q[i])),
        50,
      ),
    )}, p95 ${fmt(
      percentile(
        r.flatMap((x) => x.parts.map((q) => q[i])),
        95,
      ),
    )}`;
  rows.push({
    benchmark: 'training session: the simulated join in parts: open room (POST) / read room (GET) / socket → welcome',
    db,
    value: `${part(0)} / ${part(1)} / ${part(2)}`,
    unit: 'ms',
    note: 'the socket part enters the room: access check, attendance row, audit entry, member saved, everyone told',
  });
  rows.push({
    benchmark: `training session: join time, the real browser (click on "join" → welcome)`,
    db,
    value: fmt(median(r.map((x) => x.browserMs))),
    unit: 'ms',
    note: `median of ${r.length} round(s)${spread(r.map((x) => x.browserMs))}; room page with the fake camera, publishing through Janus`,
  });
  rows.push({
    benchmark: 'training session: server CPU per participant, join burst',
    db,
    value: fmt(median(r.map((x) => x.joinCpuMsPer)), 1),
    unit: 'CPU ms / participant',
    note: `process.cpuUsage of the server process over the ${SITES} joins (+ the teacher's)${spread(
      r.map((x) => x.joinCpuMsPer),
      1,
    )}`,
  });
  rows.push({
    benchmark: `training session: server CPU per participant, all ${SITES} in the room`,
    db,
    value: fmt(median(r.map((x) => x.steadyCpuPctPer)), 3),
    unit: '% of a core / participant',
    note: `over ${fmt(median(r.map((x) => x.steadySeconds)))} s steady${spread(
      r.map((x) => x.steadyCpuPctPer),
      3,
    )}`,
  });
  rows.push({
    benchmark: 'training session: end the room + count attendance, server CPU per participant',
    db,
    value: fmt(median(r.map((x) => x.closeCpuMsPer)), 1),
    unit: 'CPU ms / participant',
    note: `wall ${fmt(median(r.map((x) => x.closeMs)))} ms; attendance recorded for ${r.map((x) => `${x.sitesRecorded}/${SITES}`).join(', ')} sites, counted (≥ 50 % of the session) for ${r.map((x) => `${x.sitesCounted}/${SITES}`).join(', ')}`,
  });
}
