/**
 * The clinician's chart on one screen: demographics, allergies and intolerances, active
 * medications, problems, recent encounters and remote visits, documents, case conferences (open
 * and past, with their conclusions), open device alerts, care programmes and family managers.
 *
 * Rules: everything is read through the caller's own repository (`store.as(ctx)`, plain FHIR):
 * the role policy, SMART scopes and patient reach (care relationship, consent, break-the-glass)
 * are checked on every part and every part is audited. The Patient is read first, so a patient
 * out of reach is refused (403, with `breakGlass` when emergency access would open it) before
 * anything else is looked at. A section the caller's role may not read at all is left empty
 * rather than failing the whole chart.
 */
import type {
  AllergyIntolerance,
  Appointment,
  CarePlan,
  Composition,
  Condition,
  DocumentReference,
  Encounter,
  Flag,
  MedicationRequest,
  MedicationStatement,
  Organization,
  Patient,
  RelatedPerson,
  Resource,
  ServiceRequest,
  Task,
} from '@medplum/fhirtypes';
import { AccessDenied } from '../auth/access.ts';
import type { AccessContext } from '../auth/actor.ts';
import { narrativeText } from '../fhir/narrative.ts';
import type { Repository } from '../fhir/repository.ts';
import type { FhirStore } from '../fhir/store.ts';
import { BHYT_SYSTEM, CCCD_SYSTEM } from '../terminology/identifiers.ts';
import { CONSULT_CATEGORY, isConsultTask, isParam, ref, SIGNED_TAG, stateOf } from '../consult/model.ts';
import { STATE_LABELS } from '../consult/workflow.ts';
import type { Chart, ChartAllergy, ChartConsult, ChartMedication, ChartProgramme } from './contract.ts';

export const ATC_SYSTEM = 'http://www.whocc.no/atc';
const ETHNICITY_EXT = 'https://fhir.cauyte.vn/StructureDefinition/ethnicity';
const MANAGER_EXT = 'https://fhir.cauyte.vn/StructureDefinition/managed-by-patient';
const CLOSED_STATES = new Set(['declined', 'withdrawn', 'acknowledged', 'closed']);
const PROGRAMMES = [
  { kind: 'hypertension', codes: /^I1[0-5]/, label: 'Quản lý tăng huyết áp tại trạm y tế' },
  { kind: 'diabetes', codes: /^E1[0-4]/, label: 'Quản lý đái tháo đường tại trạm y tế' },
];

type Named = { name?: { text?: string; family?: string; given?: string[] }[] };
const nameOf = (r: Named | undefined) => {
  const n = r?.name?.[0];
  return n ? (n.text ?? [n.family, ...(n.given ?? [])].filter(Boolean).join(' ')) : '';
};
const text = (c: { text?: string; coding?: { display?: string; code?: string }[] } | undefined) =>
  c?.text ?? c?.coding?.find((x) => x.display)?.display ?? c?.coding?.[0]?.code ?? '';
const addressOf = (p: Patient) => {
  const a = p.address?.[0];
  return a ? (a.text ?? [...(a.line ?? []), a.city, a.state].filter(Boolean).join(', ')) : undefined;
};

/** One section: a role that may not read this type at all gets an empty section, not a failed chart. */
async function section<T extends Resource>(tx: Repository, type: string, query: Record<string, string>): Promise<T[]> {
  try {
    return await tx.search<T>(type, query);
  } catch (e) {
    if (e instanceof AccessDenied && !e.breakGlassPossible) return [];
    throw e;
  }
}

export function allergyOf(a: AllergyIntolerance): ChartAllergy {
  return {
    id: a.id!,
    substance: text(a.code) || 'Không rõ chất',
    codes: (a.code?.coding ?? []).map((c) => c.code ?? '').filter(Boolean),
    category: a.category,
    criticality: a.criticality,
    type: a.type,
    status: a.clinicalStatus?.coding?.[0]?.code,
    reactions: (a.reaction ?? []).flatMap((r) => (r.manifestation ?? []).map((m) => text(m))).filter(Boolean),
    recordedDate: a.recordedDate ?? a.onsetDateTime,
  };
}

export class ChartService {
  constructor(private readonly store: FhirStore) {}

  async chart(ctx: AccessContext, patientId: string): Promise<Chart> {
    return this.store.as(ctx).transaction(async (tx) => {
      const patient = await tx.read<Patient>('Patient', patientId);
      const p = `Patient/${patientId}`;
      const orgId = ref(patient.managingOrganization, 'Organization');
      const org = orgId ? await tx.tryRead<Organization>('Organization', orgId).catch(() => undefined) : undefined;
      const [allergies, requests, statements, conditions, encounters, appointments, docs, compositions, tasks, flags, carePlans, related] = await Promise.all([
        section<AllergyIntolerance>(tx, 'AllergyIntolerance', { patient: p, _count: '100' }),
        section<MedicationRequest>(tx, 'MedicationRequest', { subject: p, status: 'active', _sort: '-authoredon', _count: '100' }),
        section<MedicationStatement>(tx, 'MedicationStatement', { subject: p, status: 'active', _count: '100' }),
        section<Condition>(tx, 'Condition', { subject: p, _sort: '-recorded-date', _count: '200' }),
        section<Encounter>(tx, 'Encounter', { subject: p, _sort: '-date', _count: '10' }),
        section<Appointment>(tx, 'Appointment', { patient: p, _sort: '-date', _count: '20' }),
        section<DocumentReference>(tx, 'DocumentReference', { subject: p, _sort: '-date', _count: '20' }),
        section<Composition>(tx, 'Composition', { subject: p, _sort: '-date', _count: '50' }),
        section<Task>(tx, 'Task', { patient: p, _count: '100' }),
        section<Flag>(tx, 'Flag', { subject: p, _count: '100' }).then((fs) => fs.filter((f) => f.status === 'active')),
        section<CarePlan>(tx, 'CarePlan', { subject: p, status: 'active', _count: '20' }),
        section<RelatedPerson>(tx, 'RelatedPerson', { patient: p, active: 'true', _count: '20' }),
      ]);
      const consults = await this.consults(tx, tasks.filter(isConsultTask), compositions);
      const orgNames = await this.orgNames(
        tx,
        encounters.map((e) => ref(e.serviceProvider, 'Organization')),
      );
      const conditionById = new Map(conditions.map((c) => [c.id!, c]));
      return {
        patient: {
          id: patientId,
          name: nameOf(patient),
          gender: patient.gender,
          birthDate: patient.birthDate,
          cccd: patient.identifier?.find((i) => i.system === CCCD_SYSTEM)?.value,
          bhytCard: patient.identifier?.find((i) => i.system === BHYT_SYSTEM)?.value,
          address: addressOf(patient),
          phone: patient.telecom?.find((t) => t.system === 'phone')?.value,
          ethnicity: patient.extension?.find((e) => e.url === ETHNICITY_EXT)?.valueCoding?.display,
          facility: org?.name ?? patient.managingOrganization?.display,
        },
        allergies: allergies
          .filter((a) => a.clinicalStatus?.coding?.[0]?.code !== 'resolved' && a.verificationStatus?.coding?.[0]?.code !== 'entered-in-error')
          .map(allergyOf)
          .sort((a, b) => Number(b.criticality === 'high') - Number(a.criticality === 'high')),
        medications: [...requests.map(medicationOf), ...statements.map(statementOf)],
        problems: problemsOf(conditions),
        encounters: encounters.map((e) => {
          const dx = e.diagnosis?.[0]?.condition?.reference?.split('/')[1];
          const c = dx ? conditionById.get(dx) : conditions.find((x) => x.encounter?.reference === `Encounter/${e.id}`);
          const provider = ref(e.serviceProvider, 'Organization');
          return {
            id: e.id!,
            date: e.period?.start,
            kind: e.class?.code === 'VR' ? 'remote' : 'visit',
            type: text(e.serviceType) || text(e.type?.[0]) || undefined,
            facility: (provider ? orgNames.get(provider) : undefined) ?? e.serviceProvider?.display,
            diagnosis: c ? [c.code?.coding?.[0]?.code, text(c.code)].filter(Boolean).join(' ') : undefined,
          };
        }),
        appointments: appointments
          .filter((a) => !a.serviceCategory?.some((c) => c.coding?.some((x) => x.code === CONSULT_CATEGORY.code)))
          .map((a) => ({
            id: a.id!,
            start: a.start,
            status: a.status,
            service: text(a.serviceType?.[0]) || undefined,
            practitioner: a.participant.find((x) => x.actor?.reference?.startsWith('Practitioner/'))?.actor?.display,
          })),
        documents: [
          ...docs.map((d) => {
            const url = d.content?.[0]?.attachment?.url;
            return {
              id: `DocumentReference/${d.id}`,
              title: d.description ?? text(d.type) ?? 'Tài liệu',
              date: d.date,
              // The attachment route re-checks the document, its Binary and the Binary's patient.
              link: url?.startsWith('Binary/') ? `/api/attachments/${d.id}` : undefined,
            };
          }),
          ...compositions
            .filter((c) => !c.category?.some((x) => x.coding?.some((k) => k.code === CONSULT_CATEGORY.code)))
            .map((c) => ({ id: `Composition/${c.id}`, title: c.title, date: c.date })),
        ].sort((a, b) => (b.date ?? '').localeCompare(a.date ?? '')),
        consults,
        alerts: flags.map((f) => ({
          id: f.id!,
          text: text(f.code),
          since: f.period?.start,
          severity: f.extension?.find((e) => e.url.endsWith('alert-severity'))?.valueCode,
        })),
        programmes: programmesOf(conditions, carePlans),
        familyManagers: related.map((r) => ({
          id: r.id!,
          name: r.extension?.find((e) => e.url === MANAGER_EXT)?.valueReference?.display ?? nameOf(r),
          relationship: text(r.relationship?.[0]) || undefined,
        })),
      } satisfies Chart;
    });
  }

  private async orgNames(tx: Repository, ids: (string | undefined)[]): Promise<Map<string, string>> {
    const unique = [...new Set(ids.filter((x): x is string => !!x))];
    if (!unique.length) return new Map();
    const orgs = await section<Organization>(tx, 'Organization', { _id: unique.join(','), _count: String(unique.length) });
    return new Map(orgs.map((o) => [o.id!, o.name ?? '']));
  }

  /** The case conferences about this patient, open first, with the conclusion when there is one. */
  private async consults(tx: Repository, tasks: Task[], compositions: Composition[]): Promise<ChartConsult[]> {
    const requestIds = tasks.map((t) => ref(t.focus, 'ServiceRequest')).filter((x): x is string => !!x);
    const requests = requestIds.length ? await section<ServiceRequest>(tx, 'ServiceRequest', { _id: requestIds.join(','), _count: '100' }) : [];
    const byId = new Map(requests.map((r) => [r.id!, r]));
    const docs = new Map(compositions.map((c) => [c.id!, c]));
    const out = tasks.map((t): ChartConsult => {
      const sr = byId.get(ref(t.focus, 'ServiceRequest') ?? '');
      const state = stateOf(t);
      const conclusionId = (t.output ?? [])
        .filter((o) => isParam(o, 'conclusion'))
        .map((o) => ref(o.valueReference, 'Composition'))
        .pop();
      const c = conclusionId ? docs.get(conclusionId) : undefined;
      return {
        caseId: ref(t.focus, 'ServiceRequest') ?? t.id!,
        question: sr?.reasonCode?.[0]?.text ?? text(sr?.reasonCode?.[0]) ?? undefined,
        specialty: sr?.code?.coding?.[0]?.display,
        state,
        stateLabel: STATE_LABELS[state],
        open: !CLOSED_STATES.has(state),
        asked: sr?.authoredOn ?? t.authoredOn,
        conclusion: c
          ? {
              title: c.title,
              text: (c.section ?? [])
                .map((s) => narrativeText(s.text?.div ?? ''))
                .filter(Boolean)
                .join('\n')
                .slice(0, 2000),
              date: c.date,
              signed: !!c.meta?.tag?.some((x) => x.system === SIGNED_TAG.system && x.code === SIGNED_TAG.code),
            }
          : undefined,
      };
    });
    return out.sort((a, b) => Number(b.open) - Number(a.open) || (b.asked ?? '').localeCompare(a.asked ?? ''));
  }
}

function medicationOf(m: MedicationRequest): ChartMedication {
  const cc = m.medicationCodeableConcept;
  return {
    id: `MedicationRequest/${m.id}`,
    name: text(cc) || m.medicationReference?.display || 'Thuốc',
    atc: cc?.coding?.find((c) => c.system === ATC_SYSTEM)?.code,
    dosage: m.dosageInstruction?.[0]?.text,
    since: m.authoredOn,
    prescription: m.groupIdentifier?.value,
    by: m.requester?.display,
    status: m.status,
  };
}

function statementOf(m: MedicationStatement): ChartMedication {
  const cc = m.medicationCodeableConcept;
  return {
    id: `MedicationStatement/${m.id}`,
    name: text(cc) || 'Thuốc',
    atc: cc?.coding?.find((c) => c.system === ATC_SYSTEM)?.code,
    dosage: m.dosage?.[0]?.text,
    since: m.effectiveDateTime ?? m.effectivePeriod?.start ?? m.dateAsserted,
    status: m.status,
  };
}

/** One line per problem (the latest record of each code), active ones first. */
function problemsOf(conditions: Condition[]) {
  const seen = new Map<string, Condition>();
  for (const c of conditions) {
    const key = c.code?.coding?.[0]?.code ?? text(c.code);
    const first = seen.get(key);
    if (!first) seen.set(key, c);
  }
  return [...seen.values()]
    .map((c) => ({
      id: c.id!,
      code: c.code?.coding?.[0]?.code,
      display: text(c.code),
      since: conditions
        .filter((x) => (x.code?.coding?.[0]?.code ?? text(x.code)) === (c.code?.coding?.[0]?.code ?? text(c.code)))
        .map((x) => x.onsetDateTime ?? x.recordedDate)
        .filter((x): x is string => !!x)
        .sort()[0],
      status: c.clinicalStatus?.coding?.[0]?.code,
    }))
    .sort((a, b) => Number(b.status === 'active') - Number(a.status === 'active'));
}

function programmesOf(conditions: Condition[], carePlans: CarePlan[]): ChartProgramme[] {
  const out: ChartProgramme[] = [];
  for (const prog of PROGRAMMES) {
    const matching = conditions.filter((c) => c.code?.coding?.some((x) => prog.codes.test(x.code ?? '')));
    if (!matching.length) continue;
    const since = matching
      .map((c) => c.onsetDateTime ?? c.recordedDate)
      .filter((x): x is string => !!x)
      .sort()[0];
    out.push({ kind: prog.kind, label: prog.label, since, detail: text(matching[0].code) });
  }
  for (const cp of carePlans)
    out.push({ kind: 'careplan', label: cp.title ?? 'Kế hoạch theo dõi tại nhà', since: cp.period?.start ?? cp.created, detail: cp.description });
  return out;
}
