/**
 * HTTP for citizens' remote examinations and personal health record: services and free slots,
 * booking (with eligibility and the pre-visit questions), cancel and reschedule, the visit room,
 * the clinician's queue and visit note with e-prescription, prescription PDF and its public check,
 * the day's charges, the health record (timeline, PDF, FHIR bundle) and family members.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { parseInput as parse } from '../http/input.ts';
import type { ConsultService } from '../consult/service.ts';
import type { RoomService } from '../video/rooms.ts';
import type { LiveRooms } from '../video/routes.ts';
import { chargesCsv, FAMILY_RELATIONS, PRESCRIPTION_SYSTEM, type FamilyRelation, type VisitService } from './service.ts';
import { PRESCRIPTION_CODE, prescriptionPdf } from './prescription.ts';
import type { HealthRecordService } from './record.ts';
import type { MedicationRequest } from '@medplum/fhirtypes';
import { notFound } from '../fhir/outcome.ts';

type P<T = { id: string }> = FastifyRequest<{ Params: T; Querystring: Record<string, string | undefined> }>;

const id = z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, 'must be a resource id');
const text = (max: number) => z.string().trim().min(1).max(max);
const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD');
const time = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time HH:MM');
const icd = z.object({ code: z.string().regex(/^[A-Z]\d{2}(\.[0-9A-Z]{1,4})?$/, 'must be an ICD-10 code such as I10'), display: z.string().max(300).optional() }).strict();
const rxCode = z.string().regex(PRESCRIPTION_CODE, 'must be a prescription code');

const bookingBody = z.object({
  patientId: id,
  slotId: id,
  icd10: icd,
  reason: text(1000),
  answers: z.record(z.string().regex(/^[a-z0-9-]{1,40}$/), z.union([z.string().max(500), z.boolean()])),
}).strict();

const completeBody = z.object({
  findings: text(10_000),
  assessment: text(10_000),
  diagnosis: icd,
  instructions: text(5000),
  followUpDays: z.number().int().min(1).max(365).optional(),
  reported: z.object({
    systolic: z.number().int().min(50).max(300).optional(),
    diastolic: z.number().int().min(20).max(200).optional(),
    heartRate: z.number().int().min(20).max(250).optional(),
    weightKg: z.number().min(0.5).max(400).optional(),
    temperatureC: z.number().min(30).max(45).optional(),
  }).strict().refine((r) => (r.systolic === undefined) === (r.diastolic === undefined), 'systolic and diastolic go together').optional(),
  prescription: z.object({
    items: z.array(z.object({
      name: text(200),
      drugCode: z.string().trim().regex(/^[A-Z0-9][A-Z0-9-]{2,30}$/, 'a drug registration number such as VD-12345-10').optional(),
      quantity: z.number().positive().max(10_000),
      unit: text(30),
      dosage: text(500),
      days: z.number().int().min(1).max(365).optional(),
    }).strict()).min(1).max(20),
    advice: z.string().trim().max(2000).optional(),
  }).strict().optional(),
  bhytCard: z.string().trim().regex(/^[A-Z]{2}\d{13}$/, 'a BHYT card number such as HT3151234567890').optional(),
  useInsurance: z.boolean().default(true),
}).strict();

export interface VisitRoutesOptions {
  visits: VisitService;
  record: HealthRecordService;
  consults: ConsultService;
  rooms: RoomService;
  live: LiveRooms;
}

export async function visitRoutes(app: FastifyInstance, opts: VisitRoutesOptions): Promise<void> {
  const { visits, record, consults, rooms, live } = opts;
  const rule = (domain: 'visits.book' | 'visits.attend' | 'visits.provide' | 'visits.schedule' | 'charges.export' | 'family.manage' | 'record.own') => ({ config: { access: { domain } } });
  const signedIn = { config: { access: 'authenticated' as const } };

  // What is offered, and when (directory information: any signed-in person).
  app.get('/api/visits/services', signedIn, async () => visits.services());
  app.get('/api/visits/services/:id/slots', signedIn, async (req: P) => visits.freeSlots(parse(id, req.params.id), parse(z.object({ days: z.coerce.number().int().min(1).max(60).default(14) }).strict(), req.query).days));
  app.get('/api/visits/questionnaire', signedIn, async () => visits.preVisit());
  app.post('/api/visits/services', rule('visits.schedule'), async (req, reply) =>
    reply.code(201).send(await visits.createService(req.ctx, parse(z.object({ code: z.string().regex(/^[a-z0-9-]{2,60}$/), name: text(200), specialty: text(100), price: z.number().int().min(0).max(100_000_000), bhytCovered: z.boolean() }).strict(), req.body))));
  app.post('/api/visits/schedules', rule('visits.schedule'), async (req, reply) =>
    reply.code(201).send(await visits.publishSlots(req.ctx, parse(z.object({ practitionerId: id, serviceId: id, from: date, days: z.number().int().min(1).max(60), start: time, end: time, minutes: z.number().int().min(5).max(120) }).strict(), req.body))));

  // The citizen's side.
  app.post('/api/visits', rule('visits.book'), async (req, reply) => {
    const r = await visits.book(req.ctx, parse(bookingBody, req.body));
    return reply.code(201).send({ id: r.appointment.id, bookingCode: r.bookingCode, start: r.appointment.start, end: r.appointment.end, joinUrl: `/me/visits/${r.appointment.id}`, eligibility: r.eligibility });
  });
  app.get('/api/me/visits', rule('visits.book'), async (req) => visits.mine(req.ctx));
  app.post('/api/visits/:id/cancel', rule('visits.book'), async (req: P) => {
    const a = await visits.cancel(req.ctx, parse(id, req.params.id), parse(z.object({ reason: text(500) }).strict(), req.body).reason);
    return { id: a.id, status: a.status };
  });
  app.post('/api/visits/:id/reschedule', rule('visits.book'), async (req: P) => {
    const a = await visits.reschedule(req.ctx, parse(id, req.params.id), parse(z.object({ slotId: id }).strict(), req.body).slotId);
    return { id: a.id, status: a.status, start: a.start, end: a.end };
  });

  // Both sides of the visit.
  app.get('/api/visits/:id', rule('visits.attend'), async (req: P) => visits.view(req.ctx, parse(id, req.params.id)));
  app.post('/api/visits/:id/room', rule('visits.attend'), async (req: P, reply) => {
    await visits.view(req.ctx, parse(id, req.params.id)); // party to this visit (patient, family manager, its clinician)
    const room = await rooms.open(req.ctx.actor, { kind: 'appointment', appointmentId: req.params.id });
    return reply.code(201).send({ roomId: room.id, url: `/call/${room.id}` });
  });
  app.get('/api/prescriptions/:code/pdf', rule('visits.attend'), async (req: P<{ code: string }>, reply: FastifyReply) => {
    const doc = await visits.prescription(req.ctx, parse(rxCode, req.params.code));
    return reply.type('application/pdf').header('content-disposition', `attachment; filename="don-thuoc-${doc.code}.pdf"`).header('cache-control', 'private, no-store').send(await prescriptionPdf(doc));
  });
  // A pharmacy scanning the QR code learns that the prescription exists, when and where it was
  // issued and how many items it has; never who it is for.
  app.get('/api/prescriptions/:code/verify', { config: { access: 'public', rateLimit: { max: 30, timeWindow: '1 minute' } } }, async (req: P<{ code: string }>) => {
    const code = parse(rxCode, req.params.code);
    const meds = (await visits.prescriptionItems(code)) as MedicationRequest[];
    if (!meds.length) throw notFound(`Không có đơn thuốc ${code} (no such prescription)`);
    return { code, valid: meds.every((m) => m.status === 'active' || m.status === 'completed'), issuedAt: meds[0].authoredOn, items: meds.length, system: PRESCRIPTION_SYSTEM };
  });

  // The clinician's side.
  app.get('/api/visits/queue', rule('visits.provide'), async (req) => {
    const q = parse(z.object({ from: date.optional(), days: z.coerce.number().int().min(1).max(31).default(1) }).strict(), req.query);
    const from = q.from ? new Date(`${q.from}T00:00:00+07:00`) : startOfVietnamDay(new Date());
    return visits.queue(req.ctx, from, q.days, (appointmentId) => live.waitingFor(`Appointment/${appointmentId}`));
  });
  app.post('/api/visits/:id/complete', rule('visits.provide'), async (req: P) => visits.complete(req.ctx, parse(id, req.params.id), parse(completeBody, req.body)));

  // The facility's charges for a day: CSV (default) or JSON; format in docs/visits.md.
  app.get('/api/visits/charges', rule('charges.export'), async (req, reply) => {
    const q = parse(z.object({ date, format: z.enum(['csv', 'json']).default('csv') }).strict(), req.query);
    const rows = await visits.charges(req.ctx, q.date);
    reply.header('cache-control', 'private, no-store');
    if (q.format === 'json') return { date: q.date, currency: 'VND', rows };
    return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="chi-phi-${q.date}.csv"`).send(`\uFEFF${chargesCsv(rows)}`);
  });

  // The personal health record, for the citizen and the family members they manage.
  const whose = (req: FastifyRequest) => parse(z.object({ patientId: id.optional() }).strict(), req.query).patientId ?? req.ctx.actor.patientId ?? '';
  app.get('/api/me/record', rule('record.own'), async (req) => record.view(req.ctx, whose(req)));
  app.get('/api/me/record/pdf', rule('record.own'), async (req, reply) =>
    reply.type('application/pdf').header('content-disposition', 'attachment; filename="ho-so-suc-khoe.pdf"').header('cache-control', 'private, no-store').send(await record.pdf(req.ctx, whose(req))));
  app.get('/api/me/record/fhir', rule('record.own'), async (req, reply) =>
    reply.type('application/fhir+json; charset=utf-8').header('content-disposition', 'attachment; filename="ho-so-suc-khoe.fhir.json"').header('cache-control', 'private, no-store').send(await record.everything(req.ctx, whose(req))));
  app.get('/api/me/family', rule('record.own'), async (req) => visits.family(req.ctx));
  app.post('/api/me/family/:id/revoke', rule('record.own'), async (req: P) => {
    await visits.revokeFamily(req.ctx, parse(id, req.params.id));
    return { revoked: true };
  });
  app.get('/api/documents/:id', rule('record.own'), async (req: P, reply) => {
    const a = await consults.attachmentContent(req.ctx, parse(id, req.params.id));
    return reply.type(a.contentType).header('content-disposition', `attachment; filename="${encodeURIComponent(a.title ?? 'tai-lieu')}"`).header('cache-control', 'private, no-store').send(a.data);
  });

  // Staff record a family relation after seeing the proof.
  // The manager is named by their record's id or, at the station's desk, by their CCCD number.
  app.post('/api/family-links', rule('family.manage'), async (req, reply) => {
    const b = parse(
      z.object({ managerPatientId: id.optional(), managerCccd: z.string().regex(/^\d{12}$/, 'a 12-digit CCCD number').optional(), patientId: id, relationship: z.enum(Object.keys(FAMILY_RELATIONS) as [FamilyRelation, ...FamilyRelation[]]), proof: text(300).refine((s) => s.length >= 5, 'name the document seen') })
        .strict()
        .refine((x) => !!x.managerPatientId !== !!x.managerCccd, 'give managerPatientId or managerCccd (one of them)'),
      req.body,
    );
    const managerPatientId = b.managerPatientId ?? (await visits.patientByCccd(b.managerCccd!));
    return reply.code(201).send(await visits.linkFamily(req.ctx, { managerPatientId, patientId: b.patientId, relationship: b.relationship, proof: b.proof }));
  });
  app.post('/api/family-links/:id/revoke', rule('family.manage'), async (req: P) => {
    await visits.revokeFamily(req.ctx, parse(id, req.params.id));
    return { revoked: true };
  });
}

/** Midnight in Việt Nam (UTC+7, no daylight saving). */
export function startOfVietnamDay(d: Date): Date {
  const local = new Date(d.getTime() + 7 * 3_600_000).toISOString().slice(0, 10);
  return new Date(`${local}T00:00:00+07:00`);
}
