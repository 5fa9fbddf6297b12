/**
 * Pre- and post-tests: the learner's answers become a QuestionnaireResponse (author: the
 * practitioner; no patient), scored on the server against the options marked right on the stored
 * Questionnaire. Passing the post-test with every held session counted issues the certificate.
 * Only those enrolled in the course (in person) may answer.
 */
import type { Practitioner, Questionnaire, QuestionnaireResponse } from '@medplum/fhirtypes';
import type { AccessContext } from '../auth/actor.ts';
import { AccessDenied } from '../auth/access.ts';
import type { FhirStore } from '../fhir/store.ts';
import { badRequest } from '../fhir/outcome.ts';
import type { AssessmentResult } from './contract.ts';
import type { CertificateService } from './certificates.ts';
import { loadCourse } from './courses.ts';
import { CORRECT_EXT, practitionerName } from './model.ts';

export function score(q: Questionnaire, answers: number[]): number {
  const items = q.item ?? [];
  if (!items.length) return 0;
  let right = 0;
  items.forEach((item, i) => {
    const correct = (item.answerOption ?? []).findIndex((o) => o.extension?.some((e) => e.url === CORRECT_EXT && e.valueBoolean));
    if (answers[i] === correct) right++;
  });
  return Math.round((right / items.length) * 100);
}

export class AssessmentService {
  constructor(
    private readonly store: FhirStore,
    private readonly certificates: CertificateService,
  ) {}

  async answer(ctx: AccessContext, courseId: string, phase: 'pre' | 'post', answers: number[]): Promise<AssessmentResult> {
    const me = ctx.actor.practitionerId;
    if (!me) throw new AccessDenied('Chỉ người hành nghề làm bài kiểm tra (practitioners only)');
    return this.store.as(ctx, 'training.learn').transaction(async (tx) => {
      const c = await loadCourse(tx, courseId);
      const enrolled = await tx.sql.query(
        "SELECT 1 FROM training_enrolment WHERE course_id = $1 AND kind = 'person' AND practitioner_id = $2 AND status = 'enrolled'",
        [courseId, me],
      );
      if (!enrolled.rows.length) throw new AccessDenied('Bạn chưa ghi danh khoá học này (not enrolled)');
      const qid = phase === 'pre' ? c.pre_test : c.post_test;
      if (!qid) throw badRequest('Khoá học không có bài kiểm tra này (no such test)');
      const q = await tx.read<Questionnaire>('Questionnaire', qid);
      const items = q.item ?? [];
      if (answers.length !== items.length) throw badRequest(`Cần trả lời đủ ${items.length} câu (answer every question)`);
      answers.forEach((a, i) => {
        if (a >= (items[i].answerOption?.length ?? 0)) throw badRequest(`Câu ${i + 1}: lựa chọn không có (no such option)`);
      });
      const pct = score(q, answers);
      const passed = pct >= c.pass_mark;
      const qr = await tx.create<QuestionnaireResponse>({
        resourceType: 'QuestionnaireResponse',
        status: 'completed',
        questionnaire: `Questionnaire/${qid}`,
        authored: new Date().toISOString(),
        author: { reference: `Practitioner/${me}` },
        item: items.map((it, i) => ({
          linkId: it.linkId,
          text: it.text,
          answer: [{ valueCoding: { code: String(answers[i]), display: it.answerOption?.[answers[i]]?.valueCoding?.display } }],
        })),
      });
      await tx.sql.query('INSERT INTO training_assessment (course_id, practitioner_id, phase, response_id, score, passed) VALUES ($1,$2,$3,$4,$5,$6)', [
        courseId,
        me,
        phase,
        qr.id,
        pct,
        passed,
      ]);
      await tx.record({
        action: 'training.assessment',
        resourceType: 'QuestionnaireResponse',
        resourceId: qr.id,
        detail: { course: courseId, phase, score: pct },
      });
      let certificate;
      if (phase === 'post' && passed) {
        const name = practitionerName(await tx.tryRead<Practitioner>('Practitioner', me), ctx.actor.displayName ?? '');
        certificate = await this.certificates.issueIfEarned(tx, courseId, me, name);
      }
      return { phase, score: pct, passed, ...(certificate ? { certificate } : {}) };
    });
  }
}
