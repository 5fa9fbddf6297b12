/**
 * Operations: liveness, readiness (and its drain), request ids, the metrics and who may read them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, freePort, startTestPlatform, type TestPlatform } from '../testing/platform.ts';
import { gracefulShutdown } from './shutdown.ts';

describe('operations endpoints', () => {
  let p: TestPlatform;
  let metricsPort: number;
  const METRICS_TOKEN = 'metrics-token-0123456789abcdef';
  beforeAll(async () => {
    metricsPort = await freePort();
    p = await startTestPlatform('pglite', { CAUYTE_METRICS_PORT: String(metricsPort), CAUYTE_METRICS_TOKEN: METRICS_TOKEN });
  });
  afterAll(async () => p?.close());

  it('/healthz answers without credentials; /readyz lists each component', async () => {
    const h = await call(p, 'GET', '/healthz', undefined, { authorization: '' });
    expect(h.status).toBe(200);
    expect(h.body.status).toBe('ok');
    const r = await call(p, 'GET', '/readyz', undefined, { authorization: '' });
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('ready');
    expect(r.body.checks.database.status).toBe('up');
    expect(r.body.checks.broker.status).toBe('up'); // the embedded MQTT broker of the devices domain
  });

  it('every answer carries a request id; a well-formed one from the load balancer is kept, a bad one replaced', async () => {
    const a = await p.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'haproxy-7f3a9c21' } });
    expect(a.headers['x-request-id']).toBe('haproxy-7f3a9c21');
    const b = await p.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'bad id\nwith newline' } });
    expect(b.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('metrics count requests by route pattern — never an id or a name', async () => {
    const created = await call(p, 'POST', '/fhir/R4/Patient', { resourceType: 'Patient', name: [{ family: 'Nguyễn', given: ['Thị Hoa'] }] });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect((await call(p, 'GET', `/fhir/R4/Patient/${id}`)).status).toBe(200);
    expect((await call(p, 'GET', `/fhir/R4/Patient?name=Hoa`)).status).toBe(200);
    const admin = await p.tokenFor('system_admin');
    const m = await p.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${admin}` } });
    expect(m.statusCode).toBe(200);
    const text = m.body;
    expect(text).toMatch(/cauyte_http_requests_total\{[^}]*route="\/fhir\/R4\/:type\/:id"[^}]*\} 1/);
    expect(text).toContain('cauyte_http_request_duration_seconds_bucket');
    expect(text).toMatch(/cauyte_db_pool_clients\{[^}]*state="total"/);
    expect(text).toMatch(/cauyte_outbox_pending\{[^}]*channel="email"/);
    expect(text).toMatch(/cauyte_audit_unsealed_entries\{[^}]*\} \d+/);
    expect(text).toMatch(/cauyte_audit_lag_seconds\{[^}]*\} [\d.e+-]+/);
    expect(text).toMatch(/cauyte_video_rooms\{[^}]*\} 0/);
    expect(text).toContain('cauyte_device_observations_total');
    // The Patient above went through the compiled validator.
    expect(text).toMatch(/cauyte_fhir_validations_total\{[^}]*validator="compiled"[^}]*\} [1-9]/);
    expect(text).toMatch(/cauyte_fhir_validations_total\{[^}]*validator="fallback"[^}]*\} \d+/);
    expect(text).not.toContain(id);
    expect(text).not.toContain('Hoa');
  });

  it('/metrics on the API port: refused without credentials and to roles without ops.metrics', async () => {
    expect((await call(p, 'GET', '/metrics', undefined, { authorization: '' })).status).toBe(401);
    for (const role of ['commune_clinician', 'facility_admin', 'dpo', 'integration'] as const) {
      const t = await p.tokenFor(role);
      expect((await call(p, 'GET', '/metrics', undefined, { authorization: `Bearer ${t}` })).status, role).toBe(403);
    }
  });

  it('the Prometheus listener wants its token', async () => {
    const url = `http://127.0.0.1:${metricsPort}/metrics`;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
    const ok = await fetch(url, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('cauyte_http_requests_total');
    expect((await fetch(`http://127.0.0.1:${metricsPort}/other`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status).toBe(404);
  });
});

describe('readiness with an Orthanc image store', () => {
  it('/readyz is 503 while the Orthanc of ORTHANC_URL does not answer, naming the kind of failure only', async () => {
    const port = await freePort(); // nothing listens there
    const p = await startTestPlatform('pglite', { ORTHANC_URL: `http://127.0.0.1:${port}` }, undefined, { domains: ['consult', 'imaging'] });
    try {
      const r = await call(p, 'GET', '/readyz', undefined, { authorization: '' });
      expect(r.status).toBe(503);
      expect(r.body.status).toBe('not-ready');
      expect(r.body.checks.database.status).toBe('up');
      expect(r.body.checks.orthanc.status).toBe('down');
      expect(r.text).not.toContain(String(port));
    } finally {
      await p.close();
    }
  });
});

describe('graceful shutdown', () => {
  it('readiness fails at once, a request in flight completes, then the node closes', async () => {
    const p = await startTestPlatform('pglite', {}, undefined, { domains: [] });
    const base = await p.listen();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    // A slow request in flight when shutdown starts (the audit sealer waits on it like any query would).
    const slow = fetch(`${base}/fhir/R4/Patient`, {
      method: 'POST',
      headers: { authorization: `Bearer ${p.token}`, 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Trần' }] }),
    });
    let exitCode: number | undefined;
    const done = gracefulShutdown(
      {
        app: p.app,
        close: async () => {
          await held;
          await p.close();
        },
      },
      { graceMs: 300, deadlineMs: 10_000, exit: (c) => (exitCode = c) },
    );
    const r = await fetch(`${base}/readyz`);
    expect(r.status).toBe(503);
    expect((await r.json()).status).toBe('draining');
    expect((await slow).status).toBe(201);
    release();
    await done;
    expect(exitCode).toBe(0);
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });
});
