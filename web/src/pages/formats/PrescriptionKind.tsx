/**
 * The national e-prescription's kind on the prescribing form (TT 26/2025; letters of the code in
 * src/visits/contract.ts): ordinary, narcotic, psychotropic/precursor, traditional medicine. For
 * the controlled kinds (n, h) the prescriber confirms and names the ID of the patient or the person
 * collecting the medicine; the server refuses such a prescription without them.
 * As soon as a medicine under special control is written (picked from the dictionary or typed by
 * its INN: src/terminology/controlled.ts, unverified against the Ministry's lists), the form moves
 * an ordinary or traditional prescription to the kind that medicine needs and says why; the
 * prescriber may still change it (the server refuses only an uncontrolled kind).
 * Form fields: rxKind, rxConfirmed, rxIdNumber (read by the form's submit, VisitDesk.tsx).
 */
import { useEffect, useState } from 'preact/hooks';
import type { PrescriptionKind } from '../../../../src/visits/contract.ts';
import { controlledClassOfAtc, controlledClassOfName, controlledKindOf } from '../../../../src/terminology/controlled.ts';
import { tf } from '../../i18n-formats.ts';

// As PRESCRIPTION_KINDS / CONTROLLED_KINDS in src/visits/contract.ts (imported type-only there: zod stays out of the bundle).
const PRESCRIPTION_KINDS: readonly PrescriptionKind[] = ['c', 'n', 'h', 'y'];
const CONTROLLED_KINDS: readonly PrescriptionKind[] = ['n', 'h'];

/** The first medicine of the list under special control, with its class and the kind it needs. */
export function controlledSuggestion(items: { name: string; atc?: string }[]): { name: string; atcClass: string; kind: 'n' | 'h' } | undefined {
  for (const item of items) {
    const atcClass = (item.atc && controlledClassOfAtc(item.atc)) || controlledClassOfName(item.name);
    if (atcClass) return { name: item.name.trim(), atcClass, kind: controlledKindOf(atcClass) };
  }
  return undefined;
}

export function PrescriptionKindFields({ items = [] }: { items?: { name: string; atc?: string }[] }) {
  const d = tf();
  const [kind, setKind] = useState<PrescriptionKind>('c');
  const controlled = CONTROLLED_KINDS.includes(kind);
  const suggestion = controlledSuggestion(items);
  // A controlled medicine on an ordinary or traditional prescription: move to the kind it needs (once per
  // medicine and kind; the prescriber may change it back between n and h).
  useEffect(() => {
    if (suggestion && !CONTROLLED_KINDS.includes(kind)) setKind(suggestion.kind);
  }, [suggestion?.name, suggestion?.kind]);
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
      {suggestion && (
        <p class={`rx-suggest${controlled ? '' : ' wrong'}`} role="status">
          {d.rxControlledSuggest(suggestion.name, suggestion.atcClass, d.rxKinds[suggestion.kind])}
        </p>
      )}
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
