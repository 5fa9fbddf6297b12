/**
 * The platform the decision-support API tests run on: the clinical domains and CDS, the demo network,
 * accounts and visits, signed-in headers for a commune clinician, the system administrator, a citizen
 * and a clinician of another facility (Mường Nhé), and the bundled CDS service listening on loopback
 * (its own Fastify app, not yet registered). `registerApproved` registers a service and approves it,
 * as the administrator does on the registry screen.
 */
import { expect } from 'vitest';
import { buildBundledServer } from '../cds/bundled/server.ts';
import type { ServiceView } from '../cds/contract.ts';
import { createDemoAccounts, DEMO_PASSWORD, type DemoAccount } from '../seed/accounts.ts';
import { seedDemo, type DemoSummary } from '../seed/demo.ts';
import { seedVisitDemo, type VisitDemo } from '../seed/visits.ts';
import type { DbKind } from './databases.ts';
import { call, signIn, startTestPlatform, type TestPlatform } from './platform.ts';

const STRANGER_TOTP = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const JSON_TYPE = { 'content-type': 'application/json' };

export interface CdsTestPlatform {
  p: TestPlatform;
  demo: DemoSummary;
  visitDemo: VisitDemo;
  accounts: Map<string, DemoAccount>;
  /** The demo patient with the penicillin allergy. */
  an: string;
  doctor: Record<string, string>;
  admin: Record<string, string>;
  citizen: Record<string, string>;
  /** A commune clinician of another facility. */
  stranger: Record<string, string>;
  bundled: ReturnType<typeof buildBundledServer>;
  bundledUrl: string;
  close(): Promise<void>;
}

export async function startCdsTestPlatform(kind: DbKind): Promise<CdsTestPlatform> {
  const p = await startTestPlatform(kind, {}, undefined, { domains: ['family', 'consult', 'visits', 'chart', 'cds'] });
  const demo = await seedDemo(p.store, 8);
  const accounts = new Map((await createDemoAccounts(p.db, p.accounts, demo)).accounts.map((a) => [a.username, a]));
  const visitDemo = await seedVisitDemo(p.store, p.visits, demo);
  await p.accounts.create({
    username: 'bs.muongnhe',
    displayName: 'BS Quàng Văn Hải',
    kind: 'staff',
    password: DEMO_PASSWORD,
    practitionerId: demo.ids.practitioners[8],
    roles: [{ role: 'commune_clinician', organizationId: demo.ids.organizations.muongnhe }],
    totpSecret: STRANGER_TOTP,
  });
  const bundled = buildBundledServer({ jwk: p.app.cds.clientKey.publicJwk, issuer: p.app.cds.clientKey.issuer });
  const bundledUrl = await bundled.app.listen({ port: 0, host: '127.0.0.1' });
  return {
    p,
    demo,
    visitDemo,
    accounts,
    an: demo.ids.patients[0],
    doctor: await signIn(p, 'bs.batxat', accounts.get('bs.batxat')!.totpSecret),
    admin: await signIn(p, 'quantri', accounts.get('quantri')!.totpSecret),
    citizen: await signIn(p, 'nguoidan'),
    stranger: await signIn(p, 'bs.muongnhe', STRANGER_TOTP),
    bundled,
    bundledUrl,
    async close() {
      await bundled.app.close();
      await p.close();
    },
  };
}

/** Registers a service (the body's other fields as the administrator would fill them) and approves it. */
export async function registerApproved(
  p: TestPlatform,
  admin: Record<string, string>,
  body: { baseUrl: string; serviceId: string; hook: string; scopes: string[]; vendor: string; intendedUse: string; evidence: { title: string; url: string } },
): Promise<ServiceView> {
  const reg = await call(
    p,
    'POST',
    '/api/cds/registry',
    {
      baseUrl: body.baseUrl,
      serviceId: body.serviceId,
      name: `Test ${body.serviceId}`,
      version: '1.0',
      vendor: body.vendor,
      intendedUse: body.intendedUse,
      riskClass: 'B',
      allowedHooks: [body.hook],
      dataScopes: body.scopes,
      evidence: body.evidence,
    },
    { ...admin, ...JSON_TYPE },
  );
  expect(reg.status, reg.text).toBe(201);
  const ok = await call(
    p,
    'POST',
    `/api/cds/registry/${reg.body.id}/status`,
    { status: 'approved', reason: 'Validation study reviewed' },
    { ...admin, ...JSON_TYPE },
  );
  expect(ok.status, ok.text).toBe(200);
  return ok.body as ServiceView;
}
