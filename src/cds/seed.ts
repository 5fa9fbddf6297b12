/**
 * Demo data for decision support: the bundled services registered and approved (by the demo
 * system administrator, with the validation study as a DocumentReference), so that a demo start
 * shows cards at once. Only data: the same rows and resources the registry routes write.
 */
import type { Device, DocumentReference } from '@medplum/fhirtypes';
import type { FhirStore } from '../fhir/store.ts';
import { BUNDLED_SERVICES } from './bundled/services.ts';
import { CDS_DEVICE_SYSTEM } from './registry.ts';
import { DATA_SCOPES } from './contract.ts';

export const BUNDLED_VERSION = '1.0.0';
const SCOPES: Record<string, string[]> = {
  'patient-view': ['AllergyIntolerance', 'MedicationRequest', 'MedicationStatement'],
  'order-select': ['AllergyIntolerance', 'MedicationRequest', 'MedicationStatement'],
  'order-sign': ['AllergyIntolerance', 'MedicationRequest', 'MedicationStatement'],
  'appointment-book': ['QuestionnaireResponse', 'Appointment'],
  'encounter-discharge': ['Encounter', 'Condition', 'MedicationRequest'],
};

/** Registers and approves every bundled service not registered yet; returns the registry ids. */
export async function seedCdsDemo(store: FhirStore, approvedBy = 'quantri'): Promise<string[]> {
  const ids: string[] = [];
  await store.system('demo: bundled decision-support services', 'cds').transaction(async (tx) => {
    const study = await tx.create<DocumentReference>({
      resourceType: 'DocumentReference',
      status: 'current',
      type: { text: 'Nghiên cứu thẩm định dịch vụ AI/CDS (validation study)' },
      description: 'Thẩm định nội bộ: kiểm tra dị ứng và trùng thuốc trên bộ ca kiểm thử (src/visits/safety.test.ts, src/cds/cds.test.ts)',
      date: new Date().toISOString(),
      content: [{ attachment: { url: 'https://github.com/cauyte/cauyte/blob/main/docs/cds.md', title: 'Thẩm định dịch vụ đi kèm (docs/cds.md)' } }],
    });
    for (const s of BUNDLED_SERVICES) {
      const id = s.id;
      if ((await tx.sql.query('SELECT 1 FROM cds_service WHERE id = $1', [id])).rows[0]) continue;
      const device = await tx.create<Device>({
        resourceType: 'Device',
        identifier: [{ system: CDS_DEVICE_SYSTEM, value: id }],
        status: 'active',
        manufacturer: 'Cầu Y Tế (dịch vụ đi kèm)',
        deviceName: [{ name: s.title, type: 'user-friendly-name' }],
        type: { text: 'Dịch vụ hỗ trợ quyết định lâm sàng (CDS / AI software)' },
        version: [{ value: BUNDLED_VERSION }],
        note: [{ text: s.description }],
      });
      const scopes = (SCOPES[s.hook] ?? []).filter((x) => (DATA_SCOPES as readonly string[]).includes(x));
      await tx.sql.query(
        `INSERT INTO cds_service (id, base_url, service_id, hook, name, version, vendor, intended_use, risk_class, status, status_reason,
           status_by, status_at, approved_by, approved_at, evidence_ref, allowed_hooks, data_scopes, prefetch, device_id, created_by)
         VALUES ($1, 'bundled', $1, $2, $3, $4, 'Cầu Y Tế (dịch vụ đi kèm)', $5, 'B', 'approved', 'Dữ liệu thử nghiệm: phê duyệt để trình diễn',
           $6, now(), $6, now(), $7, $8, $9, $10::jsonb, $11, $6)`,
        [
          id,
          s.hook,
          s.title,
          BUNDLED_VERSION,
          s.description,
          approvedBy,
          `DocumentReference/${study.id}`,
          [s.hook],
          scopes,
          JSON.stringify(s.prefetch),
          device.id,
        ],
      );
      ids.push(id);
    }
    await tx.record({ action: 'cds.approved', resourceType: 'DocumentReference', resourceId: study.id, detail: { demo: true, services: ids } });
  });
  return ids;
}
