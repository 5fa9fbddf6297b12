/**
 * The indicators as FHIR Measures (created once at start, identified by canonical url) and their
 * answers as MeasureReports (`$evaluate-measure`): each report is built from the same
 * IndicatorReport the screen and the exports show, so the numbers cannot differ. A suppressed
 * small cell is a population without a count and with the data-absent-reason "masked".
 */
import type { Measure, MeasureReport, MeasureReportGroup } from '@medplum/fhirtypes';
import type { Cell, IndicatorReport } from './contract.ts';
import { endExclusive } from './indicators.ts';

export const MEASURE_BASE = 'https://fhir.cauyte.vn/Measure/';
const POP = 'http://terminology.hl7.org/CodeSystem/measure-population';
const MASKED = 'http://hl7.org/fhir/StructureDefinition/data-absent-reason';

interface Def {
  id: string;
  title: string;
  description: string;
  scoring: 'proportion' | 'cohort';
  /** numerator/denominator (proportion) or the count (cohort), per stratum. */
  groups: (
    r: IndicatorReport,
  ) => { code: string; text: string; numerator: Cell; denominator?: Cell; strata?: { value: string; numerator: Cell; denominator?: Cell }[] }[];
}

const DEFS: Def[] = [
  {
    id: 'consult-requested',
    title: 'Yêu cầu hội chẩn từ xa đã gửi',
    description: 'Số ca hội chẩn có phiên bản đầu tiên khác bản nháp trong kỳ (theo tháng gửi), theo nơi của cơ sở gửi.',
    scoring: 'cohort',
    groups: (r) => [
      {
        code: 'requested',
        text: 'Đã gửi',
        numerator: r.consults.requested,
        strata: r.consultsByMonth.map((m) => ({ value: m.month, numerator: m.requested })),
      },
    ],
  },
  {
    id: 'consult-accepted',
    title: 'Tỷ lệ yêu cầu hội chẩn được tiếp nhận',
    description: 'Trong các ca gửi trong kỳ, số ca đã được cơ sở tuyến trên tiếp nhận.',
    scoring: 'proportion',
    groups: (r) => [
      {
        code: 'accepted',
        text: 'Được tiếp nhận',
        numerator: r.consults.accepted,
        denominator: r.consults.requested,
        strata: r.consultsByMonth.map((m) => ({ value: m.month, numerator: m.accepted, denominator: m.requested })),
      },
    ],
  },
  {
    id: 'consult-concluded',
    title: 'Tỷ lệ ca hội chẩn có kết luận',
    description: 'Trong các ca gửi trong kỳ, số ca đã có kết luận ký số.',
    scoring: 'proportion',
    groups: (r) => [
      {
        code: 'concluded',
        text: 'Có kết luận',
        numerator: r.consults.concluded,
        denominator: r.consults.requested,
        strata: r.consultsByMonth.map((m) => ({ value: m.month, numerator: m.concluded, denominator: m.requested })),
      },
    ],
  },
  {
    id: 'consult-timeliness',
    title: 'Tỷ lệ phân loại, phân công, kết luận trong thời hạn',
    description: 'Theo mức độ khẩn: số ca đạt thời hạn / số ca đã phân loại (phân công, kết luận). Trung vị và phân vị 90 (phút) trong phần mở rộng.',
    scoring: 'proportion',
    groups: (r) =>
      r.durations.map((d) => ({
        code: `${d.metric}-${d.urgency}`,
        text: `${d.metric} ${d.urgency} (trung vị ${d.medianMinutes ?? '–'} phút, P90 ${d.p90Minutes ?? '–'} phút)`,
        numerator: d.withinTarget,
        denominator: d.n,
      })),
  },
  {
    id: 'consult-outcomes',
    title: 'Kết quả theo dõi sau hội chẩn, ca tránh được chuyển tuyến',
    description:
      'Trong các ca gửi trong kỳ: số ca có kết quả theo dõi và theo từng kết quả; số ca kết luận khuyến cáo điều trị tại chỗ; ' +
      'ca tránh được chuyển tuyến = khuyến cáo điều trị tại chỗ và khi theo dõi người bệnh không phải chuyển tuyến.',
    scoring: 'proportion',
    groups: (r) => [
      {
        code: 'transfers-avoided',
        text: 'Tránh được chuyển tuyến / khuyến cáo điều trị tại chỗ',
        numerator: r.outcomes.transfersAvoided,
        denominator: r.outcomes.localTreatmentAdvised,
      },
      {
        code: 'followed-up',
        text: 'Có kết quả theo dõi / có kết luận',
        numerator: r.outcomes.followedUp,
        denominator: r.consults.concluded,
        strata: [
          { value: 'improved', numerator: r.outcomes.improved, denominator: r.outcomes.followedUp },
          { value: 'stable', numerator: r.outcomes.stable, denominator: r.outcomes.followedUp },
          { value: 'transferred', numerator: r.outcomes.transferred, denominator: r.outcomes.followedUp },
          { value: 'died', numerator: r.outcomes.died, denominator: r.outcomes.followedUp },
        ],
      },
    ],
  },
  {
    id: 'meetings',
    title: 'Phiên hội chẩn, điểm cầu tham gia',
    description: 'Số phiên hội chẩn có ít nhất một điểm cầu trong phạm vi tham gia; số lượt điểm cầu tham gia.',
    scoring: 'cohort',
    groups: (r) => [
      { code: 'held', text: 'Phiên đã họp', numerator: r.meetings.held },
      { code: 'sites-joined', text: 'Lượt điểm cầu tham gia', numerator: r.meetings.sitesJoined },
    ],
  },
  {
    id: 'remote-examinations',
    title: 'Khám bệnh từ xa theo bệnh (Thông tư 30/2023)',
    description: 'Số lượt khám từ xa đã hoàn thành trong kỳ, theo mã ICD-10 lý do khám.',
    scoring: 'cohort',
    groups: (r) => [
      {
        code: 'visits',
        text: 'Lượt khám từ xa',
        numerator: sumCells(r.visitsByCondition.map((v) => v.visits)),
        strata: r.visitsByCondition.map((v) => ({ value: v.condition, numerator: v.visits })),
      },
    ],
  },
  {
    id: 'prescriptions',
    title: 'Đơn thuốc điện tử',
    description: 'Số đơn thuốc (mã đơn) kê sau khám từ xa trong kỳ.',
    scoring: 'cohort',
    groups: (r) => [{ code: 'prescriptions', text: 'Đơn thuốc', numerator: r.prescriptions }],
  },
  {
    id: 'coverage',
    title: 'Độ bao phủ đơn vị khám chữa bệnh từ xa (mục tiêu 2030: 100 %)',
    description: 'Số cơ sở công lập có đơn vị khám chữa bệnh từ xa đã được Sở Y tế chấp thuận / số cơ sở công lập trong danh mục.',
    scoring: 'proportion',
    groups: (r) => [
      {
        code: 'coverage',
        text: 'Cơ sở công lập có đơn vị được chấp thuận',
        numerator: r.coverage.approvedUnits,
        denominator: r.coverage.publicFacilities,
        strata: r.provinces.map((p) => ({ value: String(p.provinceCode), numerator: p.approvedUnits, denominator: p.publicFacilities })),
      },
    ],
  },
  {
    id: 'silent-sites',
    title: 'Điểm cầu im lặng',
    description: 'Cơ sở có đơn vị đã chấp thuận nhưng không có hoạt động (gửi/nhận hội chẩn, tham gia phiên, khám từ xa) trong 30 / 90 ngày đến ngày tính.',
    scoring: 'cohort',
    groups: (r) => [
      { code: 'silent-30', text: 'Im lặng 30 ngày', numerator: r.silent.length },
      { code: 'silent-90', text: 'Im lặng 90 ngày', numerator: r.silent.filter((s) => s.window === 90).length },
    ],
  },
  {
    id: 'device-enrolment',
    title: 'Người bệnh tham gia chương trình theo dõi tại nhà bằng thiết bị',
    description:
      'Số người bệnh có ít nhất một thiết bị theo dõi tại nhà (thiết bị gắn với người bệnh, đang hoạt động) trong ít nhất một ngày của kỳ, ' +
      'theo cơ sở quản lý người bệnh; theo tháng. Số người tham gia mới = người có thiết bị đầu tiên bắt đầu trong kỳ.',
    scoring: 'cohort',
    groups: (r) => [
      {
        code: 'enrolled',
        text: 'Người bệnh đang theo dõi bằng thiết bị',
        numerator: r.devices.enrolled,
        strata: r.devices.byMonth.map((m) => ({ value: m.month, numerator: m.enrolled })),
      },
      {
        code: 'newly-enrolled',
        text: 'Người bệnh tham gia mới',
        numerator: r.devices.newlyEnrolled,
        strata: r.devices.byMonth.map((m) => ({ value: m.month, numerator: m.newlyEnrolled })),
      },
    ],
  },
  {
    id: 'alerts-answered',
    title: 'Tỷ lệ cảnh báo từ thiết bị được xử lý đúng hạn',
    description:
      'Trong các cảnh báo (đợt cảnh báo) mở trong kỳ tại cơ sở trong phạm vi, số cảnh báo được nhân viên xác nhận trong vòng 15 phút kể từ khi mở ' +
      '(thời hạn mặc định của nền tảng, bằng thời điểm chuyển cảnh báo cho cả cơ sở) / số cảnh báo mở trong kỳ.',
    scoring: 'proportion',
    groups: (r) => [
      {
        code: 'answered-in-time',
        text: `Xác nhận trong ${r.devices.targetMinutes} phút / cảnh báo`,
        numerator: r.devices.answeredInTime,
        denominator: r.devices.alerts,
        strata: r.devices.byMonth.map((m) => ({ value: m.month, numerator: m.answeredInTime, denominator: m.alerts })),
      },
    ],
  },
];

function sumCells(cs: Cell[]): Cell {
  if (cs.some((c) => c === null)) return null; // a total next to suppressed cells would give them away
  return cs.reduce<number>((a, c) => a + (c ?? 0), 0);
}

export const MEASURE_IDS = DEFS.map((d) => d.id);

export function measures(): Measure[] {
  return DEFS.map((d) => ({
    resourceType: 'Measure',
    id: `programme-${d.id}`,
    url: `${MEASURE_BASE}${d.id}`,
    version: '1',
    name: d.id.replace(/(^|-)(\w)/g, (_m, _s, c: string) => c.toUpperCase()),
    title: d.title,
    status: 'active',
    description: d.description,
    scoring: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/measure-scoring', code: d.scoring }] },
    guidance: 'Định nghĩa đầy đủ: docs/indicators.md. Ô có 1–4 ca bị ẩn.',
  }));
}

const population = (code: 'numerator' | 'denominator' | 'initial-population', count: Cell) => ({
  code: { coding: [{ system: POP, code }] },
  ...(count === null ? { extension: [{ url: MASKED, valueCode: 'masked' }] } : { count }),
});

export function measureReport(measureId: string, r: IndicatorReport): MeasureReport | undefined {
  const d = DEFS.find((x) => x.id === measureId || `programme-${x.id}` === measureId);
  if (!d) return undefined;
  const groups: MeasureReportGroup[] = d.groups(r).map((g) => {
    const score = d.scoring === 'proportion' && g.numerator !== null && g.denominator ? g.numerator / g.denominator : undefined;
    return {
      code: { coding: [{ system: `${MEASURE_BASE}${d.id}`, code: g.code }], text: g.text },
      population:
        d.scoring === 'proportion'
          ? [population('numerator', g.numerator), population('denominator', g.denominator ?? null)]
          : [population('initial-population', g.numerator)],
      ...(score !== undefined ? { measureScore: { value: Math.round(score * 10000) / 10000 } } : {}),
      ...(g.strata?.length
        ? {
            stratifier: [
              {
                stratum: g.strata.map((s) => ({
                  value: { text: s.value },
                  population:
                    d.scoring === 'proportion'
                      ? [population('numerator', s.numerator), population('denominator', s.denominator ?? null)]
                      : [population('initial-population', s.numerator)],
                })),
              },
            ],
          }
        : {}),
    };
  });
  return {
    resourceType: 'MeasureReport',
    status: 'complete',
    type: 'summary',
    measure: `${MEASURE_BASE}${d.id}`,
    date: new Date().toISOString(),
    period: { start: `${r.period.from}-01`, end: new Date(Date.parse(endExclusive(r.period.to)) - 1).toISOString().slice(0, 10) },
    reporter: { display: r.scope.label },
    group: groups,
  };
}
