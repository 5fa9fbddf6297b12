/**
 * The receiving (hub) facility's part of a concluded case conference as claim facts
 * (xml130/facts.ts): the case's request and Task, the signed conclusion, the hub and its
 * consultation service, the patient, the specialists who signed. The tables are the visit's:
 * check-in, XML1, XML3 with the consultation as its one service; no XML2 (the hub dispenses
 * nothing — the HC.+hub code belongs on the requesting facility's XML2 when it dispenses what the
 * hub prescribed, QĐ 4750), no XML13/XML14 (the hub neither refers nor books the re-examination).
 *
 * Rules: reads only, through the repository it is given (claims-consult.ts: the platform's,
 * audited with its reason, after checking the actor's facility is the case's receiving one).
 * Only a case whose conclusion is signed and final (state concluded, acknowledged or closed) has
 * a claim. What the record does not hold is left empty or listed as a gap — never made up.
 * Choices the sources do not settle are marked [U] (docs/national-formats.md).
 */
import type { Appointment, Composition, HealthcareService, Observation, Organization, Patient, Practitioner, ServiceRequest, Task } from '@medplum/fhirtypes';
import { CONSULT_CATEGORY, isConsultRequest, isConsultTask, isParam, stateOf } from '../consult/model.ts';
import { narrativeText } from '../fhir/narrative.ts';
import { conflict, notFound } from '../fhir/outcome.ts';
import type { Repository } from '../fhir/repository.ts';
import { BHYT_SYSTEM } from '../terminology/identifiers.ts';
import { nameOf, patientFacts, ref } from './gather.ts';
import { BHYT_SERVICE_SYSTEM, DEPARTMENT_EXT, ext, FACILITY_CODE_SYSTEM, HEAD_INSURANCE_NO_EXT, idValue, LICENCE_SYSTEM } from './model.ts';
import type { ClaimFacts } from './xml130/facts.ts';

/** Same markers the visits and consult domains write. */
const PRICE_EXT = 'https://fhir.cauyte.vn/StructureDefinition/service-price';
const BHYT_COVERED_EXT = 'https://fhir.cauyte.vn/StructureDefinition/bhyt-covered';
const DIAGNOSIS_EXT = 'https://fhir.cauyte.vn/StructureDefinition/consult-diagnosis';
const WEIGHT = '29463-7';
const CLAIMABLE = new Set(['concluded', 'acknowledged', 'closed']);

export interface GatheredConsult {
  facts: ClaimFacts;
  /** The receiving (hub) facility: whose claim this is. */
  organizationId: string;
  patientId: string;
  /** The case's Task: where the gateway's transaction code is kept. */
  taskId: string;
}

/** Facts of the hub's part of case `caseId` (the ServiceRequest id). */
export async function gatherConsult(repo: Repository, caseId: string): Promise<GatheredConsult> {
  const request = await repo.tryRead<ServiceRequest>('ServiceRequest', caseId);
  if (!request || !isConsultRequest(request)) throw notFound(`Không có ca hội chẩn ${caseId} (no such case)`);
  const task = (await repo.search<Task>('Task', new URLSearchParams({ focus: `ServiceRequest/${caseId}`, _count: '20' }))).find(isConsultTask);
  if (!task) throw notFound(`Ca ${caseId} không có phiếu theo dõi (no task for this case)`);
  const state = stateOf(task);
  if (!CLAIMABLE.has(state)) throw conflict(`Ca hội chẩn chưa có kết luận đã ký (the case is ${state}, not concluded)`);
  const hubId = ref(task.owner, 'Organization');
  if (!hubId) throw conflict('Ca hội chẩn không ghi cơ sở tiếp nhận (the case names no receiving facility)');
  const patientId = ref(request.subject, 'Patient')!;
  const conclusionId = ref([...(task.output ?? [])].reverse().find((o) => isParam(o, 'conclusion'))?.valueReference, 'Composition');
  const conclusion = conclusionId ? await repo.read<Composition>('Composition', conclusionId) : undefined;
  if (!conclusion || conclusion.status !== 'final') throw conflict('Kết luận hội chẩn chưa ký đủ (the conclusion is not final)');
  const meetingId = ref((task.input ?? []).find((i) => isParam(i, 'meeting'))?.valueReference, 'Appointment');
  const meeting = meetingId ? await repo.tryRead<Appointment>('Appointment', meetingId) : undefined;
  const patient = await repo.read<Patient>('Patient', patientId);
  const hub = await repo.read<Organization>('Organization', hubId);
  const requesterId = ref(task.requester, 'Organization');
  const requester = requesterId ? await repo.tryRead<Organization>('Organization', requesterId) : undefined;
  const service = (
    await repo.search<HealthcareService>(
      'HealthcareService',
      new URLSearchParams({ organization: `Organization/${hubId}`, 'service-category': `${CONSULT_CATEGORY.system}|${CONSULT_CATEGORY.code}`, _count: '10' }),
    )
  ).find((s) => s.active !== false);
  const signers = (conclusion.attester ?? []).map((a) => ref(a.party, 'Practitioner')).filter((x): x is string => !!x);
  const practitioners: Practitioner[] = [];
  for (const id of signers) {
    const pr = await repo.tryRead<Practitioner>('Practitioner', id);
    if (pr) practitioners.push(pr);
  }
  const licences = practitioners.map((pr) => idValue(pr.identifier, LICENCE_SYSTEM));
  const end =
    (conclusion.attester ?? [])
      .map((a) => a.time ?? '')
      .sort()
      .at(-1) || conclusion.date;
  const start = meeting?.start ?? task.authoredOn ?? request.authoredOn ?? end;
  // The patient's last reported weight on or before the conclusion (the hub measures nothing itself).
  const weight = (
    await repo.search<Observation>(
      'Observation',
      new URLSearchParams({ subject: `Patient/${patientId}`, code: `http://loinc.org|${WEIGHT}`, _sort: '-date', _count: '1' }),
    )
  )[0]?.valueQuantity?.value;
  const section = (title: string) => {
    const s = conclusion.section?.find((x) => x.title === title)?.text;
    return s ? narrativeText(s.div).trim() : undefined;
  };
  const diagnosis = ext(conclusion.extension, DIAGNOSIS_EXT)?.valueCoding;
  const price = ext(service?.extension, PRICE_EXT)?.valueMoney?.value;
  const inList = ext(service?.extension, BHYT_COVERED_EXT)?.valueBoolean === true;
  // [U] Insured only when the hub lists the consultation as BHYT-covered and the patient holds a
  // card valid at the conclusion; BHYT payment for remote care is not settled (§1.4).
  const card = patient.identifier?.find((i) => i.system === BHYT_SYSTEM && (!i.period?.end || i.period.end >= end.slice(0, 10)));
  const insured = inList && !!card?.value;
  const requestingCode = idValue(requester?.identifier, FACILITY_CODE_SYSTEM);
  const gaps: NonNullable<ClaimFacts['gaps']> = [];
  if (!service)
    gaps.push({
      table: 'XML3',
      row: 1,
      column: 'MA_DICH_VU',
      problem: 'missing',
      detail: 'the receiving facility has no consultation service (HealthcareService, category teleconsultation)',
    });
  else if (price === undefined)
    gaps.push({
      table: 'XML3',
      row: 1,
      column: 'DON_GIA_BV',
      problem: 'missing',
      detail: `no price on the consultation service ${service.name ?? service.id}`,
    });
  licences.forEach((l, i) => {
    if (!l)
      gaps.push({
        table: 'XML3',
        row: 1,
        column: 'NGUOI_THUC_HIEN',
        problem: 'missing',
        detail: `no practising certificate for ${nameOf(practitioners[i]) || practitioners[i].id}`,
      });
  });
  const advice = section('Khuyến cáo (xét nghiệm, điều trị)');
  const facts: ClaimFacts = {
    visitKey: caseId,
    recordNo: caseId,
    facility: {
      code: idValue(hub.identifier, FACILITY_CODE_SYSTEM),
      name: hub.name ?? '',
      departmentCode: ext(hub.extension, DEPARTMENT_EXT)?.valueString,
      headInsuranceNo: ext(hub.extension, HEAD_INSURANCE_NO_EXT)?.valueString,
    },
    patient: patientFacts(patient, weight),
    ...(insured
      ? {
          card: {
            number: card!.value!,
            ...(card!.period?.start ? { validFrom: card!.period.start } : {}),
            ...(card!.period?.end ? { validTo: card!.period.end } : {}),
          },
        }
      : {}),
    // [U] self-paid → "9"; an insured consultation's MA_DOITUONG_KCB is the facility's decision (no rule for a hub's remote part): left empty, listed.
    ...(insured ? {} : { subjectCode: '9' }),
    start,
    end,
    reason: request.reasonCode?.[0]?.text ?? request.reasonCode?.[0]?.coding?.[0]?.display ?? '',
    diagnosis: { code: diagnosis?.code ?? '', ...(diagnosis?.display ? { display: diagnosis.display } : {}) },
    conclusion: section('Chẩn đoán') ?? section('Nhận định') ?? '',
    // [U] GHI_CHU: the recommendation and, for the fund's reviewer, which facility asked.
    advice: [advice, requestingCode ? `Hội chẩn từ xa theo yêu cầu của cơ sở ${requestingCode}` : undefined].filter(Boolean).join('. ') || undefined,
    practitioner: { licence: licences[0], name: practitioners[0] ? nameOf(practitioners[0]) : undefined },
    service: {
      code: service?.type?.flatMap((t) => t.coding ?? []).find((c) => c.system === BHYT_SERVICE_SYSTEM)?.code,
      name: service?.name ?? '',
      price: price ?? 0,
      inList,
      insured,
    },
    medicines: [],
    consult: { performers: licences.filter((l): l is string => !!l), ...(requestingCode ? { requestingFacilityCode: requestingCode } : {}) },
    ...(gaps.length ? { gaps } : {}),
  };
  return { facts, organizationId: hubId, patientId, taskId: task.id! };
}
