/**
 * Requests written without a network: kept in IndexedDB (attachments included) and sent when the
 * network returns. Each carries its client id, so the server stores it exactly once however many
 * times it is sent.
 */
import { get, set } from 'idb-keyval';
import { signal } from '@preact/signals';
import type { AttachmentInput, CreateRequestResult, RequestInput } from '../../src/consult/contract.ts';
import { apiSend } from './api.ts';

/** An attachment as the server takes it, less the patient (the request's). */
export type PendingAttachment = Omit<AttachmentInput, 'patientId' | 'contentType'> & { contentType: string };

export interface PendingRequest {
  clientId: string;
  patientId: string;
  /** The request as sent, less the attachments' server ids (known once they are uploaded). */
  body: Omit<RequestInput, 'attachmentIds'>;
  attachments: PendingAttachment[];
  savedAt: string;
}

const KEY = 'cauyte-consult-outbox';
export const pendingCount = signal(0);

async function all(): Promise<PendingRequest[]> {
  return ((await get(KEY)) as PendingRequest[] | undefined) ?? [];
}

export async function queueRequest(r: PendingRequest): Promise<void> {
  const list = (await all()).filter((x) => x.clientId !== r.clientId);
  list.push(r);
  await set(KEY, list);
  pendingCount.value = list.length;
}

/** Requests the server refused by a business rule (422, e.g. no support agreement in force), by client id: the form shows the message; the request leaves the outbox (sending it again cannot succeed). */
export const refusals = signal<Record<string, string>>({});

let flushing: Promise<number> | undefined;

/** Sends every pending request; returns how many were sent. Safe to call often. */
export function flushOutbox(): Promise<number> {
  flushing ??= (async () => {
    let sent = 0;
    for (const r of await all()) {
      try {
        const ids: string[] = [];
        for (const a of r.attachments) {
          const doc = await apiSend<{ id: string }>('POST', '/api/attachments', { ...a, patientId: r.patientId });
          ids.push(doc.id);
        }
        await apiSend<CreateRequestResult>('POST', '/api/consults', { ...r.body, attachmentIds: ids } satisfies RequestInput);
        await set(
          KEY,
          (await all()).filter((x) => x.clientId !== r.clientId),
        );
        sent++;
      } catch (e) {
        if ((e as { status?: number }).status === 0) break; // still offline: try again later
        if ((e as { status?: number }).status === 422) {
          await set(
            KEY,
            (await all()).filter((x) => x.clientId !== r.clientId),
          );
          refusals.value = { ...refusals.value, [r.clientId]: (e as Error).message };
          continue;
        }
        // Refused by the server (e.g. invalid): keep it so the person can see and fix it.
      }
    }
    pendingCount.value = (await all()).length;
    return sent;
  })().finally(() => {
    flushing = undefined;
  });
  return flushing;
}

export async function refreshPending(): Promise<void> {
  pendingCount.value = (await all()).length;
}

window.addEventListener('online', () => void flushOutbox());
