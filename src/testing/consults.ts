/**
 * Test fixture: a consult request from the demo commune station (Bát Xát) to the central hospital
 * (Bạch Mai), cardiology, as the request form would submit it. One place for the request body the
 * consult, inbox, meeting, event and training tests all start from; each test overrides only what
 * its story is about (urgency, reason, summary…). Synthetic clinical text, no real patient data.
 */
import { randomUUID } from 'node:crypto';
import type { HealthcareService } from '@medplum/fhirtypes';
import { CONSULT_CATEGORY } from '../consult/model.ts';
import { BHYT_SERVICE_SYSTEM } from '../formats/model.ts';
import type { DemoSummary } from '../seed/demo.ts';

export interface ConsultSummary {
  history: string;
  findings: string;
  treatment: string;
  question: string;
  vitals?: string;
}

export interface ConsultRequestBody {
  clientId: string;
  patientId: string;
  receivingOrganizationId: string;
  specialty: { code: string; display: string };
  urgency: 'routine' | 'urgent' | 'emergency';
  reason: string;
  icd10: { code: string; display?: string };
  summary: ConsultSummary;
  attachmentIds: string[];
  submit: boolean;
}

/** The body of `POST /api/consults`: a submitted cardiology request for the first demo patient. */
export function cardiologyConsult(demo: DemoSummary, overrides: Partial<ConsultRequestBody> = {}): ConsultRequestBody {
  return {
    clientId: randomUUID(),
    patientId: demo.ids.patients[0],
    receivingOrganizationId: demo.ids.organizations.bachmai,
    specialty: { code: 'cardiology', display: 'Tim mạch' },
    urgency: 'routine',
    reason: 'Tăng huyết áp khó kiểm soát',
    icd10: { code: 'I10', display: 'Tăng huyết áp vô căn' },
    summary: { history: 'THA 5 năm', findings: 'HA 170/100 mmHg', treatment: 'Amlodipin 5 mg', question: 'Phối hợp thuốc?' },
    attachmentIds: [],
    submit: true,
    ...overrides,
  };
}

/** An emergency chest-pain request (the urgent-transfer story of the inbox and event tests). */
export function chestPainConsult(demo: DemoSummary, overrides: Partial<ConsultRequestBody> = {}): ConsultRequestBody {
  return cardiologyConsult(demo, {
    urgency: 'emergency',
    reason: 'Đau ngực dữ dội',
    icd10: { code: 'I20.9' },
    summary: { history: 'Đau ngực 2 giờ', findings: 'HA 90/60', treatment: 'Aspirin', question: 'Có cần chuyển tuyến ngay?' },
    ...overrides,
  });
}

/**
 * The hub's teleconsultation service as the insurance claim needs it: listed, with a BHYT service
 * code and a price (test values: no teleconsultation DVKT code is published).
 */
export function consultationService(hubOrganizationId: string): HealthcareService {
  return {
    resourceType: 'HealthcareService',
    active: true,
    name: 'Hội chẩn từ xa chuyên khoa',
    providedBy: { reference: `Organization/${hubOrganizationId}` },
    category: [{ coding: [CONSULT_CATEGORY] }],
    type: [{ coding: [{ system: BHYT_SERVICE_SYSTEM, code: '02.9999', display: 'Hội chẩn từ xa' }] }],
    extension: [{ url: 'https://fhir.cauyte.vn/StructureDefinition/service-price', valueMoney: { value: 200000, currency: 'VND' } }],
  };
}
