/**
 * Firing CDS hooks from the web app: patient-view once a chart is shown, order-select while a
 * prescription is being written, encounter-discharge once the visit note is signed (order-sign is
 * signGate.tsx; the citizen's appointment-book is BookingAdvice.tsx). Each call runs beside the
 * page (never before it) and a failure shows nothing: decision support never blocks the clinician.
 */
import { useEffect, useState } from 'preact/hooks';
import type { HookRequest, HookResult } from '../../../src/cds/contract.ts';
import { apiSend } from '../api.ts';
import { me } from '../session.ts';

const CLINICIANS = new Set(['commune_clinician', 'specialist']);

export async function fireHook(hook: string, body: HookRequest): Promise<HookResult | undefined> {
  if (!CLINICIANS.has(me.value?.role ?? '')) return undefined;
  return apiSend<HookResult>('POST', `/api/cds/hooks/${hook}`, body).catch(() => undefined);
}

export function usePatientViewCards(patientId: string, ready: boolean): HookResult | undefined {
  const [result, setResult] = useState<HookResult>();
  useEffect(() => {
    if (!ready) return;
    let live = true;
    void fireHook('patient-view', { patientId }).then((r) => live && setResult(r));
    return () => {
      live = false;
    };
  }, [patientId, ready]);
  return result;
}

/** order-select for the medicines chosen so far (those with an ATC code from the dictionary). */
export function useOrderSelectCards(patientId: string | undefined, items: { name: string; atc?: string }[]): HookResult | undefined {
  const [result, setResult] = useState<HookResult>();
  const chosen = items.filter((i) => i.name.trim() && i.atc);
  const key = chosen.map((i) => i.atc).join(',');
  useEffect(() => {
    if (!patientId || !chosen.length) return setResult(undefined);
    let live = true;
    void fireHook('order-select', { patientId, items: chosen.map((i) => ({ name: i.name.trim(), atc: i.atc })), selections: [chosen.length - 1] }).then(
      (r) => live && setResult(r),
    );
    return () => {
      live = false;
    };
  }, [patientId, key]);
  return result;
}

/** encounter-discharge, fired once the visit note is signed: its cards, and the call to make. */
export function useEncounterDischarge(): [HookResult | undefined, (patientId: string, encounterId: string) => void] {
  const [result, setResult] = useState<HookResult>();
  const fire = (patientId: string, encounterId: string) => void fireHook('encounter-discharge', { patientId, encounterId }).then(setResult);
  return [result, fire];
}
