/**
 * Attacker's review of remote training (2026-11-30), kept as tests. Each `it` asserts the secure
 * behaviour and failed on the code as reviewed.
 *
 * A4. A course's linked material took any URL zod accepts (`javascript:`, `data:`): the hub's
 *     course author could put a script link on every enrolled learner's page (rendered as
 *     `<a href>` in Learning.tsx) — at other facilities too. Only http(s) links are taken.
 */
import { describe, expect, it } from 'vitest';
import { courseBody } from './contract.ts';

describe('attack review: training', () => {
  const course = (url: string) =>
    courseBody.safeParse({
      programmeId: 'prog-1',
      title: 'Điện tâm đồ cơ bản',
      capacity: 30,
      teacherPractitionerIds: ['pr-1'],
      materials: [{ title: 'Bài giảng', url }],
      sessions: [{ title: 'Buổi 1', start: '2026-12-01T02:00:00+07:00', end: '2026-12-01T04:00:00+07:00', credits: 2 }],
    });

  it('A4. a course material link must be http(s)', () => {
    const ok = course('https://example.org/ecg.pdf');
    expect(ok.success, JSON.stringify(ok.error?.issues)).toBe(true);
    for (const bad of ['javascript:alert(document.cookie)', 'data:text/html,<script>alert(1)</script>']) expect(course(bad).success, bad).toBe(false);
  });
});
