/**
 * A full recomputation of the monthly consult counts straight from the record (every consult
 * Task's version history and its ServiceRequest), independent of the incremental tables — what
 * the tests and the benchmark compare programme_consult_month with. Platform work (a system
 * repository, audited); meant for checks, not for serving screens.
 */
import type { Bundle, ServiceRequest, Task } from '@medplum/fhirtypes';
import type { FhirStore } from '../fhir/store.ts';
import { SPECIALTY_SYSTEM, STATE_SYSTEM } from '../consult/model.ts';
import { isParam } from '../consult/model.ts';
import { transferAvoided, URGENCY_OF } from './listeners.ts';
import { vietnamDay } from '../platform/vietnam-time.ts';

export interface MonthRow {
  month: string;
  province_code: number;
  level: string;
  specialty: string;
  urgency: string;
  requested: number;
  accepted: number;
  concluded: number;
  followed_up: number;
  improved: number;
  stable: number;
  transferred: number;
  died: number;
  local_advised: number;
  transfers_avoided: number;
}

const ACCEPTED = new Set(['accepted', 'scheduled', 'concluded', 'acknowledged', 'closed']);
const CONCLUDED = new Set(['concluded', 'acknowledged', 'closed']);

export async function recomputeConsultMonths(store: FhirStore): Promise<MonthRow[]> {
  const repo = store.system('programme: recompute the indicators from the record', 'programme');
  const places = new Map(
    (await repo.sql.query<{ org_id: string; province_code: number; level: string }>('SELECT org_id, province_code, level FROM programme_facility')).rows.map(
      (r) => [r.org_id, r],
    ),
  );
  const out = new Map<string, MonthRow>();
  let cursor: string | undefined;
  do {
    const page: Bundle = await repo.searchBundle('Task', { _count: '500', ...(cursor ? { _cursor: cursor } : {}) });
    for (const e of page.entry ?? []) {
      const t = e.resource as Task;
      if (!t.businessStatus?.coding?.some((c) => c.system === STATE_SYSTEM) || !t.focus?.reference?.startsWith('ServiceRequest/')) continue;
      const versions = ((await repo.history({ type: 'Task', id: t.id! })).entry ?? []).map((x) => x.resource as Task).filter(Boolean);
      versions.sort((a, b) => Number(a.meta!.versionId) - Number(b.meta!.versionId));
      let requestedAt: string | undefined;
      let accepted = false;
      let concluded = false;
      let requester: string | undefined;
      let urgency: string | undefined;
      let transferAdvised: boolean | null = null;
      let outcome: string | null = null;
      for (const v of versions) {
        const state = v.businessStatus?.coding?.find((c) => c.system === STATE_SYSTEM)?.code ?? 'draft';
        const when = new Date(v.lastModified ?? v.authoredOn ?? 0).toISOString();
        if (state !== 'draft' && (!requestedAt || when < requestedAt)) requestedAt = when;
        accepted ||= ACCEPTED.has(state);
        concluded ||= CONCLUDED.has(state);
        requester = v.requester?.reference?.replace(/^Organization\//, '') ?? requester;
        if (v.priority) urgency = URGENCY_OF[v.priority] ?? urgency;
        const outs = [...(v.output ?? [])].reverse();
        const advice = outs.find((o) => isParam(o, 'transfer-advised'))?.valueBoolean;
        if (typeof advice === 'boolean') transferAdvised = advice;
        outcome = outs.find((o) => isParam(o, 'outcome'))?.valueCode ?? outcome;
      }
      if (!requestedAt || !requester) continue;
      const sr = await repo.tryRead<ServiceRequest>('ServiceRequest', t.focus.reference.slice('ServiceRequest/'.length));
      const specialty = sr?.code?.coding?.find((c) => c.system === SPECIALTY_SYSTEM)?.code ?? '';
      urgency = URGENCY_OF[sr?.priority ?? ''] ?? urgency ?? 'routine';
      const place = places.get(requester);
      const row = {
        month: vietnamDay(requestedAt).slice(0, 7),
        province_code: place?.province_code ?? 0,
        level: place?.level ?? 'unregistered',
        specialty,
        urgency,
      };
      const key = JSON.stringify(row);
      const cur = out.get(key) ?? {
        ...row,
        requested: 0,
        accepted: 0,
        concluded: 0,
        followed_up: 0,
        improved: 0,
        stable: 0,
        transferred: 0,
        died: 0,
        local_advised: 0,
        transfers_avoided: 0,
      };
      cur.requested++;
      if (accepted) cur.accepted++;
      if (concluded) cur.concluded++;
      if (outcome) cur.followed_up++;
      if (outcome === 'improved') cur.improved++;
      if (outcome === 'stable') cur.stable++;
      if (outcome === 'transferred') cur.transferred++;
      if (outcome === 'died') cur.died++;
      if (transferAdvised === false) cur.local_advised++;
      if (transferAvoided({ transfer_advised: transferAdvised, outcome })) cur.transfers_avoided++;
      out.set(key, cur);
    }
    const next = page.link?.find((l) => l.relation === 'next')?.url;
    cursor = next ? (new URL(next).searchParams.get('_cursor') ?? undefined) : undefined;
  } while (cursor);
  const key = (r: MonthRow) => [r.month, String(r.province_code).padStart(3, '0'), r.level, r.specialty, r.urgency].join('|');
  return [...out.values()].sort((a, b) => key(a).localeCompare(key(b)));
}
