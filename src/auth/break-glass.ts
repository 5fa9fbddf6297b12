/**
 * Break-the-glass: emergency access to one patient's record, with a stated reason, for a limited
 * time (CAUYTE_BREAK_GLASS_MINUTES), every grant reviewed afterwards by the data-protection
 * officer. The grant and its audit row are written in one transaction. Bodies are parsed with the
 * contract's schemas and answers have its types (contract.ts).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Db } from '../db/db.ts';
import { parseInput as parse } from '../http/input.ts';
import { iso, isoOrNull } from '../http/json.ts';
import { problem } from '../http/problem.ts';
import type { AccessControl } from './access.ts';
import { actorFields } from './principal.ts';
import { breakGlassBody, breakGlassListQuery, breakGlassReviewBody, type BreakGlassEntry, type BreakGlassGrant, type Ok } from './contract.ts';

/** A row of break_glass with the account's username, as the database gives it. */
type BreakGlassRow = Omit<BreakGlassEntry, 'created_at' | 'expires_at' | 'reviewed_at'> & { created_at: Date; expires_at: Date; reviewed_at: Date | null };

export async function breakGlassRoutes(app: FastifyInstance, opts: { db: Db; access: AccessControl }): Promise<void> {
  const { db, access } = opts;
  const audit = app.audit;

  app.post('/api/break-glass', { config: { access: { domain: 'breakglass.use' } } }, async (req) => {
    const body = parse(breakGlassBody, req.body);
    // 404 for an unknown patient, before any grant (the platform looks; the person cannot yet).
    await app.store.system('break-the-glass: the requested patient exists', 'auth').read('Patient', body.patientId);
    return db.transaction(async (tx) => {
      const grant = await access.breakGlass(tx, req.ctx.actor, body.patientId, body.reason);
      await audit.append(tx, {
        ...actorFields(req.ctx),
        action: 'break-glass',
        outcome: 'success',
        resourceType: 'Patient',
        resourceId: body.patientId,
        patientIds: [body.patientId],
        reason: body.reason,
        breakGlass: true,
        detail: { grant: grant.id, expiresAt: grant.expiresAt },
      });
      return { id: grant.id, patientId: body.patientId, expiresAt: iso(grant.expiresAt) } satisfies BreakGlassGrant;
    });
  });

  app.get('/api/break-glass', { config: { access: { domain: 'breakglass.review' } } }, async (req): Promise<BreakGlassEntry[]> => {
    const unreviewed = parse(breakGlassListQuery, req.query).unreviewed === 'true';
    const rows = await db.query<BreakGlassRow>(
      `SELECT b.*, a.username FROM break_glass b JOIN account a ON a.id = b.account_id ${unreviewed ? 'WHERE b.reviewed_at IS NULL' : ''} ORDER BY b.created_at DESC LIMIT 500`,
    );
    // The list names patients and the reasons given for reaching them: reading it is recorded with them.
    await audit.record({
      ...actorFields(req.ctx),
      action: 'break-glass.list',
      outcome: 'success',
      patientIds: [...new Set(rows.rows.map((r) => r.patient_id))],
      detail: { unreviewed, shown: rows.rows.length },
    });
    return rows.rows.map((r) => ({ ...r, created_at: iso(r.created_at), expires_at: iso(r.expires_at), reviewed_at: isoOrNull(r.reviewed_at) }));
  });

  app.post(
    '/api/break-glass/:id/review',
    { config: { access: { domain: 'breakglass.review' } } },
    async (req: FastifyRequest<{ Params: { id: string } }>, reply) => {
      const body = parse(breakGlassReviewBody, req.body);
      if (!/^[0-9a-f-]{36}$/.test(req.params.id))
        return reply.code(404).type('application/problem+json').send(problem(404, 'Không có yêu cầu chờ xem xét này (no such unreviewed grant)'));
      const r = await db.query(
        'UPDATE break_glass SET reviewed_by = $2, reviewed_at = now(), review_note = $3 WHERE id = $1 AND reviewed_at IS NULL RETURNING patient_id',
        [req.params.id, req.ctx.actor.accountId, body.note],
      );
      if (r.rowCount === 0)
        return reply.code(404).type('application/problem+json').send(problem(404, 'Không có yêu cầu chờ xem xét này (no such unreviewed grant)'));
      await audit.record({
        ...actorFields(req.ctx),
        action: 'break-glass.review',
        outcome: 'success',
        patientIds: [(r.rows[0] as { patient_id: string }).patient_id],
        detail: { grant: req.params.id, note: body.note },
      });
      return { status: 'ok' } satisfies Ok;
    },
  );
}
