/**
 * HTTP for citizens' remote examinations and personal health record: services and free slots,
 * booking (with eligibility and the pre-visit questions), cancel and reschedule, the visit room,
 * the clinician's queue and visit note with e-prescription, prescription PDF and its public check,
 * the day's charges, and the health record (timeline, PDF, FHIR bundle, documents).
 *
 * Rules: every body and query is parsed with the contract's schemas (contract.ts) and every answer
 * has the contract's type; each route names its access rule (the action the service acts through);
 * no check or store access happens here — the services do both.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseInput as parse } from '../http/input.ts';
import type { RoomService } from '../video/rooms.ts';
import type { LiveRooms } from '../video/routes.ts';
import { chargesCsv } from './charges.ts';
import {
  bookingRequest,
  cancelRequest,
  chargesQuery,
  completeRequest,
  createServiceRequest,
  id,
  publishSlotsRequest,
  queueQuery,
  recordQuery,
  rescheduleRequest,
  rxCode,
  slotsQuery,
  type Booked,
  type Cancelled,
  type ChargesJson,
  type Completed,
  type MyVisit,
  type PrescriptionCheck,
  type PrescribingCheck,
  prescriptionCheckRequest,
  type QueueItem,
  type Rescheduled,
  type RoomOpened,
  type VisitView,
} from './contract.ts';
import { startOfVietnamDay } from './model.ts';
import { prescriptionPdf } from './prescription.ts';
import type { HealthRecordService } from './record.ts';
import type { VisitService } from './service.ts';

type P<T = { id: string }> = FastifyRequest<{ Params: T; Querystring: Record<string, string | undefined> }>;
type Action = 'visits.book' | 'visits.attend' | 'visits.provide' | 'visits.schedule' | 'charges.export' | 'record.own';

export interface VisitRoutesOptions {
  visits: VisitService;
  record: HealthRecordService;
  /** The video domain, when the platform runs it: the visit's room and who waits in its lobby. */
  video?: { rooms: RoomService; live: LiveRooms };
}

export async function visitRoutes(app: FastifyInstance, opts: VisitRoutesOptions): Promise<void> {
  const { visits, record, video } = opts;
  const rule = (domain: Action) => ({ config: { access: { domain } } });
  const signedIn = { config: { access: 'authenticated' as const } };

  // What is offered, and when (directory information: any signed-in person).
  app.get('/api/visits/services', signedIn, async () => visits.services());
  app.get('/api/visits/services/:id/slots', signedIn, async (req: P) => visits.freeSlots(parse(id, req.params.id), parse(slotsQuery, req.query).days));
  app.get('/api/visits/questionnaire', signedIn, async () => visits.preVisit());
  app.post('/api/visits/services', rule('visits.schedule'), async (req, reply) =>
    reply.code(201).send(await visits.createService(req.ctx, parse(createServiceRequest, req.body))),
  );
  app.post('/api/visits/schedules', rule('visits.schedule'), async (req, reply) =>
    reply.code(201).send(await visits.publishSlots(req.ctx, parse(publishSlotsRequest, req.body))),
  );

  // The citizen's side.
  app.post('/api/visits', rule('visits.book'), async (req, reply) => {
    const r = await visits.book(req.ctx, parse(bookingRequest, req.body));
    const a = r.appointment;
    const booked: Booked = { id: a.id!, bookingCode: r.bookingCode, start: a.start!, end: a.end!, joinUrl: `/me/visits/${a.id}`, eligibility: r.eligibility };
    return reply.code(201).send(booked);
  });
  app.get('/api/me/visits', rule('visits.book'), async (req): Promise<MyVisit[]> => visits.mine(req.ctx));
  app.post('/api/visits/:id/cancel', rule('visits.book'), async (req: P): Promise<Cancelled> => {
    const a = await visits.cancel(req.ctx, parse(id, req.params.id), parse(cancelRequest, req.body).reason);
    return { id: a.id!, status: a.status };
  });
  app.post('/api/visits/:id/reschedule', rule('visits.book'), async (req: P): Promise<Rescheduled> => {
    const a = await visits.reschedule(req.ctx, parse(id, req.params.id), parse(rescheduleRequest, req.body).slotId);
    return { id: a.id!, status: a.status, start: a.start!, end: a.end! };
  });

  // Both sides of the visit.
  app.get('/api/visits/:id', rule('visits.attend'), async (req: P): Promise<VisitView> => visits.view(req.ctx, parse(id, req.params.id)));
  if (video) {
    app.post('/api/visits/:id/room', rule('visits.attend'), async (req: P, reply) => {
      await visits.view(req.ctx, parse(id, req.params.id)); // party to this visit (patient, family manager, its clinician)
      const room = await video.rooms.open(req.ctx, { kind: 'appointment', appointmentId: req.params.id });
      const opened: RoomOpened = { roomId: room.id, url: `/call/${room.id}` };
      return reply.code(201).send(opened);
    });
  }
  app.get('/api/prescriptions/:code/pdf', rule('visits.attend'), async (req: P<{ code: string }>, reply: FastifyReply) => {
    const doc = await visits.prescription(req.ctx, parse(rxCode, req.params.code));
    return reply
      .type('application/pdf')
      .header('content-disposition', `attachment; filename="don-thuoc-${doc.code}.pdf"`)
      .header('cache-control', 'private, no-store')
      .send(await prescriptionPdf(doc));
  });
  // A pharmacy scanning the QR code learns that the prescription exists, when and where it was
  // issued and how many items it has; never who it is for.
  app.get(
    '/api/prescriptions/:code/verify',
    { config: { access: 'public', rateLimit: { max: 30, timeWindow: '1 minute' } } },
    async (req: P<{ code: string }>): Promise<PrescriptionCheck> => visits.prescriptionCheck(parse(rxCode, req.params.code)),
  );

  // The clinician's side.
  app.get('/api/visits/queue', rule('visits.provide'), async (req): Promise<QueueItem[]> => {
    const q = parse(queueQuery, req.query);
    const from = q.from ? new Date(`${q.from}T00:00:00+07:00`) : startOfVietnamDay(new Date());
    return visits.queue(req.ctx, from, q.days, (appointmentId) => video?.live.waitingFor(`Appointment/${appointmentId}`) ?? 0);
  });
  app.post('/api/visits/:id/prescription-check', rule('visits.provide'), async (req: P): Promise<PrescribingCheck> =>
    visits.checkPrescribing(req.ctx, parse(id, req.params.id), parse(prescriptionCheckRequest, req.body).items),
  );
  app.post('/api/visits/:id/complete', rule('visits.provide'), async (req: P): Promise<Completed> =>
    visits.complete(req.ctx, parse(id, req.params.id), parse(completeRequest, req.body)),
  );

  // The facility's charges for a day: CSV (default) or JSON; format in docs/visits.md.
  app.get('/api/visits/charges', rule('charges.export'), async (req, reply) => {
    const q = parse(chargesQuery, req.query);
    const rows = await visits.charges(req.ctx, q.date);
    reply.header('cache-control', 'private, no-store');
    if (q.format === 'json') return { date: q.date, currency: 'VND', rows } satisfies ChargesJson;
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="chi-phi-${q.date}.csv"`)
      .send(`\uFEFF${chargesCsv(rows)}`);
  });

  // The personal health record, for the citizen and the family members they manage.
  const whose = (req: FastifyRequest) => parse(recordQuery, req.query).patientId ?? req.ctx.actor.patientId ?? '';
  app.get('/api/me/record', rule('record.own'), async (req) => record.view(req.ctx, whose(req)));
  app.get('/api/me/record/pdf', rule('record.own'), async (req, reply) =>
    reply
      .type('application/pdf')
      .header('content-disposition', 'attachment; filename="ho-so-suc-khoe.pdf"')
      .header('cache-control', 'private, no-store')
      .send(await record.pdf(req.ctx, whose(req))),
  );
  app.get('/api/me/record/fhir', rule('record.own'), async (req, reply) =>
    reply
      .type('application/fhir+json; charset=utf-8')
      .header('content-disposition', 'attachment; filename="ho-so-suc-khoe.fhir.json"')
      .header('cache-control', 'private, no-store')
      .send(await record.everything(req.ctx, whose(req))),
  );
  app.get('/api/documents/:id', rule('record.own'), async (req: P, reply) => {
    const a = await record.document(req.ctx, parse(id, req.params.id));
    return reply
      .type(a.contentType)
      .header('content-disposition', `attachment; filename="${encodeURIComponent(a.title ?? 'tai-lieu')}"`)
      .header('cache-control', 'private, no-store')
      .send(a.data);
  });
}
