/**
 * All configuration comes from the environment, with safe defaults (documented in README.md).
 * Nothing else in the code reads process.env.
 */
import { resolve } from 'node:path';
import { z } from 'zod';

const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  CAUYTE_DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: z.string().url().optional(),
  /** Largest request body accepted, in bytes (transaction bundles are the big ones). */
  CAUYTE_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(32 * 1024 * 1024),
  /** Public base URL used in Bundle links (defaults to http://HOST:PORT). */
  CAUYTE_BASE_URL: z.string().url().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Load demo data when the database is empty: on by default for the embedded database only. */
  CAUYTE_DEMO: z.enum(['auto', 'on', 'off']).default('auto'),
  /** Keys the audit chain and encrypts stored secrets. Required with DATABASE_URL. */
  CAUYTE_SECRET_KEY: z.string().min(32).optional(),
  /** Secure flag on the session cookie (browsers accept it on http://localhost too). */
  CAUYTE_COOKIE_SECURE: z.enum(['0', '1']).default('1'),
  CAUYTE_SESSION_IDLE_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(30),
  CAUYTE_SESSION_MAX_HOURS: z.coerce.number().int().min(1).max(72).default(12),
  CAUYTE_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(3600).default(900),
  CAUYTE_KEY_ROTATION_DAYS: z.coerce.number().int().min(1).max(365).default(30),
  CAUYTE_BREAK_GLASS_MINUTES: z.coerce
    .number()
    .int()
    .min(5)
    .max(24 * 60)
    .default(60),
  /** Audit entries are kept this long (at least as long as the records they describe; never under 90 days). */
  CAUYTE_AUDIT_RETENTION_DAYS: z.coerce.number().int().min(90, 'audit entries are kept at least 90 days').default(3650),
  /** A staff account unused this long is disabled until an administrator enables it (level-3 rule: 45). */
  CAUYTE_STAFF_INACTIVE_DAYS: z.coerce.number().int().min(1).max(365).default(45),
  /** Largest attachment (image, PDF, DICOM) in bytes. */
  CAUYTE_MAX_ATTACHMENT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(20 * 1024 * 1024),
  /** Where email/SMS go: 'file' writes them under $CAUYTE_DATA_DIR/outbox (set up a real sender for production). */
  CAUYTE_OUTBOX: z.enum(['file', 'off']).default('file'),
  /** Port of the embedded MQTT broker for devices (0 = off). Ignored when MQTT_URL is set. */
  CAUYTE_MQTT_PORT: z.coerce.number().int().min(0).max(65535).default(1884),
  /** An external MQTT broker (e.g. mqtt://127.0.0.1:1883 for Mosquitto) to ingest from instead. */
  MQTT_URL: z.string().url().optional(),
  /** Largest device message (MQTT payload or HTTP readings body) in bytes; larger ones are refused, never acknowledged. */
  CAUYTE_MQTT_MAX_PAYLOAD_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(16 * 1024 * 1024)
    .default(64 * 1024),
  /** Minutes before an unacknowledged alert is escalated to the whole facility. */
  CAUYTE_ALERT_ESCALATE_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(15),
  /** Janus instances for large video sessions (comma-separated HTTP API URLs, e.g. http://10.0.0.5:8088/janus). */
  JANUS_URL: z
    .string()
    .optional()
    .refine((v) => !v || v.split(',').every((u) => /^https?:\/\/\S+$/.test(u.trim())), 'JANUS_URL must be comma-separated http(s) URLs'),
  /** Without JANUS_URL: 'auto' starts and supervises the local janus binary on loopback if it is installed. */
  CAUYTE_JANUS: z.enum(['auto', 'off']).default('auto'),
  CAUYTE_JANUS_BINARY: z.string().min(1).default('/usr/bin/janus'),
  /** The supervised janus gathers ICE candidates only on these interfaces (its -E list), e.g. "lo,eth1". */
  CAUYTE_JANUS_ICE: z
    .string()
    .regex(/^[A-Za-z0-9._-]+(,[A-Za-z0-9._-]+)*$/)
    .default('lo'),
  /** An external Orthanc (DICOMweb store) for imaging, e.g. http://10.0.0.7:8042, with its credentials. */
  ORTHANC_URL: z.string().url().optional(),
  ORTHANC_USERNAME: z.string().optional(),
  ORTHANC_PASSWORD: z.string().optional(),
  /** Without ORTHANC_URL: 'auto' starts and supervises the local Orthanc on loopback if installed; 'off' uses the embedded store. */
  CAUYTE_ORTHANC: z.enum(['auto', 'off']).default('auto'),
  CAUYTE_ORTHANC_BINARY: z.string().min(1).default('/usr/sbin/Orthanc'),
  /** The bundled CDS Hooks service (src/cds/bundled): 'auto' starts it as its own process on loopback; 'off' does not. */
  CAUYTE_CDS_BUNDLED: z.enum(['auto', 'off']).default('auto'),
  /** ICE servers for video: STUN and TURN URLs (comma-separated) and the coturn REST shared secret. */
  STUN_URLS: z.string().default(''),
  TURN_URLS: z.string().default(''),
  TURN_SECRET: z.string().optional(),
  TURN_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(3600),
  /** 'relay': every call goes through TURN (participants never learn each other's IP address); needs TURN. */
  CAUYTE_ICE_POLICY: z.enum(['all', 'relay']).default('all'),
  /** Operations (src/ops): a Prometheus listener of its own (off unless set), its address and bearer token. */
  CAUYTE_METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  CAUYTE_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  CAUYTE_METRICS_TOKEN: z.string().min(16).optional(),
  /** This node's name in a multi-node deployment: answers carry it in X-Served-By (which node served what). */
  CAUYTE_NODE_NAME: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,40}$/)
    .optional(),
  /** Addresses of the load balancers in front of this node (comma-separated); their X-Forwarded-For is believed. */
  CAUYTE_TRUST_PROXY: z.string().optional(),
  /** Graceful shutdown: seconds /readyz fails before the node closes, then seconds closing may take. */
  CAUYTE_DRAIN_SECONDS: z.coerce.number().min(0).max(300).default(3),
  CAUYTE_SHUTDOWN_TIMEOUT_SECONDS: z.coerce.number().min(1).max(600).default(30),
  /** Encrypts backups (AES-256-GCM): 32 bytes as 64 hex digits or base64. */
  CAUYTE_BACKUP_KEY: z.string().optional(),
  /** The daily retention job (Circular 33/2025): 'dry-run' only reports, 'archive' archives expired records, 'off' skips it. */
  CAUYTE_RETENTION: z.enum(['off', 'dry-run', 'archive']).default('dry-run'),
  /** A JSON file lengthening retention periods ({ "ordinary": 15, ... }); shorter than the circular is refused. */
  CAUYTE_RETENTION_RULES: z.string().optional(),
  /** National formats (src/formats): the social-insurance (BHXH) XML gateway's base URL, e.g. https://egw.baohiemxahoi.gov.vn/ (unset = claims are built and signed but not sent). */
  CAUYTE_BHXH_GATEWAY_URL: z.string().url().optional(),
  /** The national e-prescription gateway's base URL (unset = prescriptions keep their code but are not sent). */
  CAUYTE_EPRESCRIPTION_GATEWAY_URL: z.string().url().optional(),
  /** JSON file of each facility's signing certificate and gateway accounts, by facility code (docs/national-formats.md). */
  CAUYTE_FACILITY_CREDENTIALS: z.string().optional(),
  /** Seconds between passes of the national-gateway sending queue. */
  CAUYTE_GATEWAY_QUEUE_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
  /** Requests per minute per signed-in account (or per IP when anonymous). */
  CAUYTE_RATE_LIMIT: z.coerce.number().int().min(1).default(3000),
});

export type Config = z.infer<typeof schema> & { dataDir: string; baseUrl: string };

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid configuration: ${problems}`);
  }
  const c = parsed.data;
  if (c.CAUYTE_ICE_POLICY === 'relay' && !(c.TURN_URLS.trim() && c.TURN_SECRET)) {
    throw new Error('CAUYTE_ICE_POLICY=relay needs a TURN server: set TURN_URLS and TURN_SECRET (coturn with use-auth-secret)');
  }
  const baseUrl = (c.CAUYTE_BASE_URL ?? `http://${c.HOST.includes(':') ? `[${c.HOST}]` : c.HOST}:${c.PORT}`).replace(/\/$/, '');
  return { ...c, dataDir: resolve(c.CAUYTE_DATA_DIR), baseUrl };
}
