/**
 * The national e-prescription's kind on the prescribing form (TT 26/2025; letters of the code in
 * src/visits/contract.ts): ordinary, narcotic, psychotropic/precursor, traditional medicine. For
 * the controlled kinds (n, h) the prescriber confirms and names the ID of the patient or the person
 * collecting the medicine; the server refuses such a prescription without them.
 * Form fields: rxKind, rxConfirmed, rxIdNumber (read by the form's submit, VisitDesk.tsx).
 */
import { useState } from 'preact/hooks';
import type { PrescriptionKind } from '../../../../src/visits/contract.ts';
import { tf } from '../../i18n-formats.ts';

// As PRESCRIPTION_KINDS / CONTROLLED_KINDS in src/visits/contract.ts (imported type-only there: zod stays out of the bundle).
const PRESCRIPTION_KINDS: readonly PrescriptionKind[] = ['c', 'n', 'h', 'y'];
const CONTROLLED_KINDS: readonly PrescriptionKind[] = ['n', 'h'];

export function PrescriptionKindFields() {
  const d = tf();
  const [kind, setKind] = useState<PrescriptionKind>('c');
  const controlled = CONTROLLED_KINDS.includes(kind);
  return (
    <div class="rx-kind">
      <label>
        {d.rxKind}
        <select name="rxKind" value={kind} onChange={(e) => setKind((e.target as HTMLSelectElement).value as PrescriptionKind)}>
          {PRESCRIPTION_KINDS.map((k) => (
            <option key={k} value={k}>
              {d.rxKinds[k]}
            </option>
          ))}
        </select>
      </label>
      {controlled && (
        <div class="controlled" role="group" aria-label={d.rxKinds[kind]}>
          <p class="notice">{d.rxControlledNote}</p>
          <label class="check">
            <input type="checkbox" name="rxConfirmed" /> {d.rxConfirm}
          </label>
          <label>
            {d.rxIdNumber}
            <input name="rxIdNumber" inputMode="text" maxLength={12} pattern="\d{9}|\d{12}|[A-Z]\d{7}" />
          </label>
        </div>
      )}
    </div>
  );
}

/** The prescription's kind fields from the submitted form; `missing` when a controlled kind lacks the confirmation. */
export function prescriptionKindOf(f: FormData): { kind: PrescriptionKind; controlled?: { confirmed: true; idNumber: string }; missing: boolean } {
  const kind = (String(f.get('rxKind') ?? 'c') as PrescriptionKind) || 'c';
  if (!CONTROLLED_KINDS.includes(kind)) return { kind, missing: false };
  const idNumber = String(f.get('rxIdNumber') ?? '').trim();
  if (f.get('rxConfirmed') !== 'on' || !idNumber) return { kind, missing: true };
  return { kind, controlled: { confirmed: true, idNumber }, missing: false };
}
