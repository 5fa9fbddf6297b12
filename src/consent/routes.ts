/**
 * A citizen's consents (Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15): share or block their record
 * with a facility, for treatment or research — for themselves, or for a family member they
 * manage (then the Consent's performer is the RelatedPerson saying how they are related).
 * Consents are FHIR Consent resources written through the citizen's own repository; the access
 * rules (src/auth/access.ts) take them into account in the same transaction. Bodies and queries
 * are parsed with the contract's schemas (contract.ts); the answers are Consent resources.
 */
import type { Consent } from '@medplum/fhirtypes';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AccessDenied } from '../auth/access.ts';
import { dataSubject } from '../family/links.ts';
import { InputError, parseInput as parse } from '../http/input.ts';
import { accessHoldersQuery, consentBody, consentId, consentListQuery, type AccessHolder } from './contract.ts';
import { accessHolders } from './holders.ts';

export async function consentRoutes(app: FastifyInstance): Promise<void> {
  const { store } = app;
  const rights = (req: FastifyRequest) => store.as(req.ctx, 'consent.own');

  app.get('/api/me/consents', { config: { access: { domain: 'consent.own' } } }, async (req): Promise<Consent[]> => {
    const subject = await dataSubject(rights(req).sql, req.ctx.actor, parse(consentListQuery, req.query).patientId);
    return store.as(req.ctx).search<Consent>('Consent', { patient: subject.patientId, _count: '200', _sort: '-_lastUpdated' });
  });

  // Who can read the record now and why (care, sharing, family, emergency access): src/consent/holders.ts.
  // It tells where the person was treated, who shares it, family links and emergency accesses:
  // an app's token needs a scope for each of those types, not only for Consent.
  const holdersAccess = { domain: 'consent.own', tokens: { type: ['Consent', 'Encounter', 'RelatedPerson', 'AuditEvent'] } } as const;
  app.get('/api/me/access-holders', { config: { access: holdersAccess } }, async (req): Promise<AccessHolder[]> => {
    const repo = rights(req);
    const subject = await dataSubject(repo.sql, req.ctx.actor, parse(accessHoldersQuery, req.query).patientId);
    const holders = await accessHolders(repo.sql, store, subject.patientId);
    await repo.record({ action: 'consent.access-holders', resourceType: 'Patient', resourceId: subject.patientId, patientIds: [subject.patientId] });
    return holders;
  });

  app.post('/api/me/consents', { config: { access: { domain: 'consent.own' } } }, async (req, reply) => {
    const body = parse(consentBody, req.body);
    // "Block every facility" would also lock out the person's own station and doctor: a refusal names the facility.
    if (body.decision === 'deny' && !body.organizationId) throw new InputError('organizationId: hãy chọn cơ sở muốn chặn (name the facility to block)');
    const subject = await dataSubject(rights(req).sql, req.ctx.actor, body.patientId);
    const repo = rights(req);
    if (body.organizationId && !(await repo.tryRead('Organization', body.organizationId)))
      throw new InputError(`organizationId: không có cơ sở ${body.organizationId} (no such facility)`);
    const consent: Consent = {
      resourceType: 'Consent',
      status: 'active',
      scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: body.purpose === 'research' ? 'research' : 'patient-privacy' }] },
      category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0', display: 'Patient Consent' }] }],
      patient: { reference: `Patient/${subject.patientId}` },
      dateTime: new Date().toISOString(),
      // Who decided: the person, or the family member who manages their record.
      performer: [{ reference: subject.asRelatedPerson ? `RelatedPerson/${subject.asRelatedPerson}` : `Patient/${subject.patientId}` }],
      policyRule: { text: 'Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15' },
      provision: {
        type: body.decision,
        ...(body.organizationId
          ? {
              actor: [
                {
                  role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] },
                  reference: { reference: `Organization/${body.organizationId}` },
                },
              ],
            }
          : {}),
        ...(body.purpose === 'research' ? { purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'HRESCH' }] } : {}),
      },
    };
    return reply.code(201).send(await repo.create(consent));
  });

  app.post(
    '/api/me/consents/:id/withdraw',
    { config: { access: { domain: 'consent.own' } } },
    async (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
      const repo = store.as(req.ctx);
      const current = await repo.read<Consent>('Consent', parse(consentId, req.params.id));
      const of = current.patient?.reference?.startsWith('Patient/') ? current.patient.reference.slice(8) : undefined;
      if (!of) throw new AccessDenied('Not your consent');
      await dataSubject(rights(req).sql, req.ctx.actor, of);
      return reply.send(await rights(req).update({ ...current, status: 'inactive' }, { ifMatch: `W/"${current.meta?.versionId}"` }));
    },
  );
}
