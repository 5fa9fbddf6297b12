/**
 * HTTP for family links: the citizen's members and giving a link up (`family.own`), and staff
 * recording or ending a link after seeing the proof (`family.manage`). Bodies are parsed with the
 * contract's schemas (src/family/contract.ts); the service does every check and write.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parseInput as parse } from '../http/input.ts';
import { familyLinkRequest, id, type FamilyLinkCreated, type FamilyLinkRevoked, type FamilyMember } from './contract.ts';
import type { FamilyService } from './service.ts';

type ById = FastifyRequest<{ Params: { id: string } }>;

export async function familyRoutes(app: FastifyInstance, opts: { family: FamilyService }): Promise<void> {
  const { family } = opts;
  const own = { config: { access: { domain: 'family.own' as const } } };
  const manage = { config: { access: { domain: 'family.manage' as const } } };

  // The citizen: who I manage, and giving a link up.
  app.get('/api/me/family', own, async (req): Promise<FamilyMember[]> => family.members(req.ctx));
  app.post('/api/me/family/:id/revoke', own, async (req: ById): Promise<FamilyLinkRevoked> => {
    await family.giveUp(req.ctx, parse(id, req.params.id));
    return { revoked: true };
  });

  // Staff record a relation after seeing the proof; the manager is named by record id or CCCD.
  app.post('/api/family-links', manage, async (req, reply) => {
    const b = parse(familyLinkRequest, req.body);
    const managerPatientId = b.managerPatientId ?? (await family.patientByCccd(req.ctx, b.managerCccd!));
    const created: FamilyLinkCreated = await family.link(req.ctx, { managerPatientId, patientId: b.patientId, relationship: b.relationship, proof: b.proof });
    return reply.code(201).send(created);
  });
  app.post('/api/family-links/:id/revoke', manage, async (req: ById): Promise<FamilyLinkRevoked> => {
    await family.revoke(req.ctx, parse(id, req.params.id));
    return { revoked: true };
  });
}
