/**
 * Recording with everyone's consent: a host asks, every admitted participant answers visibly, each
 * answer is a Consent in the record (written by the participant, or for an invitation link by the
 * platform); Janus records only while everyone present has agreed, pauses when someone new comes
 * in, stops at one refusal. When it stops, the files are made playable in the background.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Consent } from '@medplum/fhirtypes';
import { RECORDING_CONSENT } from '../auth/access.ts';
import type { ClientMessage, RecordingState } from './protocol.ts';
import { inRoom, personRef, type Member, type RoomCore } from './members.ts';
import type { MediaRelay } from './media.ts';
import { patientsOf } from './rooms.ts';
import { assertScopes, invitationDetail } from './who.ts';

type RecordingMessage = Extract<ClientMessage, { type: 'record-request' | 'record-stop' | 'record-consent' }>;

export function isRecordingMessage(msg: ClientMessage): msg is RecordingMessage {
  return msg.type === 'record-request' || msg.type === 'record-stop' || msg.type === 'record-consent';
}

export class RecordingConsent {
  constructor(
    private readonly core: RoomCore,
    private readonly media: MediaRelay,
  ) {}

  async handle(m: Member, msg: RecordingMessage): Promise<void> {
    switch (msg.type) {
      case 'record-request':
        return this.ask(m);
      case 'record-stop':
        return this.set('off', `${m.entrant.name} đã dừng ghi hình`);
      case 'record-consent':
        return this.answer(m, msg.agree);
    }
  }

  private get state(): RecordingState {
    return this.core.recording;
  }

  private async ask(by: Member): Promise<void> {
    const { room, deps } = this.core;
    if (room.mode !== 'sfu' || !deps.rooms.recordingsDir || !deps.recordings)
      throw new Error('Chỉ ghi hình được phiên qua máy chủ truyền hình (recording needs an SFU session)');
    const missing = deps.recordings.missingTools();
    if (missing) throw new Error(missing);
    this.core.recording = { state: 'asking', consents: {}, note: `${by.entrant.name} đề nghị ghi hình` };
    this.core.broadcast({ type: 'recording', recording: this.core.recording });
  }

  /** Someone new was admitted: recording pauses until they too agree. */
  async admitted(m: Member): Promise<void> {
    if (this.state.state === 'off') return;
    if (this.state.state === 'on') await this.set('asking', `Chờ ${m.entrant.name} đồng ý ghi hình`);
    else this.core.broadcast({ type: 'recording', recording: this.state });
  }

  /** A member left: their answer goes with them. */
  forget(m: Member): void {
    delete this.state.consents[m.id];
  }

  private async answer(m: Member, agree: boolean): Promise<void> {
    if (this.state.state !== 'asking') throw new Error('Không có đề nghị ghi hình nào (no recording was asked for)');
    if (m.who.kind === 'actor') assertScopes(m.who.ctx.actor, [['create', 'Consent']]);
    const { room } = this.core;
    const patient = m.entrant.patientId ?? patientsOf(this.core.appointment)[0];
    const performer = personRef(m.entrant);
    await this.core.repo(m).transaction(async (tx) => {
      const saved = await tx.create<Consent>({
        resourceType: 'Consent',
        status: agree ? 'active' : 'rejected',
        scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
        category: [{ coding: [RECORDING_CONSENT] }],
        ...(patient ? { patient: { reference: `Patient/${patient}` } } : {}),
        dateTime: new Date().toISOString(),
        ...(performer ? { performer: [{ reference: performer, display: m.entrant.name }] } : {}),
        policyRule: { text: 'Nghị định 13/2023/NĐ-CP về bảo vệ dữ liệu cá nhân' },
        provision: { type: agree ? 'permit' : 'deny', ...(room.ref ? { data: [{ meaning: 'related', reference: { reference: room.ref } }] } : {}) },
      });
      await tx.record({
        action: 'video.recording.consent',
        resourceType: 'Consent',
        resourceId: saved.id,
        detail: { room: room.id, agree, ...invitationDetail(m.who) },
      });
    });
    this.state.consents[m.id] = agree;
    if (!agree) return this.set('off', `${m.entrant.name} không đồng ý ghi hình — không ghi`);
    if (inRoom(this.core.members).every((x) => this.state.consents[x.id] === true)) return this.set('on', 'Mọi người đã đồng ý — đang ghi hình');
    this.core.broadcast({ type: 'recording', recording: this.state });
  }

  async set(state: RecordingState['state'], note: string): Promise<void> {
    const { room, deps } = this.core;
    const wasOn = this.state.state === 'on';
    this.core.recording = { state, consents: state === 'off' ? {} : this.state.consents, note };
    if (room.janus_room && wasOn !== (state === 'on')) {
      // Janus names its files by feed: note who is who before it starts writing.
      if (state === 'on') await deps.recordings?.remember(room.id, this.recordedFeeds());
      await deps.rooms.instanceFor(room).setRecording(room.janus_room, deps.rooms.roomSecret(room.id), state === 'on');
      if (state === 'on') void this.keyframesForRecording();
      if (wasOn) void this.archive();
    }
    this.core.broadcast({ type: 'recording', recording: this.core.recording });
  }

  /**
   * The room's media moved to other Janus sessions (a lost Janus, or a node taking the room over):
   * the recording there ended; what was written is archived, and recording is off until asked again.
   */
  mediaMoved(note: string): void {
    const wasOn = this.state.state === 'on';
    if (this.state.state === 'off') return;
    this.core.recording = { state: 'off', consents: {}, note };
    if (wasOn) void this.archive();
    this.core.broadcast({ type: 'recording', recording: this.core.recording });
  }

  /** Everyone left while recording: Janus closed each person's files as they went. */
  stopWhenEmpty(): void {
    if (this.state.state !== 'on') return;
    this.core.recording = { state: 'off', consents: {} };
    void this.archive();
  }

  /**
   * A simulcast recording starts at a keyframe of the layer Janus records (the best one arriving;
   * it falls back to a smaller one within a moment when the full one is not sent yet, and then needs
   * that layer's keyframe). Janus asks publishers for keyframes only every 10 s, which a short
   * recording may never see: ask every publisher now and a few times while the layers settle.
   */
  private async keyframesForRecording(): Promise<void> {
    for (const wait of [0, 700, 1_500, 3_000]) {
      await delay(wait);
      if (this.state.state !== 'on') return;
      await this.media.keyframes();
    }
  }

  private recordedFeeds(): { feed: number; name: string; reference?: string }[] {
    const out = [];
    for (const m of inRoom(this.core.members)) {
      if (m.sfu?.feed === undefined) continue;
      const reference = personRef(m.entrant);
      out.push({ feed: m.sfu.feed, name: m.entrant.name, ...(reference ? { reference } : {}) });
    }
    return out;
  }

  /**
   * In the background: the call goes on (or ends) while the files are processed. Tried three times
   * (Janus may still be closing a dump); what still fails stays on disk for the next start.
   */
  private async archive(): Promise<void> {
    const { room, deps } = this.core;
    if (!deps.recordings) return;
    for (const [attempt, wait] of [0, 2_000, 5_000].entries()) {
      await delay(wait);
      try {
        const patient = patientsOf(this.core.appointment)[0];
        await deps.recordings.archive(room.id, { patient: patient ? `Patient/${patient}` : undefined, related: room.ref ?? undefined });
        return;
      } catch (err) {
        deps.log?.warn({ room: room.id, attempt: attempt + 1, err: (err as Error).message }, 'recording could not be archived');
      }
    }
  }
}
