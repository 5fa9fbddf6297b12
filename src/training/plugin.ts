/**
 * Remote training and technology transfer as a plugin: programmes, courses and sessions (each an
 * Appointment in the training category, owned here, so the live-video rooms open on them),
 * enrolment, attendance from the rooms' records and bridge-point sign-ins, credits, pre/post tests,
 * certificates with a public check, de-identified teaching cases (from the consult domain's
 * teaching copy), transfer packages, session feedback, and the training indicators.
 */
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { AssessmentService } from './assessment.ts';
import { AttendanceService } from './attendance.ts';
import { CertificateService } from './certificates.ts';
import { CourseService } from './courses.ts';
import { FeedbackService } from './feedback.ts';
import { TrainingIndicatorService } from './indicators.ts';
import { isTrainingAppointment } from './model.ts';
import { trainingRoutes } from './routes.ts';
import { TeachingService, type TeachingCopies } from './teaching.ts';
import { TransferService } from './transfer.ts';

export interface TrainingServices {
  courses: CourseService;
  attendance: AttendanceService;
  assessments: AssessmentService;
  certificates: CertificateService;
  teaching: TeachingService;
  transfers: TransferService;
  indicators: TrainingIndicatorService;
  feedback: FeedbackService;
}

declare module 'fastify' {
  interface FastifyInstance {
    training: TrainingServices;
  }
}

async function trainingPlugin(app: FastifyInstance): Promise<void> {
  const store = app.store;
  store.owns({ domain: 'training', label: 'Buổi đào tạo từ xa (Appointment)', route: 'POST /api/training/courses', owns: isTrainingAppointment });
  const certificates = new CertificateService(app.config.baseUrl);
  const attendance = new AttendanceService(store, certificates);
  const consults = app.hasDecorator('consults') ? (app.consults as unknown as TeachingCopies) : undefined;
  const services: TrainingServices = {
    courses: new CourseService(store),
    attendance,
    assessments: new AssessmentService(store, certificates),
    certificates,
    teaching: new TeachingService(store, attendance, consults),
    transfers: new TransferService(store),
    indicators: new TrainingIndicatorService(store),
    feedback: new FeedbackService(store, attendance),
  };
  app.decorate('training', services);
  await app.register(trainingRoutes, { training: services });
}

export default fp(trainingPlugin, { name: 'training', dependencies: ['events', 'fhir'] });
