/**
 * FHIR Bulk Data export as a SMART backend-services client does it, on both databases: the
 * client registered with its public key, a token from client credentials with a signed JWT
 * assertion (used once), kick-off → poll → download over real HTTP; the demo database's NDJSON
 * loaded into a fresh database through `$import` gives equal counts per type; `_type`, `_since`, `_typeFilter`,
 * Patient and Group level; every batch read audited under the client (counts and patients); a token without a system/
 * scope, a citizen and another client refused.
 */
import { randomUUID } from 'node:crypto';
import type { Patient } from '@medplum/fhirtypes';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo, type DemoSummary } from '../../seed/demo.ts';
import { DB_KINDS } from '../../testing/databases.ts';
import { call, sessionFor, startTestPlatform, type TestPlatform } from '../../testing/platform.ts';

describe.each(DB_KINDS)('FHIR Bulk Data export on %s', (kind) => {
  let p: TestPlatform;
  let base: string;
  let demo: DemoSummary;
  let clientId: string;
  let key: CryptoKey;
  let token: string;

  const assertion = (aud = `${base}/oauth/token`) =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'ES384', kid: 'k1' })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(aud)
      .setExpirationTime('4m')
      .setJti(randomUUID())
      .sign(key);
  const tokenRequest = async (a: string, scope = 'system/*.read') =>
    fetch(`${base}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        scope,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: a,
      }),
    });
  const get = (url: string, t = token, headers: Record<string, string> = {}) =>
    fetch(url.startsWith('http') ? url : `${base}${url}`, { headers: { authorization: `Bearer ${t}`, accept: 'application/fhir+json', ...headers } });

  /** The whole client flow: kick-off, poll until done, download every file. */
  async function bulkExport(
    path: string,
    t = token,
  ): Promise<{ manifest: { output: { type: string; url: string; count: number }[]; transactionTime: string }; files: Map<string, string[]> }> {
    const kick = await get(path, t, { prefer: 'respond-async' });
    expect(kick.status, await kick.clone().text()).toBe(202);
    const status = kick.headers.get('content-location')!;
    expect(status).toMatch(/\/fhir\/R4\/\$export-status\//);
    for (let i = 0; i < 600; i++) {
      const s = await get(status, t);
      if (s.status === 202) {
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      expect(s.status, await s.clone().text()).toBe(200);
      const manifest = await s.json();
      const files = new Map<string, string[]>();
      for (const o of manifest.output) {
        const f = await get(o.url, t);
        expect(f.headers.get('content-type')).toMatch(/application\/fhir\+ndjson/);
        const lines = (await f.text()).split('\n').filter(Boolean);
        expect(lines).toHaveLength(o.count);
        files.set(o.type, [...(files.get(o.type) ?? []), ...lines]);
      }
      return { manifest, files };
    }
    throw new Error('export did not finish');
  }

  beforeAll(async () => {
    p = await startTestPlatform(kind, {}, undefined, { domains: ['family', 'consult', 'visits', 'formats'] });
    base = await p.listen();
    demo = await seedDemo(p.store, 8);
    const pair = await generateKeyPair('ES384');
    key = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES384' };
    const admin = await sessionFor(p, 'system_admin');
    const reg = await call(
      p,
      'POST',
      '/api/oauth/clients',
      { name: 'Kho dữ liệu Sở Y tế (bulk)', grantTypes: ['client_credentials'], scopes: ['system/*.read'], serviceRole: 'integration', jwks: { keys: [jwk] } },
      { ...admin, 'content-type': 'application/json' },
    );
    expect(reg.status, reg.text).toBe(201);
    expect(reg.body.clientSecret).toBeUndefined();
    clientId = reg.body.clientId;
    token = (await (await tokenRequest(await assertion())).json()).access_token;
  }, 180_000);
  afterAll(async () => p?.close());

  it('issues a backend-services token for a signed JWT assertion, once; refuses a wrong audience or a replay', async () => {
    const a = await assertion();
    const r = await tokenRequest(a);
    expect(r.status, await r.clone().text()).toBe(200);
    const body = await r.json();
    expect(body.scope).toBe('system/*.read');
    expect(body.access_token).toBeTruthy();
    expect((await tokenRequest(a)).status).toBe(401); // replay
    expect((await tokenRequest(await assertion('https://elsewhere.example/token'))).status).toBe(401);
    const smart = await (await fetch(`${base}/fhir/R4/.well-known/smart-configuration`)).json();
    expect(smart.token_endpoint_auth_methods_supported).toContain('private_key_jwt');
  });

  it('exports the demo database (kick-off, poll, download); the NDJSON imports into a fresh database with equal counts per type; every read audited', async () => {
    const { manifest, files } = await bulkExport('/fhir/R4/$export');
    const types = [...files.keys()].sort();
    expect(types).toEqual(expect.arrayContaining(['Encounter', 'Observation', 'Organization', 'Patient', 'Practitioner']));
    const counts = async (q: TestPlatform) =>
      Object.fromEntries(await Promise.all(types.map(async (t) => [t, (await call(q, 'GET', `/fhir/R4/${t}?_summary=count`)).body.total as number])));
    const source = await counts(p);
    expect(Object.fromEntries(types.map((t) => [t, files.get(t)!.length]))).toEqual(source);
    expect(Date.parse(manifest.transactionTime)).toBeLessThanOrEqual(Date.now());

    const fresh = await startTestPlatform(kind, {}, undefined, { domains: ['family', 'consult', 'visits', 'formats'] });
    try {
      const before = await counts(fresh);
      // The NDJSON posted as it was downloaded, to the fresh server's $import (one transaction, referenced resources first).
      const ndjson = types.flatMap((t) => files.get(t)!).join('\n') + '\n';
      const loader = await fresh.tokenFor('integration', { scope: 'system/*.read system/*.write' });
      const readOnly = await fresh.tokenFor('integration', { scope: 'system/*.read' });
      const post = (t: string) =>
        fresh.app.inject({
          method: 'POST',
          url: '/fhir/R4/$import',
          headers: { authorization: `Bearer ${t}`, 'content-type': 'application/fhir+ndjson' },
          payload: ndjson,
        });
      expect((await post(readOnly)).statusCode).toBe(403);
      const imported = await post(loader);
      expect(imported.statusCode, imported.body.slice(0, 500)).toBe(200);
      const total = JSON.parse(imported.body).parameter.reduce((a: number, p: { part: { valueInteger?: number }[] }) => a + p.part[1].valueInteger!, 0);
      expect(total).toBe((Object.values(source) as number[]).reduce((a, b) => a + b, 0));
      const after = await counts(fresh);
      expect(Object.fromEntries(types.map((t) => [t, after[t] - before[t]]))).toEqual(source);
    } finally {
      await fresh.close();
    }
    // Audited per batch read, under the client: the batches' counts add up to what was exported,
    // and together they name every patient whose data left.
    const exported = [...files.values()].reduce((a, l) => a + l.length, 0);
    const audited = await p.db.query<{ n: number; resources: number; patients: string[] }>(
      `SELECT count(*)::int AS n, sum((detail->>'resources')::int)::int AS resources,
              ARRAY(SELECT DISTINCT unnest(patient_ids) FROM audit_log WHERE client_id = $1 AND action = 'export') AS patients
       FROM audit_log WHERE client_id = $1 AND action = 'export' AND detail->>'operation' = '$export'`,
      [clientId],
    );
    expect(audited.rows[0].n).toBeGreaterThanOrEqual(1);
    expect(audited.rows[0].resources).toBe(exported);
    expect([...audited.rows[0].patients].sort()).toEqual([...files.get('Patient')!.map((l) => JSON.parse(l).id)].sort());
  });

  it('_type, _since and _typeFilter; Patient and Group level', async () => {
    const typed = await bulkExport('/fhir/R4/$export?_type=Patient,Organization');
    expect([...typed.files.keys()].sort()).toEqual(['Organization', 'Patient']);
    expect(typed.files.get('Patient')).toHaveLength(demo.patients);
    const later = await bulkExport(`/fhir/R4/$export?_type=Patient&_since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
    expect(later.manifest.output).toEqual([]);
    const vitals = (await call(p, 'GET', '/fhir/R4/Observation?category=vital-signs&_summary=count')).body.total;
    const filtered = await bulkExport(`/fhir/R4/$export?_type=Observation&_typeFilter=${encodeURIComponent('Observation?category=vital-signs')}`);
    expect(filtered.files.get('Observation') ?? []).toHaveLength(vitals);
    expect(vitals).toBeGreaterThan(0);

    const members = demo.ids.patients.slice(0, 2);
    const group = await p.fixtures.create({
      resourceType: 'Group',
      type: 'person',
      actual: true,
      member: members.map((id) => ({ entity: { reference: `Patient/${id}` } })),
    } as never);
    const g = await bulkExport(`/fhir/R4/Group/${(group as { id: string }).id}/$export?_type=Patient,Encounter`);
    expect(
      g.files
        .get('Patient')!
        .map((l) => JSON.parse(l).id)
        .sort(),
    ).toEqual([...members].sort());
    const enc = g.files.get('Encounter') ?? [];
    expect(enc.length).toBeGreaterThan(0);
    expect(enc.every((l) => members.includes(JSON.parse(l).subject.reference.split('/')[1]))).toBe(true);
    const all = await bulkExport('/fhir/R4/Patient/$export?_type=Patient');
    expect(all.files.get('Patient')).toHaveLength(demo.patients);
  });

  it('files are read when downloaded, as of the transaction time: a patient created later is left out, one changed later is as it was', async () => {
    const kick = await get('/fhir/R4/$export?_type=Patient', token, { prefer: 'respond-async' });
    expect(kick.status).toBe(202);
    const status = kick.headers.get('content-location')!;
    let manifest: { output: { url: string; count: number }[] } | undefined;
    for (let i = 0; i < 600 && !manifest; i++) {
      const s = await get(status);
      if (s.status === 200) manifest = await s.json();
      else await new Promise((r) => setTimeout(r, 100));
    }
    expect(manifest!.output.map((o) => o.count)).toEqual([demo.patients]);
    const before = await p.fixtures.read<Patient>('Patient', demo.ids.patients[0]);
    await p.fixtures.update({ ...before, active: before.active === false } as never);
    const later = await p.fixtures.create({ resourceType: 'Patient', name: [{ text: 'Người bệnh mới' }] } as never);
    const lines = (await (await get(manifest!.output[0].url)).text())
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(demo.patients);
    expect(lines.map((r) => r.id)).not.toContain((later as { id: string }).id);
    const first = lines.find((r) => r.id === before.id);
    expect(first.meta.versionId).toBe(before.meta!.versionId);
    expect(first.active).toBe(before.active);
    await p.fixtures.update({ ...before, meta: undefined } as never);
    await p.fixtures.delete('Patient', (later as { id: string }).id);
  });

  it('cuts a type larger than a file into row-id ranges that together hold each row once; each range read gives its count', async () => {
    const repo = p.store.system('bulk plan test', 'formats');
    const asOf = new Date().toISOString();
    const plan = await repo.exportPlan({ types: ['Contract', 'Patient'], asOf }, 7);
    const patients = plan.filter((f) => f.type === 'Patient');
    expect(patients).toHaveLength(Math.ceil(demo.patients / 7));
    expect(patients.slice(0, -1).every((f) => f.count === 7)).toBe(true);
    expect(patients.slice(1).every((f, i) => f.after === patients[i].upTo)).toBe(true);
    expect(plan.filter((f) => f.type === 'Contract').reduce((n, f) => n + f.count, 0)).toBeGreaterThan(0);
    const ids: string[] = [];
    for (const f of patients) {
      const { count, body } = await repo.exportRange({ types: ['Patient'], asOf, after: f.after, upTo: f.upTo });
      let text = '';
      for await (const c of body) text += String(c);
      const lines = text.split('\n').filter(Boolean);
      expect([count, lines.length]).toEqual([f.count, f.count]);
      ids.push(...lines.map((l) => (JSON.parse(l) as { id: string }).id));
    }
    expect(new Set(ids).size).toBe(demo.patients);
  });

  it('a file whose audit row cannot be written is not served: nothing of it leaves', async () => {
    const { manifest } = await bulkExport('/fhir/R4/$export?_type=Patient');
    await p.db.query(`CREATE FUNCTION bulk_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit refused (test)'; END $$`);
    await p.db.query(
      `CREATE TRIGGER bulk_test_refuse BEFORE INSERT ON audit_log FOR EACH ROW WHEN (NEW.action = 'export') EXECUTE FUNCTION bulk_test_refuse()`,
    );
    try {
      const r = await get(manifest.output[0].url);
      const text = await r.text();
      expect(r.status).toBe(500);
      expect(text).not.toContain('"resourceType":"Patient"');
    } finally {
      await p.db.query('DROP TRIGGER bulk_test_refuse ON audit_log');
      await p.db.query('DROP FUNCTION bulk_test_refuse()');
    }
    // The same file is served once its audit row can be written (the connection the refused COPY held is not left broken).
    const again = await get(manifest.output[0].url);
    expect((await again.text()).split('\n').filter(Boolean)).toHaveLength(manifest.output[0].count);
  });

  it('refuses a token without a system/ scope, a citizen, a session; another client sees no job', async () => {
    const user = await p.tokenFor('integration', { scope: 'user/*.read' });
    expect((await get('/fhir/R4/$export', user, { prefer: 'respond-async' })).status).toBe(403);
    const citizen = await p.tokenFor('citizen', { patient: demo.ids.patients[0] });
    expect((await get('/fhir/R4/Patient/$export', citizen, { prefer: 'respond-async' })).status).toBe(403);
    expect((await tokenRequest(await assertion(), 'system/*.write')).status).toBe(400); // beyond what the client may ask for
    const kick = await get('/fhir/R4/$export?_type=Patient', token, { prefer: 'respond-async' });
    const status = kick.headers.get('content-location')!;
    const other = await p.tokenFor('integration', { scope: 'system/*.read', client_id: 'another-client' } as never);
    expect((await get(status, other)).status).toBe(404);
    expect((await get('/fhir/R4/$export', token)).status).toBe(400); // no Prefer: respond-async
  });

  it("each file's audit row names exactly the patients its rows name, and its count", async () => {
    const { manifest } = await bulkExport('/fhir/R4/$export?_type=Encounter,Observation,Patient');
    // The patients a file's rows name, read from the rows themselves.
    const named = (lines: string[]) =>
      [
        ...new Set(
          lines.map((l) => {
            const r = JSON.parse(l) as { resourceType: string; id: string; subject?: { reference?: string } };
            return r.resourceType === 'Patient' ? r.id : r.subject!.reference!.replace(/^Patient\//, '');
          }),
        ),
      ].sort();
    const download = async (url: string) => {
      const last = (await p.audit.list({ limit: 1, action: 'export' }))[0]?.id ?? 0;
      const res = await get(url);
      expect(res.status).toBe(200);
      const lines = (await res.text()).split('\n').filter(Boolean);
      const rows = (await p.audit.list({ limit: 10, action: 'export' })).filter((e) => Number(e.id) > Number(last));
      expect(rows).toHaveLength(1);
      return { lines, audited: [...rows[0].patient_ids].sort(), resources: (rows[0].detail as { resources: number }).resources };
    };
    for (const o of manifest.output) {
      const { lines, audited, resources } = await download(o.url);
      expect(audited.length).toBeGreaterThan(0);
      expect(audited, o.type).toEqual(named(lines));
      expect(resources).toBe(lines.length);
    }
  });

  it('a narrower token of the same client sees only its types in the manifest and cannot cancel the job; a cancelled job is gone (404)', async () => {
    const kick = await get('/fhir/R4/$export?_type=Observation,Patient', token, { prefer: 'respond-async' });
    expect(kick.status).toBe(202);
    const status = kick.headers.get('content-location')!;
    const narrow = (await (await tokenRequest(await assertion(), 'system/Patient.rs')).json()).access_token as string;
    let seen: { output: { type: string }[] } | undefined;
    for (let i = 0; i < 100 && !seen; i++) {
      const s = await get(status, narrow);
      if (s.status === 200) seen = await s.json();
      else await new Promise((r) => setTimeout(r, 100));
    }
    expect(seen!.output.map((o) => o.type)).toEqual(['Patient']);
    const wide = await (await get(status)).json();
    expect(wide.output.map((o: { type: string }) => o.type).sort()).toEqual(['Observation', 'Patient']);
    const refused = await fetch(status, { method: 'DELETE', headers: { authorization: `Bearer ${narrow}` } });
    expect(refused.status).toBe(403);
    expect((await refused.json()).resourceType).toBe('OperationOutcome');
    expect((await get(status)).status).toBe(200);
    const cancelled = await fetch(status, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    expect(cancelled.status).toBe(202);
    const after = await get(status);
    expect(after.status).toBe(404);
    expect((await after.json()).resourceType).toBe('OperationOutcome');
    expect((await get(wide.output[0].url)).status).toBe(404);
  });

  it('refuses a malformed _typeFilter, and _typeFilter at Patient or Group level, with a 400 OperationOutcome', async () => {
    for (const path of [
      '/fhir/R4/$export?_typeFilter=%25E0%25A4%25A',
      `/fhir/R4/Patient/$export?_typeFilter=${encodeURIComponent('Observation?category=vital-signs')}`,
    ]) {
      const r = await get(path, token, { prefer: 'respond-async' });
      expect(r.status, path).toBe(400);
      expect((await r.json()).resourceType).toBe('OperationOutcome');
    }
  });

  it('a narrower token of the same client downloads no file of a type it may not read (kept _typeFilter files too); a kept file’s download is audited', async () => {
    const done = await bulkExport(`/fhir/R4/$export?_type=Observation,Patient&_typeFilter=${encodeURIComponent('Observation?category=vital-signs')}`);
    const obs = done.manifest.output.find((o) => o.type === 'Observation')!;
    const pat = done.manifest.output.find((o) => o.type === 'Patient')!;
    const exports = async () => (await p.audit.list({ limit: 1000, action: 'export' })).filter((e) => e.resource_type === 'Observation');
    const before = (await exports()).length;
    expect((await get(obs.url)).status).toBe(200);
    const after = await exports();
    expect(after.length).toBe(before + 1);
    expect(after.some((e) => e.patient_ids.length > 0)).toBe(true);
    const narrow = (await (await tokenRequest(await assertion(), 'system/Patient.rs')).json()).access_token as string;
    expect(narrow).toBeTruthy();
    expect((await get(obs.url, narrow)).status).toBe(403);
    expect((await get(pat.url, narrow)).status).toBe(200);
  });
});
