/**
 * E-prescriptions (đơn thuốc điện tử): the prescription code, and the printable PDF with its QR
 * code. The code follows the shape of the national e-prescription system (Đơn thuốc quốc gia):
 * the facility's 5-character code, 7 random characters, "-", and the prescription kind
 * ("c" ordinary, "n" narcotic, "h" psychotropic/precursor, "y" traditional medicine; n and h only
 * with the prescriber's extra confirmation — contract.ts). The code is sent to the national system
 * by the formats domain's queue (src/formats/eprescription) when a gateway is configured.
 * Rules: pure (no store); finding a prescription by its code is prescriptions.ts.
 */
import { createHash, randomInt } from 'node:crypto';
import QRCode from 'qrcode';
import type { PrescriptionKind } from './contract.ts';
import { newPdf } from './pdf.ts';

export { PRESCRIPTION_CODE } from './contract.ts';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** A facility's 5-character code: its own when it has one (mã cơ sở), else derived from its id. */
export function facilityCode(organizationId: string, own?: string): string {
  if (own && /^[A-Za-z0-9]{5}$/.test(own)) return own.toUpperCase();
  return createHash('sha256').update(organizationId).digest('hex').slice(0, 5).toUpperCase();
}

export function prescriptionCode(facility: string, kind: PrescriptionKind = 'c'): string {
  let random = '';
  for (let i = 0; i < 7; i++) random += ALPHABET[randomInt(ALPHABET.length)];
  return `${facility}${random}-${kind}`;
}

export interface PrescriptionDoc {
  code: string;
  issuedAt: string;
  facility: { name: string; address?: string; phone?: string };
  prescriber: { name: string; qualification?: string };
  patient: { name: string; birthDate?: string; gender?: string; address?: string; bhytCard?: string; cccd?: string };
  diagnosis: string;
  items: { name: string; drugCode?: string; quantity: number; unit: string; dosage: string; days?: number }[];
  advice?: string;
  followUp?: string;
  /** Where the QR code points (the prescription's check page). */
  verifyUrl: string;
}

const GENDER_VI: Record<string, string> = { male: 'Nam', female: 'Nữ', other: 'Khác', unknown: 'Không rõ' };

/** The whole prescription as plain text lines (what the PDF prints; also its searchable text). */
export function prescriptionLines(p: PrescriptionDoc): { heading: string[]; body: string[] } {
  return {
    heading: [p.facility.name, ...(p.facility.address ? [p.facility.address] : []), ...(p.facility.phone ? [`Điện thoại: ${p.facility.phone}`] : [])],
    body: [
      `Mã đơn thuốc: ${p.code}`,
      `Họ tên người bệnh: ${p.patient.name}`,
      [
        p.patient.birthDate ? `Ngày sinh: ${p.patient.birthDate.split('-').reverse().join('/')}` : '',
        p.patient.gender ? `Giới tính: ${GENDER_VI[p.patient.gender] ?? p.patient.gender}` : '',
      ]
        .filter(Boolean)
        .join('    '),
      ...(p.patient.cccd ? [`Số CCCD: ${p.patient.cccd}`] : []),
      ...(p.patient.bhytCard ? [`Mã thẻ BHYT: ${p.patient.bhytCard}`] : []),
      ...(p.patient.address ? [`Địa chỉ: ${p.patient.address}`] : []),
      `Chẩn đoán: ${p.diagnosis}`,
    ],
  };
}

/** Renders the printable prescription (A5, as Vietnamese prescriptions are printed). */
export async function prescriptionPdf(p: PrescriptionDoc): Promise<Buffer> {
  const qr = await QRCode.toBuffer(p.verifyUrl, { errorCorrectionLevel: 'M', margin: 1, width: 240 });
  const { doc, text, done } = newPdf({ size: 'A5', title: `Đơn thuốc ${p.code}`, author: p.facility.name, subject: 'Đơn thuốc điện tử' });
  const { heading, body } = prescriptionLines(p);
  const width = doc.page.width - 72;

  doc.font('bold').fontSize(9);
  text(heading[0], { width: width - 80 });
  doc.font('regular').fontSize(8);
  for (const l of heading.slice(1)) text(l, { width: width - 80 });
  doc.image(qr, doc.page.width - 36 - 72, 30, { width: 72 });
  doc.moveDown(1.2);
  doc.font('bold').fontSize(15);
  text('ĐƠN THUỐC', { align: 'center', width });
  doc.moveDown(0.5);
  doc.font('regular').fontSize(9.5);
  for (const l of body) if (l) text(l, { width });
  doc.moveDown(0.6);
  doc.font('bold').fontSize(10);
  text('Thuốc điều trị:', { width });
  doc.moveDown(0.2);
  p.items.forEach((it, i) => {
    doc.font('bold').fontSize(10);
    text(`${i + 1}. ${it.name} — Số lượng: ${it.quantity} ${it.unit}`, { width });
    doc.font('regular');
    if (it.drugCode) {
      doc.fontSize(8).fillColor('#444');
      text(`   Số đăng ký: ${it.drugCode}`, { width });
      doc.fillColor('black');
    }
    doc.fontSize(9.5);
    text(`   Cách dùng: ${it.dosage}${it.days ? ` (${it.days} ngày)` : ''}`, { width });
    doc.moveDown(0.3);
  });
  doc.moveDown(0.3);
  if (p.advice) text(`Lời dặn: ${p.advice}`, { width });
  if (p.followUp) text(`Tái khám: ${p.followUp}`, { width });
  doc.moveDown(1);
  const vnDate = new Intl.DateTimeFormat('vi-VN', { timeZone: 'Asia/Ho_Chi_Minh', day: '2-digit', month: '2-digit', year: 'numeric' }).format(
    new Date(p.issuedAt),
  );
  doc.fontSize(9);
  text(`Ngày ${vnDate}`, { align: 'right', width });
  doc.font('bold');
  text('Bác sĩ khám bệnh', { align: 'right', width });
  doc.font('regular');
  text(`${p.prescriber.qualification ? `${p.prescriber.qualification} ` : ''}${p.prescriber.name}`, { align: 'right', width });
  doc.moveDown(0.8);
  doc.fontSize(7.5).fillColor('#444');
  text(`Khám bệnh từ xa qua Cầu Y Tế. Quét mã QR để kiểm tra đơn: ${p.verifyUrl}`, { width });
  doc.end();
  return done;
}
