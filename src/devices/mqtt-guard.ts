/**
 * What the MQTT transport refuses before a message reaches the ingest: a payload larger than the
 * documented maximum (CAUYTE_MQTT_MAX_PAYLOAD_BYTES, 64 KiB by default) or that is not UTF-8 text
 * (binary, or holding NUL). Such a message is never acknowledged (embedded broker: no PUBACK, the
 * connection is closed — MQTT 3.1.1 has no negative acknowledgement; external broker: a PUBACK
 * with reason 0x97/0x99, so the broker drops it instead of redelivering), is counted, and is
 * quarantined with its reason (never its content).
 *
 * For the embedded broker, capFrames() also stops an oversized packet while it arrives: the
 * packet's length is known from its fixed header, so the connection is closed before the rest is
 * read into memory (a device could otherwise make the broker buffer up to 256 MB per packet).
 *
 * Rules: pure checks here; the broker decides what to do with them. capFrames patches aedes'
 * per-connection packet parser (mqtt-packet), and does nothing if that parser is not the expected
 * shape — the check in authorizePublish still holds then.
 */
import { isUtf8 } from 'node:buffer';
import type { Client } from 'aedes';
import type { TransportRefusal } from './ingest/queue.ts';

/** Room for the fixed header, topic and packet id around the largest payload. */
export const FRAME_HEADROOM = 1024;

export function oversized(bytes: number, max: number): TransportRefusal {
  return { kind: 'oversized', reason: `Tin nhắn ${bytes} byte, vượt giới hạn ${max} byte (payload too large: ${bytes} > ${max} bytes)` };
}

export function transportProblem(payload: Buffer, max: number): TransportRefusal | undefined {
  if (payload.length > max) return oversized(payload.length, max);
  if (!isUtf8(payload) || payload.includes(0)) return { kind: 'malformed', reason: 'Nội dung không phải văn bản UTF-8 (payload is not UTF-8 text)' };
  return undefined;
}

interface PacketParser {
  packet: { cmd?: string; length: number };
  _parseLength: () => boolean;
  _emitError: (err: Error) => void;
}

/**
 * Closes a connection as soon as a packet longer than maxFrame announces itself; onPublish is
 * told when that packet is a PUBLISH (with its length). Returns false if the parser could not be
 * watched.
 */
export function capFrames(client: Client, maxFrame: number, onPublish: (bytes: number) => void): boolean {
  const parser = (client as unknown as { _parser?: PacketParser })._parser;
  if (!parser || typeof parser._parseLength !== 'function' || typeof parser._emitError !== 'function') return false;
  const parseLength = parser._parseLength;
  parser._parseLength = function (this: PacketParser) {
    const done = parseLength.call(this);
    if (done && this.packet.length > maxFrame) {
      if (this.packet.cmd === 'publish') onPublish(this.packet.length);
      this._emitError(new Error(`MQTT packet of ${this.packet.length} bytes exceeds ${maxFrame}`));
      return false;
    }
    return done;
  };
  return true;
}
