/**
 * HTTP for remote training and technology transfer. Each route declares the action it needs
 * (training.learn / .teach / .manage, reports.read); the services check the finer rule again (the
 * hub's own programmes, a course's teachers, one's own enrolment and certificates). The
 * certificate check is public on purpose and shows name, course, credits and date only.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parseInput as parse } from '../http/input.ts';
import { notFound } from '../fhir/outcome.ts';
import {
  answersBody,
  courseBody,
  enrolBody,
  feedbackBody,
  programmeBody,
  resourceId,
  signInBody,
  stepBody,
  supervisedBody,
  teachingCaseBody,
  tokenParam,
  transferBody,
  type CertificateCheck,
} from './contract.ts';
import type { TrainingServices } from './plugin.ts';

type P = FastifyRequest<{ Params: { id: string } }>;
type T = FastifyRequest<{ Params: { token: string } }>;

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The verification page a phone opens from the QR code: no script, no other data. */
function checkPage(c: CertificateCheck | undefined): string {
  const body = c
    ? `<h1>Chứng nhận hợp lệ</h1><dl><dt>Họ và tên</dt><dd>${esc(c.name)}</dd><dt>Khoá học</dt><dd>${esc(c.course)}</dd><dt>Số tiết</dt><dd>${String(c.credits).replace('.', ',')}</dd><dt>Ngày cấp</dt><dd>${c.date.split('-').reverse().join('/')}</dd></dl>`
    : '<h1>Không tìm thấy chứng nhận</h1><p>Mã trong đường dẫn không khớp với chứng nhận nào do Cầu Y Tế cấp.</p>';
  return `<!doctype html><html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Kiểm tra chứng nhận – Cầu Y Tế</title><style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}h1{font-size:1.4rem}dt{font-weight:600;margin-top:.75rem}dd{margin:0}</style></head><body><p>Cầu Y Tế – kiểm tra chứng nhận đào tạo liên tục</p>${body}</body></html>`;
}

export async function trainingRoutes(app: FastifyInstance, opts: { training: TrainingServices }): Promise<void> {
  const { courses, attendance, assessments, certificates, teaching, transfers, indicators, feedback } = opts.training;
  const learn = { config: { access: { domain: 'training.learn' as const } } };
  const teach = { config: { access: { domain: 'training.teach' as const } } };
  const manage = { config: { access: { domain: 'training.manage' as const } } };
  const reports = { config: { access: { domain: 'reports.read' as const } } };
  const open = { config: { access: 'public' as const } };
  const idOf = (req: P) => parse(resourceId, req.params.id);

  app.get('/api/training/programmes', learn, async (req) => courses.listProgrammes(req.ctx, false));
  app.get('/api/training/hub/programmes', manage, async (req) => courses.listProgrammes(req.ctx, true));
  app.post('/api/training/programmes', manage, async (req, reply) =>
    reply.code(201).send(await courses.createProgramme(req.ctx, parse(programmeBody, req.body))),
  );
  app.post('/api/training/courses', { config: manage.config, bodyLimit: 40_000_000 }, async (req, reply) =>
    reply.code(201).send(await courses.createCourse(req.ctx, parse(courseBody, req.body))),
  );
  app.get('/api/training/courses/:id', learn, async (req: P) => courses.course(req.ctx, idOf(req)));
  app.post('/api/training/courses/:id/enrol', learn, async (req: P) => courses.enrol(req.ctx, idOf(req), parse(enrolBody, req.body ?? {}).facility));
  app.post('/api/training/courses/:id/withdraw', learn, async (req: P) => courses.withdraw(req.ctx, idOf(req)));
  app.post('/api/training/courses/:id/answers', learn, async (req: P) => {
    const b = parse(answersBody, req.body);
    return assessments.answer(req.ctx, idOf(req), b.phase, b.answers);
  });

  app.post('/api/training/sessions/:id/signin', learn, async (req: P) => attendance.signIn(req.ctx, idOf(req), parse(signInBody, req.body).people));
  app.post('/api/training/sessions/:id/close', teach, async (req: P) => attendance.close(req.ctx, idOf(req)));
  app.get('/api/training/sessions/:id/attendance', teach, async (req: P) => attendance.result(req.ctx, idOf(req)));
  app.post('/api/training/sessions/:id/teaching-cases', teach, async (req: P, reply) =>
    reply.code(201).send(await teaching.add(req.ctx, idOf(req), parse(teachingCaseBody, req.body).caseId)),
  );
  app.get('/api/training/sessions/:id/teaching-cases', learn, async (req: P) => teaching.list(req.ctx, idOf(req)));

  app.post('/api/training/sessions/:id/feedback', learn, async (req: P) => feedback.give(req.ctx, idOf(req), parse(feedbackBody, req.body)));
  app.get('/api/training/courses/:id/feedback', teach, async (req: P) => feedback.course(req.ctx, idOf(req)));

  app.get('/api/training/me', learn, async (req) => attendance.learning(req.ctx));
  app.get('/api/training/teaching', teach, async (req) => attendance.teacher(req.ctx));
  app.get('/api/training/certificates/:id/pdf', learn, async (req: P, reply) => {
    const pdf = await certificates.pdf(app.store.as(req.ctx, 'training.learn'), idOf(req), req.ctx.actor.practitionerId ?? '-');
    if (!pdf) throw notFound('Không có chứng nhận này (no such certificate of yours)');
    return reply
      .type('application/pdf')
      .header('content-disposition', 'inline; filename="chung-nhan.pdf"')
      .header('cache-control', 'private, no-store')
      .send(pdf);
  });
  // Public: the QR code's link. A wrong token is a 404 like any other; the rate limit applies.
  app.get('/api/training/verify/:token', open, async (req: T) => {
    const c = await certificates.check(app.store.system('certificate check', 'training'), parse(tokenParam, req.params.token));
    if (!c) throw notFound('Không tìm thấy chứng nhận (no such certificate)');
    return c;
  });
  app.get('/chung-chi/:token', open, async (req: T, reply) => {
    const ok = tokenParam.safeParse(req.params.token);
    const c = ok.success ? await certificates.check(app.store.system('certificate check', 'training'), ok.data) : undefined;
    return reply
      .code(c ? 200 : 404)
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
      .send(checkPage(c));
  });

  app.get('/api/training/transfers', learn, async (req) => transfers.list(req.ctx));
  app.post('/api/training/transfers', manage, async (req, reply) => reply.code(201).send(await transfers.create(req.ctx, parse(transferBody, req.body))));
  app.get('/api/training/transfers/:id', learn, async (req: P) => transfers.get(req.ctx, idOf(req)));
  app.post('/api/training/transfers/:id/steps', manage, async (req: P) => {
    const b = parse(stepBody, req.body);
    return transfers.markStep(req.ctx, idOf(req), b.step, b.evidence);
  });
  app.post('/api/training/transfers/:id/cases', teach, async (req: P) => {
    const b = parse(supervisedBody, req.body);
    return transfers.superviseCase(req.ctx, idOf(req), b.ref, b.note);
  });
  app.post('/api/training/transfers/:id/independent', manage, async (req: P) => transfers.markIndependent(req.ctx, idOf(req)));

  app.get('/api/training/indicators', reports, async (req) => indicators.report(req.ctx));
}
