/**
 * SQL for a domain's own tables — the only database handle domain code ever holds.
 *
 * The record store's tables (resources, versions, search indexes, relationships, consent) and
 * the identity and audit tables are reached only through a Repository, which checks and audits
 * every access. A domain still keeps state of its own (a booking's slot lock, a device's
 * credential hash, a video room's members); DomainSql runs that SQL, on the repository's
 * transaction when there is one, and refuses any statement naming a table the domain was not
 * granted (TABLE_GRANTS, policy as data). A table may be granted read-only: then the statement
 * must not write.
 */
import type { QueryOptions, QueryResult, Queryable } from './db.ts';

/** Every table the platform has, by owner. A domain's grant names which it may use. */
const CORE_TABLES = [
  'resource',
  'resource_version',
  'search_param',
  'idx_string',
  'idx_token',
  'idx_reference',
  'idx_date',
  'idx_quantity',
  'idx_uri',
  'idx_string_contains',
  'resource_patients_basis',
  'account',
  'account_role',
  'session',
  'oauth_client',
  'oauth_code',
  'oauth_assertion',
  'smart_launch',
  'oauth_pending',
  'oauth_refresh',
  'signing_key',
  'revoked_token',
  'login_throttle',
  'login_source',
  'care_relationship',
  'consent_state',
  'break_glass',
  'audit_log',
  'audit_head',
  'schema_migration',
];

const NOTIFY = ['notification', 'message_outbox'];

/** The national programme's register and the indicators' source tables (src/programme). */
const PROGRAMME_TABLES = [
  'programme_facility',
  'programme_authority',
  'programme_hub',
  'programme_declaration_event',
  'programme_readiness',
  'programme_setting',
  'programme_consult',
  'programme_consult_month',
  'programme_location',
  'programme_meeting_site',
  'programme_visit',
  'programme_prescription',
  // Kept by the database's own triggers (migration 031): the dashboard reads them.
  'programme_duration_month',
  'programme_activity_month',
  'programme_place_month',
  'programme_meeting_place',
  'programme_visit_month',
  // Device-programme enrolment (migration 123).
  'programme_patient_facility',
  'programme_monitoring_device',
];

/** Remote training and technology transfer (src/training). */
const TRAINING_TABLES = [
  'training_programme',
  'training_course',
  'training_session',
  'training_enrolment',
  'training_signin',
  'training_attendance',
  'training_assessment',
  'training_certificate',
  'training_teaching_case',
  'training_transfer',
  'training_transfer_step',
  'training_supervised_case',
  'training_setting',
  'training_feedback',
];

export interface TableGrant {
  /** Tables the domain reads and writes. */
  own: string[];
  /** Tables the domain may only read (another domain's state it depends on). */
  read?: string[];
}

/** Domain → tables. A domain absent here has no tables of its own. */
export const TABLE_GRANTS: Record<string, TableGrant> = {
  consult: { own: ['consult_queue', 'signing_identity', 'eligibility_list', 'meeting_reminder', ...NOTIFY], read: ['programme_facility', 'programme_setting'] },
  devices: { own: ['device_credential', 'device_message', 'device_quarantine', 'alert_episode', ...NOTIFY] },
  video: { own: ['video_room', 'video_invite', 'video_attendance', 'video_member', ...NOTIFY], read: ['family_link'] },
  visits: { own: ['slot_booking', ...NOTIFY], read: ['family_link'] },
  family: { own: ['family_link'] },
  programme: { own: [...PROGRAMME_TABLES, ...NOTIFY] },
  // alert_episode: the programme's "alerts answered in time" (counts only, src/programme/device-indicators.ts).
  reports: { own: [], read: [...PROGRAMME_TABLES, ...TRAINING_TABLES, 'alert_episode'] },
  events: { own: [...NOTIFY, 'notification_read'] },
  audit: { own: [], read: ['family_link'] },
  consent: { own: [], read: ['family_link', 'care_relationship', 'consent_state', 'break_glass', 'account', 'account_role'] },
  retention: { own: ['retention_hold', 'retention_archive'] },
  formats: { own: ['claim_submission', 'eprescription_submission', 'bulk_export_job', 'bulk_export_file'] },
  imaging: { own: ['imaging_study', 'imaging_annotation', 'signing_identity', ...NOTIFY] },
  training: { own: [...TRAINING_TABLES, ...NOTIFY], read: ['video_room', 'video_attendance', 'programme_facility'] },
  surveillance: {
    own: [
      'surveillance_patient_place',
      'surveillance_case',
      'surveillance_week',
      'surveillance_signal',
      'surveillance_authority',
      'surveillance_disease_list',
      'surveillance_population',
      ...NOTIFY,
    ],
    read: ['programme_authority'],
  },
  cds: { own: ['cds_service', 'cds_call', 'cds_card'] },
};

const ALL_TABLES = new Set([...CORE_TABLES, ...Object.values(TABLE_GRANTS).flatMap((g) => [...g.own, ...(g.read ?? [])])]);
const WRITES = /\b(insert|update|delete|truncate|alter|drop|create|grant|copy)\b/i;
const WORD = /[a-z_][a-z0-9_]*/gi;

export class TableAccessDenied extends Error {}

/** The tables a statement names (words equal to a known table name; string literals are skipped). */
export function tablesNamed(sql: string): Set<string> {
  const out = new Set<string>();
  const code = sql.replace(/'(?:[^']|'')*'/g, "''");
  for (const m of code.matchAll(WORD)) {
    const w = m[0].toLowerCase();
    if (ALL_TABLES.has(w)) out.add(w);
  }
  return out;
}

export class DomainSql implements Queryable {
  private readonly own: Set<string>;
  private readonly readOnly: Set<string>;

  constructor(
    private readonly q: Queryable,
    readonly domain: string,
  ) {
    const grant = TABLE_GRANTS[domain] ?? { own: [] };
    this.own = new Set(grant.own);
    this.readOnly = new Set(grant.read ?? []);
  }

  /** Refuses a statement that names a table outside the grant, or writes where only reading is granted. */
  check(sql: string): void {
    const writes = WRITES.test(sql.replace(/'(?:[^']|'')*'/g, "''"));
    for (const t of tablesNamed(sql)) {
      if (this.own.has(t)) continue;
      if (this.readOnly.has(t) && !writes) continue;
      throw new TableAccessDenied(
        `Domain "${this.domain}" may not ${this.readOnly.has(t) ? 'write' : 'use'} table ${t}: go through the repository or the owning domain`,
      );
    }
  }

  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[], opts?: QueryOptions): Promise<QueryResult<T>> {
    this.check(sql);
    return this.q.query<T>(sql, params, opts);
  }

  async exec(sql: string): Promise<void> {
    this.check(sql);
    await this.q.exec(sql);
  }
}
