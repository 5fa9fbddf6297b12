/**
 * Certificates of completion: issued once per person and course when every session held so far
 * counted for them and they passed the post-test. A PDF in Vietnamese (Noto Sans, see
 * visits/pdf.ts) with a QR code to the public verification page; the token in it is 24 random
 * bytes. The public check shows name, course, credits and date — nothing else.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import QRCode from 'qrcode';
import type { Repository } from '../fhir/repository.ts';
import { newPdf } from '../visits/pdf.ts';
import type { CertificateCheck, CertificateView } from './contract.ts';
import { num } from './model.ts';
import { vietnamDay } from '../platform/vietnam-time.ts';

const dateVi = (d: Date) => new Intl.DateTimeFormat('vi-VN', { timeZone: 'Asia/Ho_Chi_Minh', day: '2-digit', month: '2-digit', year: 'numeric' }).format(d);
const credits = (n: number) => String(n).replace('.', ',');

export async function certificatePdf(c: {
  name: string;
  course: string;
  hub: string;
  credits: number;
  issuedAt: Date;
  verifyUrl: string;
  id: string;
}): Promise<Buffer> {
  const qr = await QRCode.toBuffer(c.verifyUrl, { errorCorrectionLevel: 'M', margin: 1, width: 220 });
  const { doc, text, done } = newPdf({ size: 'A4', title: `Chứng nhận ${c.course}`, author: c.hub, subject: 'Chứng nhận đào tạo liên tục' });
  const width = doc.page.width - 72;
  doc.font('bold').fontSize(12);
  text('CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM', { width, align: 'center' });
  doc.font('regular').fontSize(11);
  text('Độc lập – Tự do – Hạnh phúc', { width, align: 'center' });
  doc.moveDown(2);
  doc.font('bold').fontSize(22);
  text('GIẤY CHỨNG NHẬN', { width, align: 'center' });
  doc.font('regular').fontSize(13);
  text('Đào tạo liên tục từ xa', { width, align: 'center' });
  doc.moveDown(1.5);
  text(`${c.hub} chứng nhận`, { width, align: 'center' });
  doc.moveDown(0.5);
  doc.font('bold').fontSize(18);
  text(c.name, { width, align: 'center' });
  doc.font('regular').fontSize(13);
  doc.moveDown(0.5);
  text('đã hoàn thành khoá học', { width, align: 'center' });
  doc.font('bold');
  text(c.course, { width, align: 'center' });
  doc.font('regular');
  doc.moveDown(0.5);
  text(`Số tiết được công nhận: ${credits(c.credits)}`, { width, align: 'center' });
  text(`Ngày cấp: ${dateVi(c.issuedAt)}`, { width, align: 'center' });
  doc.moveDown(1);
  doc.image(qr, (doc.page.width - 140) / 2, doc.y, { width: 140 });
  doc.y += 150;
  doc.fontSize(9);
  text(`Quét mã QR để kiểm tra chứng nhận: ${c.verifyUrl}`, { width, align: 'center' });
  text(`Số chứng nhận: ${c.id}`, { width, align: 'center' });
  doc.end();
  return done;
}

export class CertificateService {
  constructor(private readonly baseUrl: string) {}

  verifyUrl(token: string): string {
    return `${this.baseUrl}/chung-chi/${token}`;
  }

  /** Issues the certificate if the person earned it (idempotent); returns it, or undefined. */
  async issueIfEarned(tx: Repository, courseId: string, practitionerId: string, name: string): Promise<CertificateView | undefined> {
    const existing = (
      await tx.sql.query<{ id: string }>('SELECT id FROM training_certificate WHERE course_id = $1 AND practitioner_id = $2', [courseId, practitionerId])
    ).rows[0];
    if (existing) return (await this.mine(tx, practitionerId)).find((c) => c.id === existing.id);
    const held = (
      await tx.sql.query<{ id: string; counted: boolean | null; credits: string | null }>(
        `SELECT s.id, a.counted, a.credits FROM training_session s
         LEFT JOIN training_attendance a ON a.session_id = s.id AND a.practitioner_id = $2
         WHERE s.course_id = $1 AND s.closed_at IS NOT NULL`,
        [courseId, practitionerId],
      )
    ).rows;
    if (!held.length || held.some((h) => !h.counted)) return undefined;
    const passed = (
      await tx.sql.query("SELECT 1 FROM training_assessment WHERE course_id = $1 AND practitioner_id = $2 AND phase = 'post' AND passed LIMIT 1", [
        courseId,
        practitionerId,
      ])
    ).rows.length;
    if (!passed) return undefined;
    const course = (
      await tx.sql.query<{ title: string; hub: string | null }>(
        'SELECT c.title, f.name AS hub FROM training_course c JOIN training_programme p ON p.id = c.programme_id LEFT JOIN programme_facility f ON f.org_id = p.hub_org WHERE c.id = $1',
        [courseId],
      )
    ).rows[0];
    const total = held.reduce((s, h) => s + num(h.credits), 0);
    const id = randomUUID();
    const token = randomBytes(24).toString('base64url');
    const issuedAt = new Date();
    const pdf = await certificatePdf({
      id,
      name,
      course: course.title,
      hub: course.hub ?? 'Bệnh viện tuyến trên',
      credits: total,
      issuedAt,
      verifyUrl: this.verifyUrl(token),
    });
    await tx.sql.query(
      'INSERT INTO training_certificate (id, token, course_id, practitioner_id, name, course_title, credits, issued_at, pdf) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)',
      [id, token, courseId, practitionerId, name, course.title, total, issuedAt, pdf],
    );
    await tx.record({ action: 'training.certificate', detail: { certificate: id, course: courseId } });
    return (await this.mine(tx, practitionerId)).find((c) => c.id === id);
  }

  async mine(tx: Repository, practitionerId: string): Promise<CertificateView[]> {
    const rows = (
      await tx.sql.query<{ id: string; token: string; course_title: string; name: string; credits: string; issued_at: Date }>(
        'SELECT id, token, course_title, name, credits, issued_at FROM training_certificate WHERE practitioner_id = $1 ORDER BY issued_at DESC',
        [practitionerId],
      )
    ).rows;
    return rows.map((r) => ({
      id: r.id,
      courseTitle: r.course_title,
      name: r.name,
      credits: num(r.credits),
      issuedAt: new Date(r.issued_at).toISOString(),
      verifyUrl: this.verifyUrl(r.token),
      pdfUrl: `/api/training/certificates/${r.id}/pdf`,
    }));
  }

  /** The holder's PDF (their own only; 404 otherwise). */
  async pdf(tx: Repository, id: string, practitionerId: string): Promise<Buffer | undefined> {
    const r = (await tx.sql.query<{ pdf: Buffer }>('SELECT pdf FROM training_certificate WHERE id = $1 AND practitioner_id = $2', [id, practitionerId]))
      .rows[0];
    return r ? Buffer.from(r.pdf) : undefined;
  }

  /** The public check: name, course, credits, date. */
  async check(tx: Repository, token: string): Promise<CertificateCheck | undefined> {
    const r = (
      await tx.sql.query<{ name: string; course_title: string; credits: string; issued_at: Date }>(
        'SELECT name, course_title, credits, issued_at FROM training_certificate WHERE token = $1',
        [token],
      )
    ).rows[0];
    return r ? { name: r.name, course: r.course_title, credits: num(r.credits), date: vietnamDay(r.issued_at) } : undefined;
  }
}
