/**
 * Demo data for the national programme, over the 12 months before `now`: provincial health
 * departments, a wider network (provincial, regional and commune facilities in Lào Cai, Điện
 * Biên, Lai Châu and Hà Nội, one private clinic), hub-and-spoke support, declarations (approved
 * through the year so coverage rises, some waiting, one returned, some never declared), case
 * conferences with realistic triage and conclusion times, meetings with their bridge points,
 * remote examinations for Circular 30 conditions with prescriptions — and silent sites (approved
 * units with nothing in the last 90 days, as the Lai Châu report described). Everything is written
 * as FHIR resources through a system repository (the listeners fill the indicator tables), except
 * the programme's own tables (departments, hubs, declaration history). Deterministic for a given
 * `now` (seeded random numbers).
 */
import type { Encounter, Resource, ServiceRequest, Task } from '@medplum/fhirtypes';
import type { FhirStore } from '../fhir/store.ts';
import type { DemoSummary } from '../seed/demo.ts';
import { CONSULT_CATEGORY, CONSULT_ID_SYSTEM, param, SPECIALTY_SYSTEM, STATE_SYSTEM } from '../consult/model.ts';
import { agreementContract } from './agreements.ts';
import { DECLARATION_URL, toResponse } from './declarations.ts';
import { toLocation, toOrganization, type Facility } from './model.ts';
import { province } from './places.ts';
import { prng } from '../seed/prng.ts';

const DEPARTMENTS: [number, string][] = [
  [15, 'Sở Y tế tỉnh Lào Cai'],
  [11, 'Sở Y tế tỉnh Điện Biên'],
  [12, 'Sở Y tế tỉnh Lai Châu'],
  [1, 'Sở Y tế Thành phố Hà Nội'],
];
const SPECIALTIES = ['cardiology', 'internal', 'pediatrics', 'respiratory', 'oncology', 'obstetrics', 'infectious'];
const CONDITIONS = ['I10', 'E11', 'J45.9', 'K29.7', 'M54.5', 'J44.9'];
const DAY = 86_400_000;

export interface ProgrammeDemo {
  departments: Record<number, string>;
  facilities: number;
  consults: number;
  meetings: number;
  visits: number;
}

/** Loads the programme demo on top of the demo network (src/seed/demo.ts). */
export async function seedProgrammeDemo(
  store: FhirStore,
  demo: DemoSummary,
  now = new Date(),
  size: { consults: number; meetings: number; visits: number } = { consults: 320, meetings: 90, visits: 260 },
): Promise<ProgrammeDemo> {
  const repo = store.system('programme demo data', 'programme');
  const rnd = prng(96_2023);
  // Outcomes draw from their own sequence, so adding them left the rest of the demo as it was.
  const rndOutcome = prng(30_2023);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)];
  const end = now.getTime();
  const org = demo.ids.organizations;

  return repo.transaction(async (tx) => {
    const departments: Record<number, string> = {};
    for (const [code, name] of DEPARTMENTS) {
      const d = await tx.create<Resource>({
        resourceType: 'Organization',
        active: true,
        name,
        type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/organization-type', code: 'govt', display: 'Government' }] }],
      } as Resource);
      departments[code] = d.id!;
      await tx.sql.query('INSERT INTO programme_authority (org_id, province_code) VALUES ($1, $2) ON CONFLICT (org_id) DO NOTHING', [d.id, code]);
    }

    // The wider network: per province a provincial hospital (Lai Châu, Hà Nội's second), a regional centre and commune stations.
    const made: { id: string; f: Facility }[] = [];
    const add = async (f: Facility) => {
      const o = await tx.create(toOrganization(f));
      await tx.create(toLocation(f, o.id!));
      made.push({ id: o.id!, f });
      return o.id!;
    };
    const laichau = await add({
      code: '12001',
      name: 'Bệnh viện Đa khoa tỉnh Lai Châu',
      level: 'provincial',
      owner: 'public',
      provinceCode: 12,
      communeCode: province(12)!.wards[0].code,
    });
    const hubs: Record<number, string> = { 15: org.laocai, 11: org.dienbien, 12: laichau, 1: org.bachmai };
    const perProvince: Record<number, number> = { 15: 10, 11: 8, 12: 9, 1: 5 };
    let serial = 20;
    for (const [code, n] of Object.entries(perProvince).map(([k, v]) => [Number(k), v] as const)) {
      const p = province(code)!;
      await add({
        code: `${String(code).padStart(2, '0')}R01`,
        name: `Trung tâm Y tế khu vực ${p.wards[2].name.replace(/^(Xã|Phường) /, '')}`,
        level: 'regional',
        owner: 'public',
        provinceCode: code,
        communeCode: p.wards[2].code,
      });
      for (let i = 0; i < n; i++) {
        const w = p.wards[5 + i * 3];
        await add({
          code: `${String(code).padStart(2, '0')}${String(serial++).padStart(3, '0')}`,
          name: `Trạm Y tế ${w.name.replace(/^Xã /, 'xã ').replace(/^Phường /, 'phường ')}`,
          level: 'commune',
          owner: 'public',
          provinceCode: code,
          communeCode: w.code,
        });
      }
    }
    await add({
      code: '01P01',
      name: 'Phòng khám đa khoa tư nhân An Khang',
      level: 'private',
      owner: 'private',
      provinceCode: 1,
      communeCode: province(1)!.wards[3].code,
    });

    const names = new Map(
      (await tx.sql.query<{ org_id: string; name: string }>('SELECT org_id, name FROM programme_facility')).rows.map((r) => [r.org_id, r.name]),
    );
    const nameOf = (id: string) => names.get(id) ?? 'Cơ sở y tế';
    // The demo network's facilities get their bridge point (the meetings use it) when they have none yet.
    for (const id of Object.values(org)) {
      const has = await tx.sql.query('SELECT 1 FROM programme_location WHERE org_id = $1', [id]);
      if (!has.rows.length)
        await tx.create<Resource>({
          resourceType: 'Location',
          status: 'active',
          mode: 'instance',
          name: `Điểm cầu ${nameOf(id)}`,
          type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: 'VR', display: 'virtual' }] }],
          managingOrganization: { reference: `Organization/${id}` },
        } as Resource);
    }

    // Hub-and-spoke and support agreements: the province's hospital supports its stations; Bạch Mai the provincial hospitals.
    const provinceOf = (id: string) => made.find((m) => m.id === id)?.f.provinceCode;
    const spokes = made.filter((m) => m.f.level === 'commune' || m.f.level === 'regional');
    for (const s of spokes) {
      const hub = hubs[s.f.provinceCode];
      for (const sp of ['internal', 'pediatrics', 'obstetrics'])
        await tx.sql.query('INSERT INTO programme_hub (hub_org, spoke_org, specialty) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [hub, s.id, sp]);
      // Two stations in Lai Châu have a hub but no signed agreement yet.
      if (s.f.provinceCode === 12 && s.f.code.endsWith('2') && s.f.level === 'commune') continue;
      await tx.create(
        agreementContract({
          supportingId: hub,
          supportingName: nameOf(hub),
          supportedId: s.id,
          supportedName: s.f.name,
          specialties: SPECIALTIES,
          start: new Date(end - 400 * DAY).toISOString().slice(0, 10),
        }),
      );
    }
    await tx.create(
      agreementContract({
        supportingId: org.bachmai,
        supportingName: 'Bệnh viện Bạch Mai',
        supportedId: laichau,
        supportedName: 'Bệnh viện Đa khoa tỉnh Lai Châu',
        specialties: SPECIALTIES,
        start: new Date(end - 400 * DAY).toISOString().slice(0, 10),
      }),
    );
    for (const hub of [org.laocai, org.dienbien, laichau])
      for (const sp of ['cardiology', 'oncology'])
        await tx.sql.query('INSERT INTO programme_hub (hub_org, spoke_org, specialty) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [org.bachmai, hub, sp]);

    // Declarations: the demo network's own facilities and most new ones approved during the year; some waiting, one returned.
    const publicIds = [...Object.values(org), ...made.filter((m) => m.f.owner === 'public').map((m) => m.id)];
    const declare = async (id: string, status: 'approved' | 'submitted' | 'returned', at: number) => {
      const qr = await tx.create({
        ...toResponse(
          id,
          {
            services: ['case-conference', 'remote-examination'],
            specialties: ['internal'],
            staff: [{ name: 'Cán bộ phụ trách', qualification: 'BS', role: 'Phụ trách đơn vị' }],
            rooms: 1,
            equipment: { camera: true, display: true, ultrasound: 'digital', xray: 'none' },
            connectivity: { type: 'fibre', downKbps: 20000, upKbps: 8000 },
            hours: 'Giờ hành chính',
          },
          'Quản trị cơ sở',
        ),
        authored: new Date(at - 5 * DAY).toISOString(),
        questionnaire: DECLARATION_URL,
      });
      await tx.sql.query('INSERT INTO programme_declaration_event (org_id, response_id, status, actor, at) VALUES ($1, $2, $3, $4, $5)', [
        id,
        qr.id,
        'submitted',
        'Quản trị cơ sở',
        new Date(at - 5 * DAY).toISOString(),
      ]);
      if (status !== 'submitted')
        await tx.sql.query('INSERT INTO programme_declaration_event (org_id, response_id, status, reason, actor, at) VALUES ($1, $2, $3, $4, $5, $6)', [
          id,
          qr.id,
          status,
          status === 'returned' ? 'Chưa có danh sách nhân lực đã được đào tạo' : null,
          'Sở Y tế',
          new Date(at).toISOString(),
        ]);
      await tx.sql.query('UPDATE programme_facility SET unit_status = $2, unit_since = $3 WHERE org_id = $1', [
        id,
        status,
        status === 'approved' ? new Date(at).toISOString() : null,
      ]);
    };
    const approved: string[] = [];
    for (let i = 0; i < publicIds.length; i++) {
      const id = publicIds[i];
      const r = rnd();
      if (i < 7 || r < 0.62) {
        await declare(id, 'approved', end - Math.floor((i < 7 ? 360 : 20 + rnd() * 330) * DAY));
        approved.push(id);
      } else if (r < 0.74) await declare(id, 'submitted', end - Math.floor(rnd() * 20) * DAY);
      else if (r < 0.78) await declare(id, 'returned', end - Math.floor(rnd() * 40) * DAY);
    }

    // Silent on purpose: Lai Châu's approved stations except the first two have nothing; two more elsewhere stop 4 months ago.
    const laichauStations = approved.filter((id) => provinceOf(id) === 12 && made.find((m) => m.id === id)!.f.level === 'commune');
    const silent = new Set(laichauStations.slice(2));
    const stopped = new Set(approved.filter((id) => provinceOf(id) === 11).slice(-2));
    const activeAt = (id: string, t: number) => !silent.has(id) && !(stopped.has(id) && t > end - 120 * DAY);
    const patients = demo.ids.patients;

    // Case conferences: stations and regional centres ask their province's hospital (some go to Bạch Mai).
    const requesters = approved.filter((id) => made.find((m) => m.id === id && (m.f.level === 'commune' || m.f.level === 'regional')));
    let consults = 0;
    for (let n = 0; n < size.consults; n++) {
      const from = pick(requesters);
      const t0 = end - Math.floor(rnd() * 360 * DAY) - 3 * 3600_000;
      if (!activeAt(from, t0)) continue;
      const to = rnd() < 0.15 ? org.bachmai : hubs[provinceOf(from)!];
      const urgency = rnd() < 0.08 ? 'stat' : rnd() < 0.3 ? 'urgent' : 'routine';
      const scale = urgency === 'stat' ? 0.05 : urgency === 'urgent' ? 0.3 : 1;
      const id = `demo-programme-${n}`;
      const patient = pick(patients);
      const sr = await tx.create<ServiceRequest>({
        resourceType: 'ServiceRequest',
        identifier: [{ system: CONSULT_ID_SYSTEM, value: id }],
        status: 'completed',
        intent: 'order',
        category: [{ coding: [CONSULT_CATEGORY] }],
        code: { coding: [{ system: SPECIALTY_SYSTEM, code: pick(SPECIALTIES) }] },
        priority: urgency as ServiceRequest['priority'],
        subject: { reference: `Patient/${patient}` },
        authoredOn: new Date(t0).toISOString(),
        performer: [{ reference: `Organization/${to}` }],
      });
      const state = (code: string) => ({ coding: [{ system: STATE_SYSTEM, code }] });
      let task = await tx.create<Task>({
        resourceType: 'Task',
        identifier: [{ system: CONSULT_ID_SYSTEM, value: id }],
        status: 'requested',
        businessStatus: state('submitted'),
        intent: 'order',
        priority: urgency as Task['priority'],
        code: { text: 'Hội chẩn từ xa' },
        focus: { reference: `ServiceRequest/${sr.id}` },
        for: { reference: `Patient/${patient}` },
        authoredOn: new Date(t0).toISOString(),
        lastModified: new Date(t0).toISOString(),
        requester: { reference: `Organization/${from}` },
        owner: { reference: `Organization/${to}` },
      });
      const step = async (s: string, minutes: number, extra: Partial<Task> = {}) => {
        const at = t0 + minutes * 60_000;
        if (at > end) return false;
        task = await tx.update<Task>({
          ...task,
          ...extra,
          status: s === 'declined' ? 'rejected' : s === 'concluded' || s === 'acknowledged' ? 'completed' : 'in-progress',
          businessStatus: state(s),
          lastModified: new Date(at).toISOString(),
        });
        return true;
      };
      let m = Math.round((20 + rnd() * 600) * scale);
      if (rnd() < 0.08) await step('declined', m);
      else if (await step('accepted', m)) {
        m += Math.round((30 + rnd() * 900) * scale);
        const prac = demo.ids.practitioners[Math.floor(rnd() * 3)];
        if (await step('accepted', m, { input: [{ type: param('specialist', 'Chuyên gia'), valueReference: { reference: `Practitioner/${prac}` } }] })) {
          m += Math.round((120 + rnd() * 4000) * scale);
          const transfer = rndOutcome() < 0.25;
          const advice = [{ type: param('transfer-advised', 'Đề nghị chuyển tuyến'), valueBoolean: transfer }];
          if (rnd() < 0.85 && (await step('concluded', m, { output: advice }))) {
            // Most requesting facilities record the follow-up outcome two weeks later.
            const outcome = transfer
              ? rndOutcome() < 0.8
                ? 'transferred'
                : 'stable'
              : (['improved', 'improved', 'stable', 'transferred', 'unknown'] as const)[Math.floor(rndOutcome() * 5)];
            if (rndOutcome() < 0.7)
              await step('acknowledged', m + 14 * 1440, { output: [...advice, { type: param('outcome', 'Kết quả theo dõi'), valueCode: outcome }] });
          }
        }
      }
      consults++;
    }

    // Meetings (phiên hội chẩn) with their bridge points, and remote examinations with prescriptions.
    const locOf = new Map(
      (
        await tx.sql.query<{ org_id: string; location_id: string }>('SELECT org_id, min(location_id) AS location_id FROM programme_location GROUP BY org_id')
      ).rows.map((r) => [r.org_id, r.location_id]),
    );
    let meetings = 0;
    for (let n = 0; n < size.meetings; n++) {
      const t0 = end - Math.floor(rnd() * 360 * DAY) - 4 * 3600_000;
      const hubProvince = pick([15, 11, 12]);
      const sites = [
        hubs[hubProvince],
        ...approved
          .filter((id) => provinceOf(id) === hubProvince && activeAt(id, t0))
          .sort(() => rnd() - 0.5)
          .slice(0, 2 + Math.floor(rnd() * 3)),
      ];
      if (rnd() < 0.3) sites.push(org.bachmai);
      const minutes = 45 + Math.floor(rnd() * 90);
      const start = new Date(t0).toISOString();
      const finish = new Date(t0 + minutes * 60_000).toISOString();
      await tx.create<Encounter>({
        resourceType: 'Encounter',
        status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'VR', display: 'virtual' },
        type: [{ text: 'Phiên hội chẩn từ xa' }],
        serviceType: { coding: [CONSULT_CATEGORY] },
        period: { start, end: finish },
        location: sites
          .filter((s) => locOf.has(s))
          .map((s) => ({ location: { reference: `Location/${locOf.get(s)}` }, status: 'completed' as const, period: { start, end: finish } })),
      });
      meetings++;
    }
    let visits = 0;
    for (let n = 0; n < size.visits; n++) {
      const site = pick(approved);
      const t0 = end - Math.floor(rnd() * 360 * DAY) - 5 * 3600_000;
      if (!activeAt(site, t0)) continue;
      const icd = pick(CONDITIONS);
      const patient = pick(patients);
      const e = await tx.create<Encounter>({
        resourceType: 'Encounter',
        status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'VR', display: 'virtual' },
        type: [{ text: 'Khám bệnh từ xa' }],
        subject: { reference: `Patient/${patient}` },
        period: { start: new Date(t0).toISOString(), end: new Date(t0 + 20 * 60_000).toISOString() },
        reasonCode: [{ coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: icd }] }],
        serviceProvider: { reference: `Organization/${site}` },
      });
      if (rnd() < 0.7)
        await tx.create({
          resourceType: 'MedicationRequest',
          status: 'completed',
          intent: 'order',
          groupIdentifier: { system: 'https://fhir.cauyte.vn/sid/prescription', value: `DEMO${n}` },
          medicationCodeableConcept: { text: icd === 'I10' ? 'Amlodipin 5 mg' : icd === 'E11' ? 'Metformin 500 mg' : 'Thuốc theo đơn' },
          subject: { reference: `Patient/${patient}` },
          encounter: { reference: `Encounter/${e.id}` },
          authoredOn: new Date(t0 + 20 * 60_000).toISOString(),
        } as Resource);
      visits++;
    }
    await tx.record({ action: 'programme.demo', detail: { facilities: made.length, consults, meetings, visits } });
    return { departments, facilities: made.length, consults, meetings, visits };
  });
}
