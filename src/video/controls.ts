/**
 * What people do in a room besides media: chat (part of the record — a Communication tied to the
 * room's appointment and its cases, written by the sender or, for an invitation link, by the
 * platform), raised hands, media state, and the host controls (admit, deny, mute, remove, end).
 * Every target is a member of this room; host-only messages were checked before they get here.
 */
import type { Communication } from '@medplum/fhirtypes';
import type { ClientMessage } from './protocol.ts';
import { personRef, refuse, send, type Member, type RoomCore } from './members.ts';
import { patientsOf } from './rooms.ts';
import { assertScopes, invitationDetail } from './who.ts';

type ControlMessage = Extract<ClientMessage, { type: 'ping' | 'chat' | 'hand' | 'media' | 'leave' | 'admit' | 'deny' | 'mute' | 'remove' | 'end' | 'viewer' }>;

/** Chat lines kept for people who join later (the record keeps them all). */
const CHAT_KEPT = 500;

export class RoomControls {
  constructor(private readonly core: RoomCore) {}

  async handle(m: Member, msg: ControlMessage): Promise<void> {
    const { core } = this;
    switch (msg.type) {
      case 'ping':
        return send(m, { type: 'pong' });
      case 'chat':
        return this.chat(m, msg.text);
      case 'hand':
        m.hand = msg.up;
        return core.broadcastMembers();
      case 'viewer':
        // Shared imaging viewer: ids and numbers only; each site loads the study through its own access.
        return core.broadcast({ type: 'viewer', from: m.id, study: msg.study, state: msg.state }, m);
      case 'media':
        m.media = { audio: msg.audio, video: msg.video, screen: msg.screen, audioOnly: msg.audioOnly, quality: msg.quality, level: msg.level };
        return core.broadcastMembers();
      case 'leave':
        return core.leave(m, 'left');
      case 'admit': {
        const t = core.target(msg.id);
        if (t.state === 'in') return;
        return core.admit(m, t);
      }
      case 'deny': {
        const t = core.target(msg.id);
        if (t.state !== 'lobby') throw new Error('Người này đã ở trong phòng (already admitted)');
        refuse(t.socket, 4403, 'Chủ trì không cho vào phòng (the host did not admit you)');
        core.members.delete(t.id);
        return core.broadcastMembers();
      }
      case 'mute':
        // Muting is done by the person's own browser: nobody can turn a microphone on remotely.
        return send(core.target(msg.id), { type: 'muted', by: m.entrant.name });
      case 'remove': {
        const t = core.target(msg.id);
        if (t === m) throw new Error('Không thể tự mời mình ra (use leave)');
        refuse(t.socket, 4403, `Chủ trì ${m.entrant.name} đã mời bạn ra khỏi phòng (a host removed you)`);
        return core.leave(t, 'removed', m);
      }
      case 'end':
        return core.end(m);
    }
  }

  /** Chat is part of the record: a Communication linked to the room's appointment and its cases. */
  private async chat(m: Member, text: string): Promise<void> {
    const { core } = this;
    if (m.who.kind === 'actor') assertScopes(m.who.ctx.actor, [['create', 'Communication']]);
    const a = core.appointment;
    const patient = patientsOf(a)[0];
    const sender = personRef(m.entrant);
    const at = new Date().toISOString();
    await core.repo(m).transaction(async (tx) => {
      const saved = await tx.create<Communication>({
        resourceType: 'Communication',
        status: 'completed',
        category: [{ text: 'Trò chuyện trong cuộc gọi video (video call chat)' }],
        ...(patient ? { subject: { reference: `Patient/${patient}` } } : {}),
        ...(a?.basedOn?.length ? { basedOn: a.basedOn } : {}),
        ...(core.room.ref ? { about: [{ reference: core.room.ref }] } : {}),
        sent: at,
        sender: sender ? { reference: sender, display: m.entrant.name } : { display: m.entrant.name },
        payload: [{ contentString: text }],
      });
      await tx.record({
        action: 'video.chat',
        resourceType: 'Communication',
        resourceId: saved.id,
        detail: { room: core.room.id, ...invitationDetail(m.who) },
      });
    });
    const line = { from: m.id, name: m.entrant.name, text, at };
    core.chat.push(line);
    if (core.chat.length > CHAT_KEPT) core.chat.shift();
    core.broadcast({ type: 'chat', ...line });
  }
}

export const CONTROL_MESSAGES = new Set<ClientMessage['type']>(['ping', 'chat', 'hand', 'media', 'leave', 'admit', 'deny', 'mute', 'remove', 'end', 'viewer']);

export function isControlMessage(msg: ClientMessage): msg is ControlMessage {
  return CONTROL_MESSAGES.has(msg.type);
}
