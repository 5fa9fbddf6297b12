/**
 * The device-fleet screen's API: a facility administrator sees every device of their facility —
 * shared ones and home devices of its patients — with state and last message, but no patient name
 * (no clinical reach); a clinician of the station sees the name. Disabling from the fleet stops the
 * device's credential at once. Another facility's administrator, a citizen, a DPO, an analyst are
 * refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo, type DemoSummary } from '../seed/demo.ts';
import { DB_KINDS } from '../testing/databases.ts';
import { call, startTestPlatform, type TestPlatform } from '../testing/platform.ts';
import { makeStaff, type Staff } from '../testing/video.ts';
import type { FleetView, RegisterDeviceResponse } from './contract.ts';

const json = { 'content-type': 'application/json' };

describe.each(DB_KINDS)('device fleet on %s', (kind) => {
  let p: TestPlatform;
  let demo: DemoSummary;
  let clinician: Staff;
  let admin: Staff;
  let otherAdmin: Staff;

  beforeAll(async () => {
    p = await startTestPlatform(kind, {}, undefined, { domains: ['devices'] });
    demo = await seedDemo(p.store, 4);
    clinician = await makeStaff(p, 'BS Giàng A Sử', demo.ids.organizations.batxat, 'commune_clinician');
    admin = await makeStaff(p, 'Quản trị Bát Xát', demo.ids.organizations.batxat, 'facility_admin');
    otherAdmin = await makeStaff(p, 'Quản trị Mường Nhé', demo.ids.organizations.muongnhe, 'facility_admin');
  }, 120_000);
  afterAll(async () => p?.close());

  it('lists the facility’s devices with state and last message; names the patient only for those who reach them; disables', async () => {
    const register = async (body: object) => {
      const r = await call<RegisterDeviceResponse>(p, 'POST', '/api/devices', body, { ...clinician.headers, ...json });
      expect(r.status, r.text).toBe(201);
      return r.body;
    };
    const home = await register({ type: 'bp', name: 'Máy đo huyết áp Omron', serial: 'OM-001', patientId: demo.ids.patients[0] });
    const shared = await register({ type: 'oximeter', name: 'Máy SpO2 của trạm', serial: 'SP-7', organizationId: demo.ids.organizations.batxat });
    const sent = await call(
      p,
      'POST',
      `/api/devices/${home.device.id}/readings`,
      { msgId: 'f1', time: new Date().toISOString(), readings: [{ type: 'bp', systolic: 130, diastolic: 82, unit: 'mm[Hg]' }] },
      { authorization: '', 'x-device-token': home.token, ...json },
    );
    expect(sent.status, sent.text).toBe(201);

    const asAdmin = await call<FleetView>(p, 'GET', '/api/devices/fleet', undefined, admin.headers);
    expect(asAdmin.status, asAdmin.text).toBe(200);
    expect(asAdmin.body.facility).toBeTruthy();
    const h = asAdmin.body.devices.find((d) => d.id === home.device.id)!;
    const s = asAdmin.body.devices.find((d) => d.id === shared.device.id)!;
    expect(h).toMatchObject({ name: 'Máy đo huyết áp Omron', state: 'working', messages: 1, shared: false, patientHidden: true });
    expect(h.patient).toBeUndefined();
    expect(h.lastMessageAt).toBeTruthy();
    expect(s).toMatchObject({ state: 'waiting', shared: true, messages: 0 });
    expect(asAdmin.text).not.toContain('Nguyễn Văn An');

    const asClinician = await call<FleetView>(p, 'GET', '/api/devices/fleet', undefined, clinician.headers);
    expect(asClinician.body.devices.find((d) => d.id === home.device.id)).toMatchObject({ patient: 'Nguyễn Văn An', patientHidden: false });

    // Another facility's administrator sees none of it and cannot disable it.
    const elsewhere = await call<FleetView>(p, 'GET', '/api/devices/fleet', undefined, otherAdmin.headers);
    expect(elsewhere.body.devices.map((d) => d.id)).not.toContain(home.device.id);
    expect((await call(p, 'POST', `/api/devices/${home.device.id}/disable`, {}, { ...otherAdmin.headers, ...json })).status).toBe(404);

    // The administrator disables the home device: its next reading is refused.
    const off = await call(p, 'POST', `/api/devices/${home.device.id}/disable`, {}, { ...admin.headers, ...json });
    expect(off.status, off.text).toBe(200);
    const refused = await call(
      p,
      'POST',
      `/api/devices/${home.device.id}/readings`,
      { msgId: 'f2', time: new Date().toISOString(), readings: [{ type: 'bp', systolic: 131, diastolic: 80, unit: 'mm[Hg]' }] },
      { authorization: '', 'x-device-token': home.token, ...json },
    );
    expect(refused.status).toBe(401);
    const after = await call<FleetView>(p, 'GET', '/api/devices/fleet', undefined, admin.headers);
    expect(after.body.devices.find((d) => d.id === home.device.id)!.state).toBe('disabled');
    const trail = await p.audit.list({ limit: 50 });
    expect(trail.some((e) => e.action === 'device.revoke' && e.resource_id === home.device.id && e.username === admin.username)).toBe(true);
  });

  it('refuses roles without device management, and unknown devices', async () => {
    const tokens = [await p.tokenFor('citizen', { patient: demo.ids.patients[0] }), await p.tokenFor('dpo'), await p.tokenFor('analyst')];
    for (const token of tokens) {
      expect((await call(p, 'GET', '/api/devices/fleet', undefined, { authorization: `Bearer ${token}` })).status).toBe(403);
      expect((await call(p, 'POST', '/api/devices/x/disable', {}, { authorization: `Bearer ${token}`, ...json })).status).toBe(403);
    }
    expect((await call(p, 'POST', '/api/devices/no-such-device/disable', {}, { ...admin.headers, ...json })).status).toBe(404);
    expect((await call(p, 'GET', '/api/devices/fleet', undefined, { authorization: '' })).status).toBe(401);
  });
});
