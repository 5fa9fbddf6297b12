/**
 * Attacker's review of early warning (2026-11-30), kept as tests. Each `it` asserts the secure
 * behaviour and failed on the code as reviewed.
 *
 * A6. Suppression of 1–4 cases undone by subtraction across two answers of the same analyst: the
 *     national view gives a province's weekly count (13 dengue cases in Lào Cai), the province
 *     view (`?province=15`) its communes with one of them hidden (Bát Xát 12, Hợp Thành "<5") —
 *     13 − 12 gives Hợp Thành's single case back. Secondary suppression per disease and week.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestPlatform, type TestPlatform } from '../testing/platform.ts';
import type { AggregateReport } from './contract.ts';
import { SUPPRESS_BELOW } from './service.ts';
import { weekOf } from './weeks.ts';

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const LAO_CAI = 15;
const BAT_XAT = 2683;
const HOP_THANH = 2680;
const SA_PA = 2686;

describe('attack review: surveillance aggregates', () => {
  let p: TestPlatform;
  let ministry: string;
  const week = weekOf(new Date());

  beforeAll(async () => {
    p = await startTestPlatform('pglite', {}, undefined, { domains: ['programme', 'surveillance'] });
    ministry = await p.tokenFor('analyst');
    // Kept weekly counts (what the listener derives from Conditions): dengue this week.
    for (const [commune, cases] of [
      [BAT_XAT, 12],
      [HOP_THANH, 1],
      [SA_PA, 0],
    ])
      await p.db.query('INSERT INTO surveillance_week (disease, province_code, commune_code, week, cases) VALUES ($1, $2, $3, $4, $5)', [
        'dengue',
        LAO_CAI,
        commune,
        week,
        cases,
      ]);
  }, 120_000);
  afterAll(async () => p?.close());

  it('A6. a commune hidden in the province view cannot be recovered from the province’s national count', async () => {
    const national = await call<AggregateReport>(p, 'GET', '/api/surveillance/aggregates?weeks=1', undefined, bearer(ministry));
    expect(national.status, national.text).toBe(200);
    const total = national.body.cells.find((c) => c.disease === 'dengue' && c.place.code === LAO_CAI && c.week === week)?.cases;
    expect(total).toBe(13);
    const prov = await call<AggregateReport>(p, 'GET', `/api/surveillance/aggregates?weeks=1&province=${LAO_CAI}`, undefined, bearer(ministry));
    expect(prov.status, prov.text).toBe(200);
    const parts = prov.body.cells.filter((c) => c.disease === 'dengue' && c.week === week).map((c) => c.cases);
    const hidden = parts.filter((c) => c === null).length;
    expect(hidden, 'Hợp Thành’s 1 is hidden').toBeGreaterThan(0);
    const rest = total! - parts.reduce<number>((a, c) => a + (c ?? 0), 0);
    // Secure: at least two hidden, adding up to 5 or more.
    expect(hidden === 1 || rest < SUPPRESS_BELOW, `${hidden} hidden cell(s) adding up to ${rest}`).toBe(false);
  });
});
