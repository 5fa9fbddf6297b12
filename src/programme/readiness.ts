/**
 * Bridge-point readiness: each site runs the pre-call check from its room equipment (camera,
 * microphone, bandwidth up/down, round-trip time, whether TURN was needed) and the result is
 * stored per site with its time. A site's readiness = its last successful check and its last real
 * session (a meeting it joined or a remote examination it held).
 *
 * Rules: staff record checks for their own facility only (`programme.readiness`); reading a
 * site's readiness is `programme.view` (no patient data).
 */
import type { AccessContext } from '../auth/actor.ts';
import { AccessDenied } from '../auth/access.ts';
import type { FhirStore } from '../fhir/store.ts';
import { facilityRow } from './network.ts';
import type { ReadinessInput, ReadinessView } from './contract.ts';

const isoOrUndefined = (v: unknown) => (v == null ? undefined : new Date(v as string).toISOString());

export class ReadinessService {
  constructor(private readonly store: FhirStore) {}

  async record(ctx: AccessContext, input: ReadinessInput): Promise<ReadinessView> {
    const org = ctx.actor.organizationId;
    if (!org) throw new AccessDenied('Tài khoản chưa gắn với cơ sở y tế (your account has no facility)');
    await this.store.as(ctx, 'programme.readiness').transaction(async (tx) => {
      await facilityRow(tx.sql, org);
      await tx.sql.query(
        `INSERT INTO programme_readiness (org_id, checked_at, ok, camera, microphone, up_kbps, down_kbps, rtt_ms, turn, actor)
         VALUES ($1, now(), $2, $3, $4, $5, $6, $7, $8, $9)`,
        [
          org,
          // A check without a working camera or microphone is never a successful one, whatever the page said.
          input.ok && input.camera && input.microphone,
          input.camera,
          input.microphone,
          input.upKbps ?? null,
          input.downKbps ?? null,
          input.rttMs ?? null,
          input.turn,
          ctx.actor.username ?? '',
        ],
      );
      await tx.record({ action: 'programme.readiness', resourceType: 'Organization', resourceId: org, detail: { ok: input.ok } });
    });
    return this.view(ctx, org);
  }

  async view(ctx: AccessContext, orgId: string): Promise<ReadinessView> {
    const sql = this.store.as(ctx, 'programme.view').sql;
    const last = await sql.query<{
      checked_at: string;
      ok: boolean;
      camera: boolean;
      microphone: boolean;
      up_kbps: number | null;
      down_kbps: number | null;
      rtt_ms: number | null;
      turn: boolean;
    }>(
      'SELECT checked_at, ok, camera, microphone, up_kbps, down_kbps, rtt_ms, turn FROM programme_readiness WHERE org_id = $1 ORDER BY checked_at DESC, id DESC LIMIT 1',
      [orgId],
    );
    const good = await sql.query<{ at: string | null }>('SELECT max(checked_at) AS at FROM programme_readiness WHERE org_id = $1 AND ok', [orgId]);
    const session = await sql.query<{ at: string | null }>(
      `SELECT greatest((SELECT max(day) FROM programme_meeting_site WHERE org_id = $1), (SELECT max(day) FROM programme_visit WHERE org_id = $1)) AS at`,
      [orgId],
    );
    const l = last.rows[0];
    return {
      organizationId: orgId,
      ...(l
        ? {
            lastCheck: {
              at: new Date(l.checked_at).toISOString(),
              ok: l.ok,
              camera: l.camera,
              microphone: l.microphone,
              turn: l.turn,
              ...(l.up_kbps != null ? { upKbps: l.up_kbps } : {}),
              ...(l.down_kbps != null ? { downKbps: l.down_kbps } : {}),
              ...(l.rtt_ms != null ? { rttMs: l.rtt_ms } : {}),
            },
          }
        : {}),
      ...(isoOrUndefined(good.rows[0]?.at) ? { lastSuccessfulCheck: isoOrUndefined(good.rows[0]?.at) } : {}),
      ...(session.rows[0]?.at ? { lastSession: String(session.rows[0].at).slice(0, 10) } : {}),
    };
  }
}
