/**
 * Programmes, courses and sessions, and enrolment. A hub's coordinator (training.manage, own
 * facility only) creates a programme and its courses; each session is an Appointment in the
 * training category with the first teacher as chair, so the live-video rooms open on it as on a
 * meeting. Enrolment (training.learn) is by person or by facility (its bridge point); past the
 * capacity it goes on the waiting list, and a place freed by a withdrawal goes to the first
 * waiting. Enrolling puts the person (or the site's Location) on every session's Appointment;
 * withdrawing declines their place on the sessions still to come (the room then refuses them).
 */
import { randomUUID } from 'node:crypto';
import type { Appointment, Binary, Practitioner, Questionnaire } from '@medplum/fhirtypes';
import type { AccessContext } from '../auth/actor.ts';
import { AccessDenied } from '../auth/access.ts';
import type { Repository } from '../fhir/repository.ts';
import type { FhirStore } from '../fhir/store.ts';
import { badRequest, conflict, notFound } from '../fhir/outcome.ts';
import type { CourseBody, CourseView, EnrolResult, Material, ProgrammeBody, ProgrammeView, SessionView } from './contract.ts';
import { bridgePoint } from '../consult/bridge-point.ts';
import { CHAIR, CORRECT_EXT, iso, num, orgNames, practitionerName, TRAINING_CATEGORY } from './model.ts';

type Question = { text: string; options: string[]; correct: number };

export interface CourseRow {
  id: string;
  programme_id: string;
  title: string;
  capacity: number;
  min_share: string;
  pass_mark: number;
  teachers: string[];
  materials: Material[];
  prerequisites: string[];
  pre_test: string | null;
  post_test: string | null;
  hub_org: string;
  programme_title: string;
  target_orgs: string[];
  target_roles: string[];
}

export interface SessionRow {
  id: string;
  course_id: string;
  seq: number;
  title: string;
  starts_at: Date;
  ends_at: Date;
  credits: string;
  closed_at: Date | null;
  course_title?: string;
}

export const sessionView = (s: SessionRow, courseTitle = s.course_title ?? ''): SessionView => ({
  id: s.id,
  courseId: s.course_id,
  courseTitle,
  seq: s.seq,
  title: s.title,
  start: iso(s.starts_at)!,
  end: iso(s.ends_at)!,
  credits: num(s.credits),
  closed: !!s.closed_at,
});

const COURSE_SQL =
  'SELECT c.*, p.hub_org, p.title AS programme_title, p.target_orgs, p.target_roles FROM training_course c JOIN training_programme p ON p.id = c.programme_id WHERE c.id = $1';

export async function loadCourse(tx: Repository, id: string): Promise<CourseRow> {
  const c = (await tx.sql.query<CourseRow>(COURSE_SQL, [id])).rows[0];
  if (!c) throw notFound(`Không có khoá học ${id} (no such course)`);
  return c;
}

export async function loadSession(tx: Repository, id: string): Promise<SessionRow> {
  const s = (
    await tx.sql.query<SessionRow>('SELECT s.*, c.title AS course_title FROM training_session s JOIN training_course c ON c.id = s.course_id WHERE s.id = $1', [
      id,
    ])
  ).rows[0];
  if (!s) throw notFound(`Không có buổi học ${id} (no such session)`);
  return s;
}

/** The hub's coordinator: the actor's facility must be the programme's hub. */
export function assertHub(ctx: AccessContext, hubOrg: string): void {
  if (ctx.actor.organizationId !== hubOrg)
    throw new AccessDenied('Chỉ điều phối viên của bệnh viện tuyến trên phụ trách chương trình mới được làm việc này (only the hub’s coordinator)');
}

/** A stored questionnaire; the right answers are kept as an extension on the options (never sent to learners). */
function questionnaire(title: string, questions: Question[]): Questionnaire {
  return {
    resourceType: 'Questionnaire',
    status: 'active',
    title,
    item: questions.map((q, i) => ({
      linkId: `q${i + 1}`,
      text: q.text,
      type: 'choice',
      required: true,
      answerOption: q.options.map((o, j) => ({
        valueCoding: { code: String(j), display: o },
        ...(j === q.correct ? { extension: [{ url: CORRECT_EXT, valueBoolean: true }] } : {}),
      })),
    })),
  };
}

export class CourseService {
  constructor(private readonly store: FhirStore) {}

  async createProgramme(ctx: AccessContext, b: Required<ProgrammeBody>): Promise<ProgrammeView> {
    const hub = ctx.actor.organizationId;
    if (!hub) throw new AccessDenied('Tài khoản không gắn với cơ sở nào (no facility)');
    return this.store.as(ctx, 'training.manage').transaction(async (tx) => {
      for (const o of b.targetOrganizationIds) if (!(await tx.tryRead('Organization', o))) throw badRequest(`Không có cơ sở ${o}`);
      const id = randomUUID();
      await tx.sql.query(
        'INSERT INTO training_programme (id, hub_org, title, description, target_orgs, target_roles, created_by) VALUES ($1,$2,$3,$4,$5,$6,$7)',
        [id, hub, b.title, b.description, b.targetOrganizationIds, b.targetRoles, ctx.actor.accountId ?? 'system'],
      );
      await tx.record({ action: 'training.programme', detail: { programme: id } });
      return (await this.programmes(tx, id))[0];
    });
  }

  /** Programmes with their courses (a hub's own when asked with `mine`). */
  async listProgrammes(ctx: AccessContext, hubOnly: boolean): Promise<ProgrammeView[]> {
    const tx = this.store.as(ctx, hubOnly ? 'training.manage' : 'training.learn');
    return this.programmes(tx, undefined, hubOnly ? (ctx.actor.organizationId ?? '-') : undefined);
  }

  private async programmes(tx: Repository, id?: string, hub?: string): Promise<ProgrammeView[]> {
    const rows = (
      await tx.sql.query<{ id: string; title: string; description: string; hub_org: string }>(
        'SELECT id, title, description, hub_org FROM training_programme WHERE ($1::text IS NULL OR id = $1) AND ($2::text IS NULL OR hub_org = $2) ORDER BY created_at DESC LIMIT 200',
        [id ?? null, hub ?? null],
      )
    ).rows;
    const courses = (
      await tx.sql.query<{ id: string; programme_id: string; title: string; capacity: number; enrolled: string; waiting: string; sessions: string }>(
        `SELECT c.id, c.programme_id, c.title, c.capacity,
           (SELECT count(*) FROM training_enrolment e WHERE e.course_id = c.id AND e.status = 'enrolled') AS enrolled,
           (SELECT count(*) FROM training_enrolment e WHERE e.course_id = c.id AND e.status = 'waiting') AS waiting,
           (SELECT count(*) FROM training_session s WHERE s.course_id = c.id) AS sessions
         FROM training_course c WHERE c.programme_id = ANY($1) ORDER BY c.created_at`,
        [rows.map((r) => r.id)],
      )
    ).rows;
    const names = await orgNames(
      tx,
      rows.map((r) => r.hub_org),
    );
    return rows.map((r) => ({
      id: r.id,
      title: r.title,
      description: r.description,
      hubOrganizationId: r.hub_org,
      hubName: names.get(r.hub_org) ?? r.hub_org,
      courses: courses
        .filter((c) => c.programme_id === r.id)
        .map((c) => ({ id: c.id, title: c.title, capacity: c.capacity, enrolled: num(c.enrolled), waiting: num(c.waiting), sessions: num(c.sessions) })),
    }));
  }

  async createCourse(ctx: AccessContext, b: CourseBody): Promise<CourseView> {
    for (const s of b.sessions)
      if (Date.parse(s.end) <= Date.parse(s.start)) throw badRequest('Giờ kết thúc buổi học phải sau giờ bắt đầu (end must be after start)');
    const id = await this.store.as(ctx, 'training.manage').transaction(async (tx) => {
      const prog = (await tx.sql.query<{ hub_org: string; title: string }>('SELECT hub_org, title FROM training_programme WHERE id = $1', [b.programmeId]))
        .rows[0];
      if (!prog) throw notFound(`Không có chương trình ${b.programmeId}`);
      assertHub(ctx, prog.hub_org);
      for (const t of b.teacherPractitionerIds) if (!(await tx.tryRead<Practitioner>('Practitioner', t))) throw badRequest(`Không có giảng viên ${t}`);
      for (const c of b.prerequisiteCourseIds ?? []) await loadCourse(tx, c);
      const materials: Material[] = [];
      for (const m of b.materials ?? []) {
        if ('url' in m) materials.push({ title: m.title, url: m.url });
        else {
          const bin = await tx.create<Binary>({ resourceType: 'Binary', contentType: m.contentType, data: m.data });
          materials.push({ title: m.title, url: `/fhir/R4/Binary/${bin.id}` });
        }
      }
      const pre = b.preTest?.length ? await tx.create(questionnaire(`Kiểm tra đầu vào: ${b.title}`, b.preTest)) : undefined;
      const post = b.postTest?.length ? await tx.create(questionnaire(`Kiểm tra cuối khoá: ${b.title}`, b.postTest)) : undefined;
      const courseId = randomUUID();
      await tx.sql.query(
        `INSERT INTO training_course (id, programme_id, title, capacity, min_share, pass_mark, teachers, materials, prerequisites, pre_test, post_test)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`,
        [
          courseId,
          b.programmeId,
          b.title,
          b.capacity,
          b.minShare ?? 0.75,
          b.passMark ?? 70,
          b.teacherPractitionerIds,
          JSON.stringify(materials),
          b.prerequisiteCourseIds ?? [],
          pre?.id ?? null,
          post?.id ?? null,
        ],
      );
      let seq = 0;
      for (const s of b.sessions) {
        const [chair, ...others] = b.teacherPractitionerIds;
        const a = await tx.create<Appointment>({
          resourceType: 'Appointment',
          status: 'booked',
          serviceCategory: [{ coding: [TRAINING_CATEGORY] }],
          appointmentType: { text: 'Buổi đào tạo từ xa' },
          description: `${b.title}: ${s.title}`,
          start: new Date(s.start).toISOString(),
          end: new Date(s.end).toISOString(),
          created: new Date().toISOString(),
          participant: [
            { type: [{ coding: [CHAIR] }], actor: { reference: `Practitioner/${chair}` }, required: 'required', status: 'accepted' },
            ...others.map((p) => ({ actor: { reference: `Practitioner/${p}` }, required: 'required' as const, status: 'accepted' as const })),
          ],
        });
        await tx.sql.query('INSERT INTO training_session (id, course_id, seq, title, starts_at, ends_at, credits) VALUES ($1,$2,$3,$4,$5,$6,$7)', [
          a.id,
          courseId,
          ++seq,
          s.title,
          a.start,
          a.end,
          s.credits,
        ]);
      }
      await tx.record({ action: 'training.course', detail: { course: courseId, programme: b.programmeId, sessions: seq } });
      return courseId;
    });
    return this.course(ctx, id);
  }

  async course(ctx: AccessContext, id: string): Promise<CourseView> {
    return this.store.as(ctx, 'training.learn').transaction(async (tx) => {
      const c = await loadCourse(tx, id);
      const sessions = (await tx.sql.query<SessionRow>('SELECT * FROM training_session WHERE course_id = $1 ORDER BY seq', [id])).rows;
      const counts = (
        await tx.sql.query<{ status: string; n: string }>('SELECT status, count(*) AS n FROM training_enrolment WHERE course_id = $1 GROUP BY status', [id])
      ).rows;
      const mine = await this.place(tx, ctx, id);
      // Held sessions' rooms, for their recordings (the recordings route checks each viewer's place on the session).
      const rooms = new Map(
        (
          await tx.sql.query<{ id: string; ref: string }>('SELECT id, ref FROM video_room WHERE kind = $1 AND ref = ANY($2::text[]) ORDER BY created_at', [
            'session',
            sessions.filter((s) => s.closed_at).map((s) => `Appointment/${s.id}`),
          ])
        ).rows.map((r) => [r.ref.slice('Appointment/'.length), r.id]),
      );
      const prerequisites = c.prerequisites.length
        ? (
            await tx.sql.query<{ id: string; title: string }>('SELECT id, title FROM training_course WHERE id = ANY($1::text[]) ORDER BY title', [
              c.prerequisites,
            ])
          ).rows
        : [];
      const teachers: string[] = [];
      for (const t of c.teachers) teachers.push(practitionerName(await tx.tryRead<Practitioner>('Practitioner', t), 'Giảng viên'));
      const names = await orgNames(tx, [c.hub_org]);
      const questions = async (qid: string | null) => {
        if (!qid) return undefined;
        const q = await tx.read<Questionnaire>('Questionnaire', qid);
        return (q.item ?? []).map((i) => ({ text: i.text ?? '', options: (i.answerOption ?? []).map((o) => o.valueCoding?.display ?? '') }));
      };
      return {
        id: c.id,
        programmeId: c.programme_id,
        programmeTitle: c.programme_title,
        hubName: names.get(c.hub_org) ?? '',
        title: c.title,
        capacity: c.capacity,
        enrolled: num(counts.find((x) => x.status === 'enrolled')?.n),
        waiting: num(counts.find((x) => x.status === 'waiting')?.n),
        minShare: num(c.min_share),
        passMark: c.pass_mark,
        teachers,
        materials: c.materials,
        prerequisites,
        sessions: sessions.map((s) => ({ ...sessionView(s, c.title), ...(mine === 'enrolled' && rooms.has(s.id) ? { roomId: rooms.get(s.id) } : {}) })),
        mine,
        preTest: await questions(c.pre_test),
        postTest: await questions(c.post_test),
      };
    });
  }

  private async place(tx: Repository, ctx: AccessContext, courseId: string): Promise<'enrolled' | 'waiting' | 'none'> {
    const r = (
      await tx.sql.query<{ status: 'enrolled' | 'waiting' }>(
        "SELECT status FROM training_enrolment WHERE course_id = $1 AND status <> 'withdrawn' AND ((kind = 'person' AND practitioner_id = $2) OR (kind = 'facility' AND org_id = $3)) ORDER BY status LIMIT 1",
        [courseId, ctx.actor.practitionerId ?? '-', ctx.actor.organizationId ?? '-'],
      )
    ).rows[0];
    return r?.status ?? 'none';
  }

  /** Enrols the signed-in clinician (or their facility's bridge point); the waiting list past the capacity. */
  async enrol(ctx: AccessContext, courseId: string, facility: boolean): Promise<EnrolResult> {
    const a = ctx.actor;
    if (!a.organizationId || (!facility && !a.practitionerId))
      throw new AccessDenied('Chỉ nhân viên y tế có hồ sơ người hành nghề mới ghi danh (clinicians only)');
    return this.store.as(ctx, 'training.learn').transaction(async (tx) => {
      // One enrolment at a time per course: the count and the insert see the same list.
      const c = (await tx.sql.query<CourseRow>(`${COURSE_SQL} FOR UPDATE OF c`, [courseId])).rows[0];
      if (!c) throw notFound(`Không có khoá học ${courseId}`);
      if (c.target_orgs.length && !c.target_orgs.includes(a.organizationId!))
        throw new AccessDenied('Khoá học này dành cho các cơ sở khác (the course is for other facilities)');
      if (c.target_roles.length && !c.target_roles.includes(a.role ?? ''))
        throw new AccessDenied('Khoá học này dành cho chức danh khác (the course is for other roles)');
      if (!facility && c.prerequisites.length) {
        const done = (
          await tx.sql.query<{ course_id: string }>('SELECT course_id FROM training_certificate WHERE practitioner_id = $1 AND course_id = ANY($2)', [
            a.practitionerId,
            c.prerequisites,
          ])
        ).rows;
        if (done.length < c.prerequisites.length) throw badRequest('Cần hoàn thành các khoá học tiên quyết trước (prerequisites not completed)');
      }
      if ((await this.place(tx, ctx, courseId)) !== 'none' && !facility) throw conflict('Bạn đã ghi danh khoá học này (already enrolled)');
      const taken = num(
        (await tx.sql.query<{ n: string }>("SELECT count(*) AS n FROM training_enrolment WHERE course_id = $1 AND status = 'enrolled'", [courseId])).rows[0].n,
      );
      const status = taken < c.capacity ? 'enrolled' : 'waiting';
      const name = facility
        ? ((await orgNames(tx, [a.organizationId!])).get(a.organizationId!) ?? '')
        : practitionerName(await tx.tryRead<Practitioner>('Practitioner', a.practitionerId!), a.displayName ?? '');
      try {
        await tx.sql.query(
          'INSERT INTO training_enrolment (course_id, kind, practitioner_id, account_id, org_id, name, status) VALUES ($1,$2,$3,$4,$5,$6,$7)',
          [
            courseId,
            facility ? 'facility' : 'person',
            facility ? null : a.practitionerId,
            facility ? null : (a.accountId ?? null),
            a.organizationId,
            name,
            status,
          ],
        );
      } catch {
        throw conflict('Đã ghi danh khoá học này (already enrolled)');
      }
      if (status === 'enrolled') await this.addToSessions(tx, courseId, facility ? { org: a.organizationId! } : { practitioner: a.practitionerId! });
      await tx.record({ action: 'training.enrol', detail: { course: courseId, status, facility } });
      if (status === 'enrolled') return { status };
      const position = num(
        (await tx.sql.query<{ n: string }>("SELECT count(*) AS n FROM training_enrolment WHERE course_id = $1 AND status = 'waiting'", [courseId])).rows[0].n,
      );
      return { status, position };
    });
  }

  /** Withdraws the signed-in person; the first on the waiting list takes the place. */
  async withdraw(ctx: AccessContext, courseId: string): Promise<{ promoted: boolean }> {
    return this.store.as(ctx, 'training.learn').transaction(async (tx) => {
      await tx.sql.query('SELECT id FROM training_course WHERE id = $1 FOR UPDATE', [courseId]);
      const r = await tx.sql.query<{ id: number }>(
        "UPDATE training_enrolment SET status = 'withdrawn' WHERE course_id = $1 AND kind = 'person' AND practitioner_id = $2 AND status <> 'withdrawn' RETURNING id",
        [courseId, ctx.actor.practitionerId ?? '-'],
      );
      if (!r.rows.length) throw notFound('Bạn chưa ghi danh khoá học này (not enrolled)');
      // Their place on the coming sessions' Appointments is declined: the room no longer lets them in.
      const declined = await this.declineSessions(tx, courseId, `Practitioner/${ctx.actor.practitionerId}`);
      const next = (
        await tx.sql.query<{ id: number; kind: string; practitioner_id: string | null; org_id: string }>(
          "SELECT id, kind, practitioner_id, org_id FROM training_enrolment WHERE course_id = $1 AND status = 'waiting' ORDER BY at, id LIMIT 1",
          [courseId],
        )
      ).rows[0];
      const c = await loadCourse(tx, courseId);
      const taken = num(
        (await tx.sql.query<{ n: string }>("SELECT count(*) AS n FROM training_enrolment WHERE course_id = $1 AND status = 'enrolled'", [courseId])).rows[0].n,
      );
      let promoted = false;
      if (next && taken < c.capacity) {
        await tx.sql.query("UPDATE training_enrolment SET status = 'enrolled' WHERE id = $1", [next.id]);
        await this.addToSessions(tx, courseId, next.kind === 'facility' ? { org: next.org_id } : { practitioner: next.practitioner_id! });
        promoted = true;
      }
      await tx.record({ action: 'training.withdraw', detail: { course: courseId, promoted, sessionsDeclined: declined } });
      return { promoted };
    });
  }

  /** Puts a person (or a site's bridge point) on every coming session's Appointment, so the room lets them in. */
  private async addToSessions(tx: Repository, courseId: string, who: { practitioner?: string; org?: string }): Promise<void> {
    const actor = who.practitioner ? `Practitioner/${who.practitioner}` : `Location/${await bridgePoint(tx, who.org!)}`;
    const sessions = (await tx.sql.query<{ id: string }>('SELECT id FROM training_session WHERE course_id = $1 AND closed_at IS NULL', [courseId])).rows;
    for (const s of sessions) {
      const a = await tx.read<Appointment>('Appointment', s.id);
      const mine = a.participant.find((p) => p.actor?.reference === actor);
      if (mine?.status === 'accepted') continue;
      // Back after a withdrawal: their declined place is accepted again.
      const participant = mine
        ? a.participant.map((p) => (p === mine ? { ...p, status: 'accepted' as const } : p))
        : [...a.participant, { actor: { reference: actor }, required: 'required' as const, status: 'accepted' as const }];
      await tx.update<Appointment>({ ...a, participant });
    }
  }

  /**
   * Declines a person's place on every session of the course still to come or under way (not
   * closed, not ended): the Appointment keeps them, as `declined`, and the video room refuses a
   * declined participant. Sessions already held stay as they were (their attendance is history).
   */
  private async declineSessions(tx: Repository, courseId: string, actor: string): Promise<number> {
    const sessions = (
      await tx.sql.query<{ id: string }>('SELECT id FROM training_session WHERE course_id = $1 AND closed_at IS NULL AND ends_at > now()', [courseId])
    ).rows;
    let n = 0;
    for (const s of sessions) {
      const a = await tx.read<Appointment>('Appointment', s.id);
      if (!a.participant.some((p) => p.actor?.reference === actor && p.status !== 'declined')) continue;
      await tx.update<Appointment>({
        ...a,
        participant: a.participant.map((p) =>
          p.actor?.reference === actor ? { ...p, status: 'declined' as const, required: 'information-only' as const } : p,
        ),
      });
      n++;
    }
    return n;
  }
}
