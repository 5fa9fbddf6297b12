/**
 * The indicator report as CSV, XLSX (exceljs) and a monthly PDF (pdfkit): the same rows, from the
 * same IndicatorReport the screen and the MeasureReports use. A suppressed cell is written "<5".
 */
import ExcelJS from 'exceljs';
import { newPdf } from '../visits/pdf.ts';
import type { Cell, DeviceCells, IndicatorReport } from './contract.ts';
import { LEVEL_LABELS, type Level } from './model.ts';

export interface Row {
  indicator: string;
  dimension: string;
  value: string;
}

const cell = (c: Cell) => (c === null ? '<5' : String(c));
const pct = (x: number | null) => (x === null ? '' : `${(Math.round(x * 1000) / 10).toFixed(1)}%`);
const levelName = (l: string) => LEVEL_LABELS[l as Level]?.vi ?? l;

/** Every figure of the report as (indicator, dimension, value) rows. */
export function reportRows(r: IndicatorReport): Row[] {
  const rows: Row[] = [];
  const add = (indicator: string, dimension: string, value: string) => rows.push({ indicator, dimension, value });
  add('consults.requested', 'tổng', cell(r.consults.requested));
  add('consults.accepted', 'tổng', cell(r.consults.accepted));
  add('consults.concluded', 'tổng', cell(r.consults.concluded));
  for (const m of r.consultsByMonth) {
    add('consults.requested', `tháng ${m.month}`, cell(m.requested));
    add('consults.accepted', `tháng ${m.month}`, cell(m.accepted));
    add('consults.concluded', `tháng ${m.month}`, cell(m.concluded));
  }
  for (const s of r.consultsBySpecialty) add('consults.requested', `chuyên khoa ${s.specialty}`, cell(s.requested));
  for (const l of r.consultsByLevel) add('consults.requested', `tuyến ${levelName(l.level)}`, cell(l.requested));
  for (const d of r.durations) {
    const dim = `${d.metric} ${d.urgency}`;
    add('time.cases', dim, cell(d.n));
    add('time.medianMinutes', dim, d.medianMinutes === null ? '' : String(d.medianMinutes));
    add('time.p90Minutes', dim, d.p90Minutes === null ? '' : String(d.p90Minutes));
    add('time.withinTarget', dim, cell(d.withinTarget));
    add('time.shareWithinTarget', dim, pct(d.shareWithinTarget));
  }
  add('outcomes.followedUp', 'tổng', cell(r.outcomes.followedUp));
  add('outcomes.improved', 'tổng', cell(r.outcomes.improved));
  add('outcomes.stable', 'tổng', cell(r.outcomes.stable));
  add('outcomes.transferred', 'tổng', cell(r.outcomes.transferred));
  add('outcomes.died', 'tổng', cell(r.outcomes.died));
  add('outcomes.localTreatmentAdvised', 'tổng', cell(r.outcomes.localTreatmentAdvised));
  add('outcomes.transfersAvoided', 'tổng', cell(r.outcomes.transfersAvoided));
  add('meetings.held', 'tổng', cell(r.meetings.held));
  add('meetings.sitesJoined', 'tổng', cell(r.meetings.sitesJoined));
  add('meetings.hours', 'tổng', r.meetings.hours === null ? '' : String(r.meetings.hours));
  for (const v of r.visitsByCondition) add('visits', `ICD-10 ${v.condition}`, cell(v.visits));
  add('prescriptions', 'tổng', cell(r.prescriptions));
  add('coverage.publicFacilities', 'hiện tại', String(r.coverage.publicFacilities));
  add('coverage.approvedUnits', 'hiện tại', String(r.coverage.approvedUnits));
  add('coverage.share', 'hiện tại', pct(r.coverage.share));
  for (const t of r.coverage.trend) add('coverage.approvedUnits', `cuối tháng ${t.month}`, String(t.approvedUnits));
  for (const p of r.provinces) {
    add('coverage.share', p.provinceName, pct(p.coverage));
    add('consults.requested', p.provinceName, cell(p.requested));
    add('silent90', p.provinceName, String(p.silent90));
  }
  add('silent30', 'tổng', String(r.silent.length));
  add('silent90', 'tổng', String(r.silent.filter((s) => s.window === 90).length));
  const dev = (dim: string, c: DeviceCells) => {
    add('devices.enrolled', dim, cell(c.enrolled));
    add('devices.newlyEnrolled', dim, cell(c.newlyEnrolled));
    add('alerts.opened', dim, cell(c.alerts));
    add('alerts.acknowledged', dim, cell(c.acknowledged));
    add('alerts.answeredInTime', dim, cell(c.answeredInTime));
    add('alerts.shareInTime', dim, pct(c.shareInTime));
  };
  dev('tổng', r.devices);
  add('alerts.targetMinutes', 'tổng', String(r.devices.targetMinutes));
  add('alerts.escalated', 'tổng', cell(r.devices.escalated));
  for (const m of r.devices.byMonth) dev(`tháng ${m.month}`, m);
  for (const p of r.devices.provinces) dev(p.provinceName, p);
  for (const f of r.devices.facilities) dev(`cơ sở ${f.code} ${f.name}`, f);
  return rows;
}

const csvField = (s: string) => (/[",\n\r]/.test(s) || /^[=+\-@]/.test(s) ? `"${s.replace(/^([=+\-@])/, "'$1").replace(/"/g, '""')}"` : s);

export function toCsv(r: IndicatorReport): string {
  const head = `# Cầu Y Tế — chỉ số chương trình; phạm vi: ${r.scope.label}; kỳ ${r.period.from} – ${r.period.to}; tính đến ${r.period.asOf}; ô 1–4 ẩn (<5)`;
  return `\uFEFF${head}\r\nindicator,dimension,value\r\n${reportRows(r)
    .map((x) => [x.indicator, x.dimension, x.value].map(csvField).join(','))
    .join('\r\n')}\r\n`;
}

export async function toXlsx(r: IndicatorReport): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'Cầu Y Tế';
  const s = wb.addWorksheet('Chỉ số');
  s.columns = [
    { header: 'indicator', key: 'indicator', width: 28 },
    { header: 'dimension', key: 'dimension', width: 34 },
    { header: 'value', key: 'value', width: 12 },
  ];
  for (const row of reportRows(r)) s.addRow(row);
  const p = wb.addWorksheet('Tỉnh');
  p.addRow([
    'Tỉnh',
    'Cơ sở',
    'Công lập',
    'Đơn vị được chấp thuận',
    'Bao phủ',
    'Hội chẩn gửi',
    'Tiếp nhận',
    'Kết luận',
    'Lượt điểm cầu',
    'Khám từ xa',
    'Im lặng 90 ngày',
  ]);
  for (const x of r.provinces)
    p.addRow([
      x.provinceName,
      x.facilities,
      x.publicFacilities,
      x.approvedUnits,
      pct(x.coverage),
      cell(x.requested),
      cell(x.accepted),
      cell(x.concluded),
      cell(x.meetingsJoined),
      cell(x.visits),
      x.silent90,
    ]);
  const q = wb.addWorksheet('Điểm cầu im lặng');
  q.addRow(['Mã', 'Cơ sở', 'Tỉnh', 'Tuyến', 'Hoạt động gần nhất', 'Số ngày', 'Cửa sổ']);
  for (const x of r.silent) q.addRow([x.code, x.name, x.provinceName, levelName(x.level), x.lastActivity ?? 'chưa có', x.daysSilent ?? '', x.window]);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

/** The monthly report: headline figures, the province table and the silent sites. */
export async function toPdf(r: IndicatorReport): Promise<Buffer> {
  const pdf = newPdf({ title: `Báo cáo khám chữa bệnh từ xa ${r.period.to}`, author: 'Cầu Y Tế', subject: r.scope.label });
  const { doc, text } = pdf;
  doc.font('bold').fontSize(15);
  text(`Báo cáo tháng ${r.period.to.slice(5)}/${r.period.to.slice(0, 4)} — chương trình khám, chữa bệnh từ xa`);
  doc.font('regular').fontSize(10);
  text(`Phạm vi: ${r.scope.label}. Số liệu từ ${r.period.from} đến ${r.period.to}, tính đến ngày ${r.period.asOf}. Ô có 1–4 ca được ẩn (<5).`);
  doc.moveDown();
  doc.font('bold').fontSize(12);
  text('Chỉ số chính');
  doc.font('regular').fontSize(10);
  text(`Yêu cầu hội chẩn: ${cell(r.consults.requested)} gửi, ${cell(r.consults.accepted)} được tiếp nhận, ${cell(r.consults.concluded)} có kết luận.`);
  text(`Phiên hội chẩn: ${cell(r.meetings.held)}; lượt điểm cầu: ${cell(r.meetings.sitesJoined)}; ${r.meetings.hours ?? '–'} giờ.`);
  text(
    `Khám từ xa: ${cell(r.visitsByCondition.reduce<number | null>((a, v) => (a === null || v.visits === null ? null : a + v.visits), 0))}; đơn thuốc điện tử: ${cell(r.prescriptions)}.`,
  );
  text(
    `Độ bao phủ: ${r.coverage.approvedUnits}/${r.coverage.publicFacilities} cơ sở công lập có đơn vị được chấp thuận (${pct(r.coverage.share) || '–'}); mục tiêu 2030: 100 %.`,
  );
  text(`Điểm cầu im lặng: ${r.silent.length} trong 30 ngày, ${r.silent.filter((s) => s.window === 90).length} trong 90 ngày.`);
  text(
    `Theo dõi tại nhà bằng thiết bị: ${cell(r.devices.enrolled)} người bệnh (${cell(r.devices.newlyEnrolled)} mới); cảnh báo: ${cell(r.devices.alerts)}, ` +
      `xác nhận trong ${r.devices.targetMinutes} phút: ${cell(r.devices.answeredInTime)} (${pct(r.devices.shareInTime) || '–'}).`,
  );
  if (r.provinces.length) {
    doc.moveDown();
    doc.font('bold').fontSize(12);
    text('Theo tỉnh');
    doc.font('regular').fontSize(9);
    for (const p of r.provinces)
      text(
        `${p.provinceName}: bao phủ ${pct(p.coverage) || '–'} (${p.approvedUnits}/${p.publicFacilities}); hội chẩn ${cell(p.requested)}; im lặng 90 ngày ${p.silent90}.`,
      );
  }
  if (r.silent.length) {
    doc.moveDown();
    doc.font('bold').fontSize(12);
    text('Điểm cầu im lặng (xếp theo số ngày)');
    doc.font('regular').fontSize(9);
    for (const s of r.silent.slice(0, 60))
      text(`${s.code} ${s.name} (${s.provinceName}) — ${s.lastActivity ? `hoạt động gần nhất ${s.lastActivity}, ${s.daysSilent} ngày` : 'chưa có hoạt động'}`);
  }
  doc.end();
  return pdf.done;
}
