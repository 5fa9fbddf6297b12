/**
 * What a live room keeps on the record so another API node can take it over (migration 115): each
 * admitted member (id, who they are, a hash of their resume token, host, site, their open stay),
 * and who a host removed. When the node holding a room is lost, HAProxy sends the room's
 * participants to another node; the first connection there rebuilds the room from these rows
 * (live.ts): members who come back with their resume token keep their place, their id (peers
 * address each other by it) and their stay; those who do not come back within the grace period
 * leave on the record, by the platform. Chat lines are in the record already (Communication);
 * a recording in progress is not carried over (it is archived and recording is off).
 */
import { createHash } from 'node:crypto';
import type { DomainSql } from '../db/domain-sql.ts';
import type { Member } from './members.ts';
import type { Entrant } from './who.ts';

export const TAKEOVER_REASON = 'video: a room taken over from a lost API node';

export const resumeHash = (token: string) => createHash('sha256').update(token).digest('hex');

export interface SavedMember {
  member_id: string;
  identity: string;
  resume_hash: string;
  host: boolean;
  site: string;
  attendance_id: number | null;
  entrant: Entrant;
}

/** An admitted member, in the unit of work that begins their stay. */
export async function saveMember(
  sql: DomainSql,
  roomId: string,
  m: { id: string; identity: string; resume: string; host: boolean; site: string; attendanceRow?: number; entrant: Entrant },
): Promise<void> {
  await sql.query(
    `INSERT INTO video_member (room_id, member_id, identity, entrant, resume_hash, host, site, attendance_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (room_id, member_id) DO UPDATE SET left_at = NULL, attendance_id = EXCLUDED.attendance_id, site = EXCLUDED.site`,
    [roomId, m.id, m.identity, JSON.stringify(m.entrant), resumeHash(m.resume), m.host, m.site, m.attendanceRow ?? null],
  );
}

/** A member left (or was removed by a host: then they may not come back), in the unit of work of their leaving. */
export async function memberLeft(sql: DomainSql, roomId: string, memberId: string, removed: boolean): Promise<void> {
  await sql.query('UPDATE video_member SET left_at = now(), removed = $3 WHERE room_id = $1 AND member_id = $2', [roomId, memberId, removed]);
}

/** A host removed someone who was still in the lobby: only the ban is kept. */
export async function banned(sql: DomainSql, roomId: string, identity: string, entrant: Entrant): Promise<void> {
  await sql.query(
    `INSERT INTO video_member (room_id, member_id, identity, entrant, resume_hash, left_at, removed) VALUES ($1, $2, $3, $4, '', now(), true)
     ON CONFLICT (room_id, member_id) DO UPDATE SET left_at = now(), removed = true`,
    [roomId, `ban-${resumeHash(identity).slice(0, 24)}`, identity, JSON.stringify(entrant)],
  );
}

/** The room as its last node left it: members still in the call, and who may not come back. */
export async function savedRoom(sql: DomainSql, roomId: string): Promise<{ members: SavedMember[]; banned: string[] }> {
  const rows = (
    await sql.query<SavedMember & { left_at: Date | null; removed: boolean }>(
      'SELECT member_id, identity, entrant, resume_hash, host, site, attendance_id, left_at, removed FROM video_member WHERE room_id = $1',
      [roomId],
    )
  ).rows;
  return {
    members: rows.filter((r) => !r.left_at).map((r) => ({ ...r, entrant: typeof r.entrant === 'string' ? (JSON.parse(r.entrant) as Entrant) : r.entrant })),
    banned: rows.filter((r) => r.removed).map((r) => r.identity),
  };
}

/** A member as the record has them, not back yet: in the call, without a connection; the platform acts for them until they resume. */
export function restoredMember(s: SavedMember): Member {
  return {
    id: s.member_id,
    identity: s.identity,
    resume: '',
    resumeHash: s.resume_hash,
    restored: true,
    entrant: s.entrant,
    who: { kind: 'platform', reason: TAKEOVER_REASON },
    site: s.site,
    host: s.host,
    state: 'in',
    hand: false,
    media: { audio: true, video: true, screen: false, audioOnly: false, quality: 'unknown' },
    attendanceRow: s.attendance_id ?? undefined,
    stillValid: async () => false,
    queue: Promise.resolve(),
    tokens: 200,
    refilledAt: Date.now(),
  };
}
