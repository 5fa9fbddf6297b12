/**
 * Session feedback (the "feedback form"): after a session's attendance is counted, each
 * person on it (by video or signed in at a bridge point with their practitioner record) gives a
 * rating from 1 to 5 and an optional comment; answering again replaces the earlier answer. The
 * course's teachers and the hub's coordinator see the aggregate per session — count, mean,
 * distribution and the comments — never who wrote what. Domain table `training_feedback`
 * (migration 134); a FHIR QuestionnaireResponse would name its author, which the aggregate must not.
 */
import type { AccessContext } from '../auth/actor.ts';
import { AccessDenied } from '../auth/access.ts';
import type { FhirStore } from '../fhir/store.ts';
import { conflict } from '../fhir/outcome.ts';
import type { AttendanceService } from './attendance.ts';
import type { CourseFeedback, FeedbackGiven, SessionFeedback } from './contract.ts';
import { loadCourse, loadSession, type SessionRow } from './courses.ts';
import { iso, num } from './model.ts';

export class FeedbackService {
  constructor(
    private readonly store: FhirStore,
    private readonly attendance: AttendanceService,
  ) {}

  /** The signed-in person's feedback on a session they attended, once its attendance is counted. */
  async give(ctx: AccessContext, sessionId: string, input: { rating: number; comment: string }): Promise<FeedbackGiven> {
    const me = ctx.actor.practitionerId;
    if (!me) throw new AccessDenied('Chỉ người hành nghề gửi đánh giá buổi học (practitioners only)');
    return this.store.as(ctx, 'training.learn').transaction(async (tx) => {
      const s = await loadSession(tx, sessionId);
      if (!s.closed_at) throw conflict('Buổi học chưa kết thúc, chưa thể đánh giá (the session has not been closed yet)');
      const attended = await tx.sql.query('SELECT 1 FROM training_attendance WHERE session_id = $1 AND practitioner_id = $2', [sessionId, me]);
      if (!attended.rows.length) throw new AccessDenied('Bạn không có tên trong danh sách tham dự buổi học này (you did not attend this session)');
      const row = (
        await tx.sql.query<{ rating: number; comment: string; at: Date }>(
          `INSERT INTO training_feedback (session_id, practitioner_id, rating, comment) VALUES ($1, $2, $3, $4)
           ON CONFLICT (session_id, practitioner_id) DO UPDATE SET rating = EXCLUDED.rating, comment = EXCLUDED.comment, at = now()
           RETURNING rating, comment, at`,
          [sessionId, me, input.rating, input.comment],
        )
      ).rows[0];
      await tx.record({ action: 'training.feedback', detail: { session: sessionId, rating: input.rating } });
      return { sessionId, rating: row.rating, comment: row.comment, at: iso(row.at)! };
    });
  }

  /** Per session of a course: responses, mean, distribution, comments (a teacher of the course or the hub's coordinator). */
  async course(ctx: AccessContext, courseId: string): Promise<CourseFeedback> {
    return this.store.as(ctx, 'training.teach').transaction(async (tx) => {
      const c = await loadCourse(tx, courseId);
      await this.attendance.assertTeacher(tx, ctx, courseId);
      const sessions = (await tx.sql.query<SessionRow>('SELECT * FROM training_session WHERE course_id = $1 ORDER BY seq', [courseId])).rows;
      const ids = sessions.map((s) => s.id);
      const counts = (
        await tx.sql.query<{ session_id: string; rating: number; n: string }>(
          'SELECT session_id, rating, count(*) AS n FROM training_feedback WHERE session_id = ANY($1) GROUP BY session_id, rating',
          [ids],
        )
      ).rows;
      const attended = (
        await tx.sql.query<{ session_id: string; n: string }>(
          'SELECT session_id, count(*) AS n FROM training_attendance WHERE session_id = ANY($1) GROUP BY session_id',
          [ids],
        )
      ).rows;
      const comments = (
        await tx.sql.query<{ session_id: string; comment: string; rating: number; at: Date }>(
          "SELECT session_id, comment, rating, at FROM training_feedback WHERE session_id = ANY($1) AND comment <> '' ORDER BY at DESC",
          [ids],
        )
      ).rows;
      await tx.record({ action: 'training.feedback.read', detail: { course: courseId } });
      const out: SessionFeedback[] = sessions.map((s) => {
        const distribution: SessionFeedback['distribution'] = [0, 0, 0, 0, 0];
        for (const r of counts.filter((x) => x.session_id === s.id)) distribution[r.rating - 1] = num(r.n);
        const responses = distribution.reduce((a, b) => a + b, 0);
        const sum = distribution.reduce((a, n, i) => a + n * (i + 1), 0);
        return {
          sessionId: s.id,
          seq: s.seq,
          title: s.title,
          closed: !!s.closed_at,
          attended: num(attended.find((a) => a.session_id === s.id)?.n),
          responses,
          mean: responses ? Math.round((sum / responses) * 10) / 10 : null,
          distribution,
          comments: comments.filter((x) => x.session_id === s.id).map((x) => ({ text: x.comment, rating: x.rating, at: iso(x.at)! })),
        };
      });
      return { courseId, courseTitle: c.title, sessions: out };
    });
  }
}
