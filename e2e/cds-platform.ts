/**
 * The platform the decision-support browser tests run on: the clinical domains and CDS, the demo
 * network, accounts and visits, the demo CDS registry, and the bundled CDS service as its own
 * process (CAUYTE_CDS_BUNDLED=auto), plus one Chromium. The bundled service answers only requests
 * signed with the platform's CDS Client key (CDS Hooks: Trusting CDS Clients), its feedback list too.
 */
import type { Browser } from 'playwright-core';
import { expect } from 'vitest';
import { seedCdsDemo } from '../src/cds/seed.ts';
import { createDemoAccounts, type DemoAccount } from '../src/seed/accounts.ts';
import { seedDemo, type DemoSummary } from '../src/seed/demo.ts';
import { seedVisitDemo, type VisitDemo } from '../src/seed/visits.ts';
import { launchBrowser } from '../src/testing/browser.ts';
import { startTestPlatform, type TestPlatform } from '../src/testing/platform.ts';

export interface CdsPlatform {
  p: TestPlatform;
  base: string;
  browser: Browser;
  demo: DemoSummary;
  accounts: Map<string, DemoAccount>;
  visitDemo: VisitDemo;
  /** The bundled CDS service's address (loopback). */
  bundled: string;
  /** The feedback the bundled service has received, asked for as the platform would (its signed CDS Client JWT). */
  bundledFeedback<T = { service: string; outcome: string; overrideReason?: { userComment?: string } }>(): Promise<T[]>;
}

export async function startCdsPlatform(): Promise<CdsPlatform> {
  const p = await startTestPlatform('pglite', { CAUYTE_CDS_BUNDLED: 'auto' }, undefined, { domains: ['family', 'consult', 'visits', 'chart', 'cds'] });
  const demo = await seedDemo(p.store, 8);
  const accounts = new Map((await createDemoAccounts(p.db, p.accounts, demo)).accounts.map((a) => [a.username, a]));
  const visitDemo = await seedVisitDemo(p.store, p.visits, demo);
  await seedCdsDemo(p.store);
  const bundled = (await p.cds!.bundledReady())!;
  expect(bundled).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  const base = await p.listen();
  const browser = await launchBrowser();
  const bundledFeedback = async <T>(): Promise<T[]> => {
    const url = `${bundled}/feedback`;
    const res = await fetch(url, { headers: { authorization: await p.cds!.clientKey.bearer(url) } });
    expect(res.status, 'GET /feedback with the CDS Client JWT').toBe(200);
    return (await res.json()) as T[];
  };
  return { p, base, browser, demo, accounts, visitDemo, bundled, bundledFeedback };
}
