/**
 * Names for the meeting pages (no record ids where a name belongs): the chair and participants
 * (Practitioner names), the bridge points (Location → facility) with their state from the
 * meeting's Encounter, the cases by patient and question (the viewer's patient reach applies:
 * a patient they may not see stays unnamed). And the list of meetings in a range of days for
 * the calendar, limited to meetings the viewer is invited to (themselves or their facility's site).
 * Runs inside the `consult.view` unit of work of the caller.
 */
import type { Appointment, Encounter, Location, Organization, Practitioner } from '@medplum/fhirtypes';
import type { Actor } from '../auth/actor.ts';
import type { Repository } from '../fhir/repository.ts';
import { searchByIds } from './case.ts';
import type { LiveQuality, MeetingDetails, MeetingListItem, MeetingPerson, MeetingSite } from './meeting-contract.ts';
import { CONSULT_CATEGORY, ref } from './model.ts';
import { describeRows } from './views.ts';

const humanName = (p?: Practitioner) => {
  const n = p?.name?.[0];
  return n ? (n.text ?? [...(n.prefix ?? []), n.family, ...(n.given ?? [])].filter(Boolean).join(' ')) : undefined;
};
const isChair = (p: Appointment['participant'][number]) => !!p.type?.some((t) => t.coding?.some((c) => c.code === 'PPRF'));

async function locations(tx: Repository, a: Appointment): Promise<Map<string, Location>> {
  const ids = a.participant.map((p) => ref(p.actor, 'Location')).filter((x): x is string => !!x);
  return new Map((await searchByIds(tx, 'Location', ids)).map((l) => [l.id!, l as Location]));
}

/** `live`: per facility, its people connected to the meeting's room now and their worst reported quality (video domain). */
export async function meetingDetails(
  tx: Repository,
  a: Appointment,
  attendance?: Encounter,
  live?: Map<string, { connected: number; quality: LiveQuality }>,
): Promise<MeetingDetails> {
  const pracIds = a.participant.map((p) => ref(p.actor, 'Practitioner')).filter((x): x is string => !!x);
  const pracs = new Map((await searchByIds(tx, 'Practitioner', pracIds)).map((p) => [p.id!, p as Practitioner]));
  const people: MeetingPerson[] = a.participant.flatMap((p) => {
    const id = ref(p.actor, 'Practitioner');
    return id ? [{ practitionerId: id, name: humanName(pracs.get(id)) ?? '—', chair: isChair(p), status: p.status }] : [];
  });
  const locs = await locations(tx, a);
  const orgIds = [...locs.values()].map((l) => ref(l.managingOrganization, 'Organization')).filter((x): x is string => !!x);
  const orgs = new Map((await searchByIds(tx, 'Organization', orgIds)).map((o) => [o.id!, o as Organization]));
  const sites: MeetingSite[] = a.participant.flatMap((p) => {
    const id = ref(p.actor, 'Location');
    if (!id) return [];
    const loc = locs.get(id);
    const orgId = ref(loc?.managingOrganization, 'Organization');
    const visits = (attendance?.location ?? []).filter((l) => l.location.reference === `Location/${id}`);
    const last = visits[visits.length - 1];
    const state: MeetingSite['state'] = !last ? 'invited' : last.period?.end ? 'left' : 'joined';
    return [
      {
        organizationId: orgId,
        name: (orgId && orgs.get(orgId)?.name) || loc?.name || '—',
        state,
        since: last ? (last.period?.end ?? last.period?.start) : undefined,
        ...(orgId && live?.get(orgId) ? { live: live.get(orgId) } : {}),
      },
    ];
  });
  const caseIds = (a.basedOn ?? []).map((r) => ref(r, 'ServiceRequest')).filter((x): x is string => !!x);
  const rows = await describeRows(
    tx,
    'meeting',
    caseIds.map((caseId) => ({ caseId })),
  );
  return {
    chair: people.find((p) => p.chair),
    participants: people,
    sites,
    cases: rows.map((r) => ({ caseId: r.caseId, patient: r.patient, specialty: r.specialty, question: r.reason })),
    started: !!attendance || (!!a.start && Date.parse(a.start) <= Date.now()),
  };
}

/** Meetings between two days (Vietnam time) that the actor, or a site of their facility, is invited to. */
export async function listMeetings(tx: Repository, actor: Actor, q: { from: string; to: string; facility?: string }): Promise<MeetingListItem[]> {
  const found = await tx.search<Appointment>('Appointment', {
    'service-category': `${CONSULT_CATEGORY.system}|${CONSULT_CATEGORY.code}`,
    date: [`ge${q.from}T00:00:00+07:00`, `le${q.to}T23:59:59+07:00`],
    _count: '500',
    _sort: 'date',
  });
  const out: MeetingListItem[] = [];
  for (const a of found) {
    if (a.status === 'cancelled') continue;
    const locs = await locations(tx, a);
    const siteOrgs = [...locs.values()].map((l) => ({ id: ref(l.managingOrganization, 'Organization'), name: l.name ?? '—' }));
    const mine =
      (!!actor.practitionerId && a.participant.some((p) => p.actor?.reference === `Practitioner/${actor.practitionerId}`)) ||
      siteOrgs.some((s) => s.id && s.id === actor.organizationId);
    if (!mine) continue;
    if (q.facility && !siteOrgs.some((s) => s.id === q.facility)) continue;
    const chairId = ref(a.participant.find(isChair)?.actor, 'Practitioner');
    const chair = chairId ? humanName(await tx.tryRead<Practitioner>('Practitioner', chairId)) : undefined;
    out.push({
      id: a.id!,
      title: a.description ?? '',
      start: a.start!,
      end: a.end!,
      chair,
      sites: siteOrgs.map((s) => ({ organizationId: s.id, name: s.name.replace(/^Điểm cầu /, '') })),
      cases: a.basedOn?.length ?? 0,
    });
  }
  return out;
}
