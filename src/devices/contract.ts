/**
 * The one contract between the devices/monitoring routes and the web app: zod schemas of every
 * JSON request body (the routes parse with them) and the types of every JSON answer (the web app
 * imports them with `import type`, so nothing here ends up in the browser bundle).
 *
 * Rules: a field added here is added on both sides at once; answers carry ids and display values
 * only (the web app fetches clinical details through the access-checked FHIR API); dates travel
 * as ISO 8601 strings.
 */
import type { CarePlan, Device } from '@medplum/fhirtypes';
import { z } from 'zod';

/** Device kinds a clinician can register, with their Vietnamese names. */
export const DEVICE_TYPES = {
  bp: 'Máy đo huyết áp',
  glucometer: 'Máy đo đường huyết',
  oximeter: 'Máy đo SpO2',
  thermometer: 'Nhiệt kế',
  scale: 'Cân',
  ecg: 'Miếng dán điện tim',
  multi: 'Máy đo đa chỉ số',
} as const;
export type DeviceType = keyof typeof DEVICE_TYPES;

export const resourceId = z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, 'must be a resource id');

// ------------------------------------------------------------------ request bodies

/** POST /api/devices: a home device (patientId) or a shared station device (organizationId). */
export const registerDeviceBody = z
  .object({
    type: z.enum(Object.keys(DEVICE_TYPES) as [DeviceType, ...DeviceType[]], {
      error: `Loại thiết bị phải là một trong: ${Object.keys(DEVICE_TYPES).join(', ')} (unknown device type)`,
    }),
    name: z.string().trim().min(1).max(200),
    serial: z.string().trim().min(1).max(100),
    patientId: resourceId.optional(),
    organizationId: resourceId.optional(),
  })
  .strict()
  .refine((b) => !b.patientId !== !b.organizationId, {
    message: 'Gắn thiết bị cho một người bệnh hoặc cho một trạm (bind to a patient or to a station, not both)',
  });
export type RegisterDeviceBody = z.infer<typeof registerDeviceBody>;

/** PUT /api/patients/:id/targets: the patient's own alert limits. */
export const targetsBody = z
  .object({
    systolicMax: z.number().int().min(90).max(200).optional(),
    diastolicMax: z.number().int().min(50).max(130).optional(),
    glucoseMin: z.number().min(2).max(10).optional(),
    glucoseMax: z.number().min(4).max(25).optional(),
  })
  .strict();
export type TargetsBody = z.infer<typeof targetsBody>;

/**
 * POST /api/devices/:id/readings: a FHIR Observation, a batch Bundle of Observations, or the
 * device payload of docs/devices.md. Only the envelope is checked here: the payload itself is
 * checked by the ingest (readings.ts payloadSchema), so that a malformed message is quarantined
 * with its reasons exactly as over MQTT.
 */
export const fhirObservationBody = z.object({ resourceType: z.literal('Observation') }).passthrough();
export const fhirBundleBody = z
  .object({
    resourceType: z.literal('Bundle'),
    entry: z
      .array(z.object({ resource: z.unknown() }).passthrough())
      .max(500)
      .optional(),
  })
  .passthrough();
export const devicePayloadBody = z.record(z.string(), z.unknown());
export const readingsBody = z.union([fhirObservationBody, fhirBundleBody, devicePayloadBody]);
export type ReadingsBody = z.infer<typeof readingsBody>;

// ------------------------------------------------------------------ answers

export type DeviceListItem = Device & { revoked: boolean };

/** One device on the fleet screen (`GET /api/devices/fleet`: src/devices/fleet.ts). */
export interface FleetDevice {
  id: string;
  name: string;
  type: string;
  serial: string;
  /** A station's shared device (no patient). */
  shared: boolean;
  /** The patient's name, when the viewer may see their record. */
  patient?: string;
  /** A home device of a patient outside the viewer's reach (an administrator): the name is not shown. */
  patientHidden?: boolean;
  /** no-credential: never set up; waiting: set up, no reading yet; working: readings arrive; disabled: credential revoked. */
  state: 'no-credential' | 'waiting' | 'working' | 'disabled';
  lastMessageAt?: string;
  messages: number;
  /** Messages refused in the last 7 days (impossible values, bad format). */
  quarantined7d: number;
}

/** `GET /api/devices/fleet`: the devices of the caller's facility. */
export interface FleetView {
  facility: string;
  devices: FleetDevice[];
}

export interface RegisterDeviceResponse {
  device: Device;
  /** The device secret, shown once (only its SHA-256 is kept). */
  token: string;
  provisioning: DeviceProvisioning;
}

export interface RotateResponse {
  token: string;
  provisioning: DeviceProvisioning;
}

/** What a device is set up with (shown once as a QR code and as text): broker, identity, secret, topics. */
export interface DeviceProvisioning {
  /** e.g. mqtt://tram.example.vn:1884 (the embedded broker) or the external broker's URL; absent when MQTT is off. */
  broker?: string;
  clientId: string;
  username: string;
  password: string;
  readingsTopic: string;
  repliesTopic: string;
  /** The HTTP ingest address, for devices that post instead. */
  httpUrl: string;
}

export interface QuarantineItem {
  id: number;
  device_id: string | null;
  message_id: string | null;
  received_at: string;
  reasons: string[];
}

/** The platform's answer to one device message (HTTP body, MQTT reply topic). */
export interface IngestReply {
  msgId?: string;
  status: 'accepted' | 'duplicate' | 'rejected' | 'refused';
  observations?: number;
  reasons?: string[];
}

export interface DeviceStats {
  /** When this node started counting. */
  since: string;
  connections: { accepted: number; refusedCredentials: number; refusedClientId: number };
  messages: { accepted: number; duplicate: number; rejected: number; refused: number; oversized: number; malformed: number };
  observations: number;
  /** Observations a device message would have produced that failed R4 validation (quarantined). */
  invalidObservations: number;
  quarantined: number;
}

export type AlertMetric = 'bp' | 'hr' | 'spo2' | 'glucose' | 'temp' | 'weight';
export type AlertSeverity = 'high' | 'severe';

export interface AlertItem {
  id: number;
  patientId: string;
  patient: string;
  metric: AlertMetric;
  severity: AlertSeverity;
  openedAt: string;
  lastReadingAt: string;
  /** bp: systolic/diastolic; glucose: mmol; others: value. */
  lastValue: Record<string, number>;
  acknowledgedAt?: string;
  escalatedAt?: string;
  closedAt?: string;
  flagId: string;
}

export type TargetsResponse = CarePlan;

export interface RegisterRow {
  patientId: string;
  name: string;
  birthDate?: string;
  lastReading?: { at: string; text: string };
  controlled?: boolean;
  overdue: boolean;
}

export type ProgrammeKind = 'hypertension' | 'diabetes';

export interface ProgrammeResponse {
  programme: string;
  organizationId?: string;
  rows: RegisterRow[];
}
