/**
 * The indicators as a service: decides the actor's scope, checks the asked place lies within it,
 * evaluates (indicators.ts) and records the access (aggregates only: no patient is named).
 */
import type { AccessContext } from '../auth/actor.ts';
import type { FhirStore } from '../fhir/store.ts';
import type { IndicatorQuery, IndicatorReport } from './contract.ts';
import { evaluate, resolve } from './indicators.ts';
import { assertWithin, scopeLabel, scopeOf } from './scope.ts';
import { province } from './places.ts';

export class IndicatorService {
  constructor(private readonly store: FhirStore) {}

  async report(ctx: AccessContext, q: IndicatorQuery, today = new Date()): Promise<IndicatorReport> {
    return this.store.as(ctx, 'reports.read').transaction(async (tx) => {
      const scope = await scopeOf(tx.sql, ctx.actor);
      await assertWithin(tx.sql, scope, { province: q.province, facility: q.facility });
      const r = resolve(q, scope, today);
      let label = scopeLabel(scope);
      if (r.facility) {
        const f = await tx.sql.query<{ name: string }>('SELECT name FROM programme_facility WHERE org_id = $1', [r.facility]);
        label = f.rows[0]?.name ?? r.facility;
      } else if (r.province !== undefined) label = province(r.province)?.name ?? label;
      const report = await evaluate(tx.sql, r, { kind: scope.kind, label });
      await tx.record({ action: 'reports.indicators', detail: { scope: scope.kind, province: r.province, facility: r.facility, from: r.from, to: r.to } });
      return report;
    });
  }
}
