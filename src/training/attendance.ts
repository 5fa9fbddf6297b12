/**
 * Attendance and credits. A session's attendance is counted when its teacher closes it, from the
 * video domain's attendance rows of the session's room(s) (read-only grant: who joined and left
 * when, from which site) and the sign-ins of people watching together at a bridge point. A person
 * counts when present for at least the course's minimum share of the session as held (first
 * entry into the room to its end); overlapping stays are merged. Credits (CME periods) go to
 * those who count; a clinician's total is summed over the licence cycle (training_setting).
 */
import type { AccessContext } from '../auth/actor.ts';
import { AccessDenied } from '../auth/access.ts';
import type { Repository } from '../fhir/repository.ts';
import type { FhirStore } from '../fhir/store.ts';
import { badRequest, conflict } from '../fhir/outcome.ts';
import type { AttendanceRow, LearningPage, SessionResult, TeacherPage } from './contract.ts';
import { loadCourse, loadSession, sessionView, type SessionRow } from './courses.ts';
import { CME_DEFAULT, num, orgNames } from './model.ts';
import type { CertificateService } from './certificates.ts';

type Interval = [number, number];

/** Minutes covered by the union of the intervals, clipped to [from, to]. */
export function coveredMinutes(intervals: Interval[], from: number, to: number): number {
  const clipped = intervals.map(([a, b]) => [Math.max(a, from), Math.min(b, to)] as Interval).filter(([a, b]) => b > a);
  clipped.sort((x, y) => x[0] - y[0]);
  let total = 0;
  let cur: Interval | undefined;
  for (const iv of clipped) {
    if (cur && iv[0] <= cur[1]) cur[1] = Math.max(cur[1], iv[1]);
    else {
      if (cur) total += cur[1] - cur[0];
      cur = [...iv];
    }
  }
  if (cur) total += cur[1] - cur[0];
  return total / 60_000;
}

export async function cmeSettings(tx: Repository): Promise<{ requiredPeriods: number; cycleYears: number }> {
  const rows = (await tx.sql.query<{ key: string; value: string }>('SELECT key, value FROM training_setting')).rows;
  const get = (k: string, d: number) => Number(rows.find((r) => r.key === k)?.value ?? d);
  return { requiredPeriods: get('required_periods', CME_DEFAULT.requiredPeriods), cycleYears: get('cycle_years', CME_DEFAULT.cycleYears) };
}

export class AttendanceService {
  constructor(
    private readonly store: FhirStore,
    private readonly certificates: CertificateService,
  ) {}

  /** A teacher of the course, or the hub's coordinator. */
  async assertTeacher(tx: Repository, ctx: AccessContext, courseId: string): Promise<void> {
    const c = await loadCourse(tx, courseId);
    const a = ctx.actor;
    if (a.practitionerId && c.teachers.includes(a.practitionerId)) return;
    if (a.role === 'coordinator' && a.organizationId === c.hub_org) return;
    throw new AccessDenied('Chỉ giảng viên của khoá học hoặc điều phối viên tuyến trên (only the course’s teachers or the hub’s coordinator)');
  }

  /** The host of a bridge point registers who watched together there (their facility must be enrolled). */
  async signIn(ctx: AccessContext, sessionId: string, people: { name: string; practitionerId?: string }[]): Promise<{ registered: number }> {
    const org = ctx.actor.organizationId;
    if (!org) throw new AccessDenied('Tài khoản không gắn với cơ sở nào (no facility)');
    return this.store.as(ctx, 'training.learn').transaction(async (tx) => {
      const s = await loadSession(tx, sessionId);
      if (s.closed_at) throw conflict('Buổi học đã chốt điểm danh (attendance already counted)');
      const enrolled = await tx.sql.query(
        "SELECT 1 FROM training_enrolment WHERE course_id = $1 AND org_id = $2 AND status = 'enrolled' AND (kind = 'facility' OR practitioner_id = $3) LIMIT 1",
        [s.course_id, org, ctx.actor.practitionerId ?? '-'],
      );
      if (!enrolled.rows.length) throw new AccessDenied('Cơ sở của bạn chưa ghi danh khoá học này (your facility is not enrolled)');
      // A sign-in with a practitioner id becomes that person's attendance and credits: only the
      // host themself or someone who works at the host's facility (PractitionerRole) — never a
      // doctor of another facility who did not sit here. A name alone is always possible.
      for (const p of people) {
        if (!p.practitionerId || p.practitionerId === ctx.actor.practitionerId) continue;
        const roles = await tx.search('PractitionerRole', {
          practitioner: `Practitioner/${p.practitionerId}`,
          organization: `Organization/${org}`,
          _count: '1',
        });
        if (!roles.length) throw badRequest(`${p.name}: không làm việc tại cơ sở của bạn, chỉ ghi họ tên (not staff of your facility: sign them in by name)`);
      }
      for (const p of people)
        await tx.sql.query('INSERT INTO training_signin (session_id, org_id, name, practitioner_id, host_account) VALUES ($1,$2,$3,$4,$5)', [
          sessionId,
          org,
          p.name,
          p.practitionerId ?? null,
          ctx.actor.accountId ?? 'system',
        ]);
      await tx.record({ action: 'training.signin', detail: { session: sessionId, n: people.length } });
      return { registered: people.length };
    });
  }

  /** Closes the session: counts attendance from the room's records and the sign-ins; credits those who count. */
  async close(ctx: AccessContext, sessionId: string): Promise<SessionResult> {
    await this.store.as(ctx, 'training.teach').transaction(async (tx) => {
      const s = await loadSession(tx, sessionId);
      await this.assertTeacher(tx, ctx, s.course_id);
      if (s.closed_at) throw conflict('Buổi học đã chốt điểm danh (attendance already counted)');
      const c = await loadCourse(tx, s.course_id);
      const rooms = (
        await tx.sql.query<{ id: string; created_at: Date; ended_at: Date | null }>('SELECT id, created_at, ended_at FROM video_room WHERE ref = $1', [
          `Appointment/${sessionId}`,
        ])
      ).rows;
      if (!rooms.length) throw badRequest('Buổi học chưa có phòng họp trực tuyến nào (the session was never held)');
      const rows = (
        await tx.sql.query<{ account_id: string | null; organization_id: string | null; joined_at: Date; left_at: Date | null }>(
          'SELECT account_id, organization_id, joined_at, left_at FROM video_attendance WHERE room_id = ANY($1)',
          [rooms.map((r) => r.id)],
        )
      ).rows;
      const now = Date.now();
      const t = (d: Date | null) => (d ? new Date(d).getTime() : now);
      // The session as held: from the first entry to the room's end (or now).
      const from = Math.min(...rows.map((r) => t(r.joined_at)), ...rooms.map((r) => t(r.created_at)));
      const to = Math.max(...rooms.map((r) => t(r.ended_at)));
      const held = Math.max(1 / 60, (to - from) / 60_000);
      const minShare = num(c.min_share);
      const credits = num(s.credits);
      const enrolments = (
        await tx.sql.query<{ practitioner_id: string; account_id: string | null; org_id: string; name: string }>(
          "SELECT practitioner_id, account_id, org_id, name FROM training_enrolment WHERE course_id = $1 AND kind = 'person' AND status = 'enrolled'",
          [s.course_id],
        )
      ).rows;
      const out: { key: string; practitioner: string | null; org: string | null; name: string; minutes: number; source: 'video' | 'signin' }[] = [];
      for (const e of enrolments) {
        const mine = rows.filter((r) => r.account_id && r.account_id === e.account_id).map((r) => [t(r.joined_at), t(r.left_at)] as Interval);
        if (!mine.length) continue;
        out.push({
          key: e.practitioner_id,
          practitioner: e.practitioner_id,
          org: e.org_id,
          name: e.name,
          minutes: coveredMinutes(mine, from, to),
          source: 'video',
        });
      }
      // People signed in at a bridge point count for as long as their site was in the room.
      const signins = (
        await tx.sql.query<{ id: number; org_id: string; name: string; practitioner_id: string | null }>(
          'SELECT id, org_id, name, practitioner_id FROM training_signin WHERE session_id = $1 ORDER BY id',
          [sessionId],
        )
      ).rows;
      for (const si of signins) {
        if (si.practitioner_id && out.some((o) => o.practitioner === si.practitioner_id)) continue;
        const site = rows.filter((r) => r.organization_id === si.org_id).map((r) => [t(r.joined_at), t(r.left_at)] as Interval);
        out.push({
          key: si.practitioner_id ?? `signin:${si.id}`,
          practitioner: si.practitioner_id,
          org: si.org_id,
          name: si.name,
          minutes: coveredMinutes(site, from, to),
          source: 'signin',
        });
      }
      for (const o of out) {
        const share = Math.min(1, o.minutes / held);
        const counted = share >= minShare;
        await tx.sql.query(
          `INSERT INTO training_attendance (session_id, person_key, practitioner_id, org_id, name, minutes, share, counted, credits, source)
           VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) ON CONFLICT (session_id, person_key) DO NOTHING`,
          [
            sessionId,
            o.key,
            o.practitioner,
            o.org,
            o.name,
            Math.round(o.minutes * 100) / 100,
            Math.round(share * 1000) / 1000,
            counted,
            counted ? credits : 0,
            o.source,
          ],
        );
      }
      await tx.sql.query('UPDATE training_session SET closed_at = now() WHERE id = $1', [sessionId]);
      await tx.record({ action: 'training.attendance', detail: { session: sessionId, people: out.length, heldMinutes: Math.round(held) } });
    });
    return this.result(ctx, sessionId);
  }

  /** A session's attendance (its teachers and the hub's coordinator). */
  async result(ctx: AccessContext, sessionId: string): Promise<SessionResult> {
    return this.store.as(ctx, 'training.teach').transaction(async (tx) => {
      const s = await loadSession(tx, sessionId);
      await this.assertTeacher(tx, ctx, s.course_id);
      const rows = (
        await tx.sql.query<{
          name: string;
          org_id: string | null;
          minutes: string;
          share: string;
          counted: boolean;
          credits: string;
          source: 'video' | 'signin';
        }>('SELECT name, org_id, minutes, share, counted, credits, source FROM training_attendance WHERE session_id = $1 ORDER BY name', [sessionId])
      ).rows;
      const names = await orgNames(
        tx,
        rows.map((r) => r.org_id ?? ''),
      );
      const attendance: AttendanceRow[] = rows.map((r) => ({
        name: r.name,
        organizationName: names.get(r.org_id ?? '') ?? '',
        minutes: num(r.minutes),
        share: num(r.share),
        counted: r.counted,
        credits: num(r.credits),
        source: r.source,
      }));
      // Vietnamese alphabetical order (the database's collation puts Đ after Z).
      attendance.sort((x, y) => x.name.localeCompare(y.name, 'vi'));
      return { session: sessionView(s), attendance };
    });
  }

  /** The clinician's own page: coming sessions, courses, credits against the requirement, certificates. */
  async learning(ctx: AccessContext): Promise<LearningPage> {
    const me = ctx.actor.practitionerId ?? '-';
    const org = ctx.actor.organizationId ?? '-';
    return this.store.as(ctx, 'training.learn').transaction(async (tx) => {
      const courses = (
        await tx.sql.query<{ id: string; title: string; status: 'enrolled' | 'waiting' }>(
          `SELECT DISTINCT ON (c.id) c.id, c.title, e.status FROM training_enrolment e JOIN training_course c ON c.id = e.course_id
           WHERE e.status <> 'withdrawn' AND ((e.kind = 'person' AND e.practitioner_id = $1) OR (e.kind = 'facility' AND e.org_id = $2)) ORDER BY c.id, e.status`,
          [me, org],
        )
      ).rows;
      const enrolled = courses.filter((c) => c.status === 'enrolled').map((c) => c.id);
      const upcoming = (
        await tx.sql.query<SessionRow>(
          `SELECT s.*, c.title AS course_title FROM training_session s JOIN training_course c ON c.id = s.course_id
           WHERE s.course_id = ANY($1) AND s.closed_at IS NULL AND s.ends_at > now() - interval '12 hours' ORDER BY s.starts_at LIMIT 50`,
          [enrolled],
        )
      ).rows;
      // Closed sessions on which this person's attendance was counted and who has not answered yet.
      const feedbackDue = (
        await tx.sql.query<SessionRow>(
          `SELECT s.*, c.title AS course_title FROM training_session s JOIN training_course c ON c.id = s.course_id
           JOIN training_attendance a ON a.session_id = s.id AND a.practitioner_id = $1
           WHERE s.closed_at > now() - interval '60 days'
             AND NOT EXISTS (SELECT 1 FROM training_feedback f WHERE f.session_id = s.id AND f.practitioner_id = $1)
           ORDER BY s.starts_at DESC LIMIT 20`,
          [me],
        )
      ).rows;
      const cme = await cmeSettings(tx);
      const since = new Date();
      since.setFullYear(since.getFullYear() - cme.cycleYears);
      const total = num(
        (
          await tx.sql.query<{ n: string }>(
            'SELECT coalesce(sum(a.credits), 0) AS n FROM training_attendance a JOIN training_session s ON s.id = a.session_id WHERE a.practitioner_id = $1 AND s.starts_at >= $2',
            [me, since],
          )
        ).rows[0].n,
      );
      return {
        upcoming: upcoming.map((s) => sessionView(s)),
        feedbackDue: feedbackDue.map((s) => sessionView(s)),
        courses,
        credits: {
          total,
          required: cme.requiredPeriods,
          cycleYears: cme.cycleYears,
          cycleStart: since.toISOString().slice(0, 10),
          rule: `Thông tư 32/2023/TT-BYT: tối thiểu ${cme.requiredPeriods} tiết trong ${cme.cycleYears} năm`,
        },
        certificates: await this.certificates.mine(tx, me),
      };
    });
  }

  /** The teacher's page: the sessions they teach (attendance counts) and results per course. */
  async teacher(ctx: AccessContext): Promise<TeacherPage> {
    const me = ctx.actor.practitionerId ?? '-';
    const hub = ctx.actor.role === 'coordinator' ? (ctx.actor.organizationId ?? '-') : '-';
    return this.store.as(ctx, 'training.teach').transaction(async (tx) => {
      const courseIds = (
        await tx.sql.query<{ id: string; title: string }>(
          'SELECT c.id, c.title FROM training_course c JOIN training_programme p ON p.id = c.programme_id WHERE $1 = ANY(c.teachers) OR p.hub_org = $2 ORDER BY c.created_at DESC LIMIT 100',
          [me, hub],
        )
      ).rows;
      const ids = courseIds.map((c) => c.id);
      const sessions = (
        await tx.sql.query<SessionRow & { attended: string; counted: string }>(
          `SELECT s.*, c.title AS course_title,
             (SELECT count(*) FROM training_attendance a WHERE a.session_id = s.id) AS attended,
             (SELECT count(*) FROM training_attendance a WHERE a.session_id = s.id AND a.counted) AS counted
           FROM training_session s JOIN training_course c ON c.id = s.course_id WHERE s.course_id = ANY($1) ORDER BY s.starts_at`,
          [ids],
        )
      ).rows;
      const results = [];
      for (const c of courseIds) {
        const r = (
          await tx.sql.query<{ learners: string; pre: string | null; post: string | null; gain: string | null; passed: string }>(
            `WITH last AS (SELECT DISTINCT ON (practitioner_id, phase) practitioner_id, phase, score, passed FROM training_assessment WHERE course_id = $1 ORDER BY practitioner_id, phase, at DESC)
             SELECT count(DISTINCT practitioner_id) AS learners,
               avg(score) FILTER (WHERE phase = 'pre') AS pre, avg(score) FILTER (WHERE phase = 'post') AS post,
               (SELECT avg(b.score - a.score) FROM last a JOIN last b ON a.practitioner_id = b.practitioner_id AND a.phase = 'pre' AND b.phase = 'post') AS gain,
               count(*) FILTER (WHERE phase = 'post' AND passed) AS passed
             FROM last`,
            [c.id],
          )
        ).rows[0];
        const n = (x: string | null) => (x === null ? null : Math.round(Number(x) * 10) / 10);
        results.push({
          courseId: c.id,
          courseTitle: c.title,
          learners: num(r.learners),
          preMean: n(r.pre),
          postMean: n(r.post),
          gain: n(r.gain),
          passed: num(r.passed),
        });
      }
      return { sessions: sessions.map((s) => ({ ...sessionView(s), attended: num(s.attended), counted: num(s.counted) })), results };
    });
  }
}
