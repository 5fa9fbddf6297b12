/**
 * The formats domain's vocabulary: where the facts the national formats need live in our FHIR
 * record (identifier systems and extensions on Organization, HealthcareService, Patient,
 * Medication, Encounter) and the codes it writes.
 *
 * Rules: constants and pure readers only; every system URL this domain reads or writes is here.
 */
import type { Extension, Identifier } from '@medplum/fhirtypes';

/** Mã cơ sở khám chữa bệnh (MA_CSKCB, 5 characters) on an Organization. */
export const FACILITY_CODE_SYSTEM = 'https://fhir.cauyte.vn/sid/facility-code';
/** The department code (MA_KHOA) the facility bills its remote visits to, on the Organization. */
export const DEPARTMENT_EXT = 'https://fhir.cauyte.vn/StructureDefinition/bhyt-department';
/** Mã số BHXH of the facility's head who signs (MA_TTDV), on the Organization. */
export const HEAD_INSURANCE_NO_EXT = 'https://fhir.cauyte.vn/StructureDefinition/bhyt-head-insurance-no';
/** The BHYT service code (MA_DICH_VU, e.g. an examination code) on a HealthcareService. */
export const BHYT_SERVICE_SYSTEM = 'https://fhir.cauyte.vn/CodeSystem/bhyt-service';
/** Practising certificate number (MA_BAC_SI) on a Practitioner. */
export const LICENCE_SYSTEM = 'https://fhir.cauyte.vn/sid/practising-certificate';
/** Occupation code (QĐ 34/2020, MA_NGHE_NGHIEP) on a Patient. */
export const OCCUPATION_EXT = 'https://fhir.cauyte.vn/StructureDefinition/occupation';
/** FHIR core nationality extension (code = MA_QUOCTICH). */
export const NATIONALITY_EXT = 'http://hl7.org/fhir/StructureDefinition/patient-nationality';
export const ETHNICITY_EXT = 'https://fhir.cauyte.vn/StructureDefinition/ethnicity';
/** A facility's formulary (Medication): the active-ingredient code (MA_THUOC) and route code (DUONG_DUNG). */
export const ACTIVE_INGREDIENT_SYSTEM = 'https://fhir.cauyte.vn/CodeSystem/bhyt-active-ingredient';
export const ROUTE_EXT = 'https://fhir.cauyte.vn/StructureDefinition/bhyt-route';
export const FORMULARY_OF_EXT = 'https://fhir.cauyte.vn/StructureDefinition/formulary-of';
/** The gateway's transaction code (maGiaoDich) for a sent visit, on its Encounter. */
export const BHXH_TRANSACTION_SYSTEM = 'https://fhir.cauyte.vn/sid/bhxh-transaction';

export const ext = (exts: Extension[] | undefined, url: string): Extension | undefined => exts?.find((e) => e.url === url);
export const idValue = (ids: Identifier[] | undefined, system: string): string | undefined => ids?.find((i) => i.system === system)?.value;
