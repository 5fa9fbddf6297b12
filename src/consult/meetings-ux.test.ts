/**
 * Meeting details that users trip over: calendar lines folded at 75 octets (RFC 5545; Vietnamese
 * is multi-byte) with the meeting's link, and no conclusion signed before its meeting has started
 * (a store-and-forward case, with no meeting, signs whenever ready).
 */
import type { Appointment, Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import type { Repository } from '../fhir/repository.ts';
import type { CaseParts } from './case.ts';
import { assertMeetingStarted } from './conclusions.ts';
import { foldIcs, foldLine } from './ics-fold.ts';
import { toIcs } from './meetings.ts';
import { param } from './model.ts';

const octets = (s: string) => Buffer.byteLength(s, 'utf8');

describe('calendar files', () => {
  const title = 'Hội chẩn đa chuyên khoa tim mạch – ung bướu: người bệnh tăng huyết áp kháng trị, suy tim độ III, nghi ngờ u phổi phải';
  const meeting: Appointment = {
    resourceType: 'Appointment',
    id: 'm-1',
    status: 'booked',
    description: title,
    comment: 'Chủ đề đào tạo: Cập nhật hướng dẫn chẩn đoán và điều trị tăng huyết áp của Bộ Y tế năm 2024 cho tuyến xã',
    start: '2026-12-03T01:00:00Z',
    end: '2026-12-03T03:00:00Z',
    participant: [{ status: 'accepted' }],
    basedOn: [{ reference: 'ServiceRequest/a' }],
  };

  it('folds every line at 75 octets, never inside a character, and unfolds to the original text', () => {
    const ics = toIcs(meeting, 'https://cauyte.example.vn');
    const lines = ics.split('\r\n').filter(Boolean);
    for (const l of lines) expect(octets(l), l).toBeLessThanOrEqual(75);
    expect(lines.some((l) => l.startsWith(' '))).toBe(true);
    expect(ics.includes('\uFFFD')).toBe(false);
    const unfolded = ics.replace(/\r\n /g, '');
    expect(unfolded).toContain(`SUMMARY:Hội chẩn từ xa: ${title.replace(/,/g, '\\,')}`); // commas escaped (RFC 5545 TEXT)
    expect(unfolded).toContain('https://cauyte.example.vn/meetings/m-1');
    expect(ics.endsWith('\r\n')).toBe(true);
  });

  it('counts octets, not characters', () => {
    const line = `SUMMARY:${'ệ'.repeat(60)}`; // 8 + 180 octets
    const parts = foldLine(line).split('\r\n');
    expect(parts.length).toBe(3);
    expect(octets(parts[0])).toBeLessThanOrEqual(75);
    expect(parts.slice(1).every((p) => p.startsWith(' ') && octets(p) <= 75)).toBe(true);
    expect(parts.map((p, i) => (i ? p.slice(1) : p)).join('')).toBe(line);
    // A line that fits stays whole; folding twice changes nothing.
    expect(foldLine('BEGIN:VEVENT')).toBe('BEGIN:VEVENT');
    const once = foldIcs(`BEGIN:VCALENDAR\r\n${line}\r\nEND:VCALENDAR\r\n`);
    expect(foldIcs(once)).toBe(once);
  });
});

describe('signing a conclusion of a meeting', () => {
  const caseWith = (meetingId?: string) =>
    ({
      task: {
        resourceType: 'Task',
        status: 'in-progress',
        intent: 'order',
        input: meetingId ? [{ type: param('meeting', 'Phiên hội chẩn'), valueReference: { reference: `Appointment/${meetingId}` } }] : [],
      },
    }) as unknown as CaseParts;
  const repo = (resources: Resource[]) =>
    ({
      tryRead: async (type: string, id: string) => resources.find((r) => r.resourceType === type && r.id === id),
    }) as unknown as Repository;
  const soon: Appointment = {
    resourceType: 'Appointment',
    id: 'm-2',
    status: 'booked',
    description: 'Hội chẩn tim mạch',
    start: new Date(Date.now() + 3_600_000).toISOString(),
    participant: [],
  };

  it('is refused before the meeting has started', async () => {
    await expect(assertMeetingStarted(repo([soon]), caseWith('m-2'))).rejects.toThrow(/chưa bắt đầu/);
  });
  it('is allowed once a bridge point joined, or the start time passed', async () => {
    await expect(
      assertMeetingStarted(repo([soon, { resourceType: 'Encounter', id: 'm-2', status: 'in-progress', class: {} } as Resource]), caseWith('m-2')),
    ).resolves.toBeUndefined();
    await expect(assertMeetingStarted(repo([soon]), caseWith('m-2'), Date.now() + 2 * 3_600_000)).resolves.toBeUndefined();
  });
  it('is allowed for a store-and-forward case (no meeting)', async () => {
    await expect(assertMeetingStarted(repo([]), caseWith())).resolves.toBeUndefined();
  });
});
