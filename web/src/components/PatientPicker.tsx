/**
 * Pick a patient by name (accents optional) or CCCD/BHYT number — never by typing a record id.
 * Searches through the FHIR API, so only patients the person may reach are offered.
 */
import type { Bundle, Patient } from '@medplum/fhirtypes';
import { useEffect, useState } from 'preact/hooks';
import { entries, fhirGet } from '../api.ts';
import { CCCD_SYSTEM, displayName, identifier } from '../fhir-format.ts';
import { formatDate } from '../i18n.ts';

const queryFor = (q: string) =>
  /^\d{9,12}$/.test(q) || /^[A-Za-z]{2}\d{13}$/.test(q) ? `identifier=${encodeURIComponent(q.toUpperCase())}` : `name=${encodeURIComponent(q)}`;

export function PatientPicker({
  label,
  hint,
  initialId,
  onChange,
}: {
  label: string;
  hint: string;
  initialId?: string;
  onChange: (id: string | undefined) => void;
}) {
  const [q, setQ] = useState('');
  const [options, setOptions] = useState<Patient[]>([]);
  const [picked, setPicked] = useState<Patient>();
  // A page opened for one patient (?patient=) starts with that patient picked, by name.
  useEffect(() => {
    if (!initialId) return;
    void fhirGet<Patient>(`Patient/${encodeURIComponent(initialId)}`).then(
      (p) => {
        setPicked(p);
        onChange(p.id);
      },
      () => undefined,
    );
  }, [initialId]);
  useEffect(() => {
    const text = q.trim();
    if (text.length < 2) return setOptions([]);
    const h = setTimeout(
      () =>
        fhirGet<Bundle>(`Patient?${queryFor(text)}&_count=10&_sort=family,given`).then(
          (b) => setOptions(entries<Patient>(b, 'Patient')),
          () => setOptions([]),
        ),
      250,
    );
    return () => clearTimeout(h);
  }, [q]);
  const describe = (p: Patient) =>
    `${displayName(p.name)} · ${formatDate(p.birthDate)}${identifier(p.identifier, CCCD_SYSTEM) ? ` · CCCD ${identifier(p.identifier, CCCD_SYSTEM)}` : ''}`;
  return (
    <div class="drug-picker patient-picker">
      <label>
        {label}
        <input
          value={picked ? describe(picked) : q}
          placeholder={hint}
          autoComplete="off"
          required
          onInput={(e) => {
            setPicked(undefined);
            onChange(undefined);
            setQ((e.target as HTMLInputElement).value);
          }}
        />
      </label>
      {!picked && options.length > 0 && (
        <ul class="options" role="listbox" aria-label={label}>
          {options.map((p) => (
            <li key={p.id}>
              <button
                type="button"
                role="option"
                onClick={() => {
                  setPicked(p);
                  setOptions([]);
                  onChange(p.id);
                }}
              >
                {describe(p)}
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
