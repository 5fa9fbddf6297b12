/**
 * The medicine field of an e-prescription: type a few letters (accents optional) or an ATC code
 * and pick from the drug dictionary (GET /api/terminology/drugs) — the pick carries the WHO ATC
 * code the safety checks use. A name typed without picking stays free text (and is matched by name).
 */
import { useEffect, useState } from 'preact/hooks';
import type { DrugOption } from '../../../src/visits/contract.ts';
import { apiGet } from '../api.ts';
import { tc } from '../i18n-clinic.ts';

export function DrugPicker({
  label,
  name,
  value,
  atc,
  onChange,
}: {
  label: string;
  name: string;
  value: string;
  atc?: string;
  onChange: (name: string, atc?: string) => void;
}) {
  const c = tc();
  const [options, setOptions] = useState<DrugOption[]>([]);
  const [open, setOpen] = useState(false);
  useEffect(() => {
    if (!open || value.trim().length < 2) return setOptions([]);
    const h = setTimeout(() => apiGet<DrugOption[]>(`/api/terminology/drugs?q=${encodeURIComponent(value)}`).then(setOptions, () => setOptions([])), 200);
    return () => clearTimeout(h);
  }, [value, open]);
  const strength = (o: DrugOption) => o.forms.split(';')[0].replace(/^\D+/, '').trim();
  return (
    <div class="drug-picker">
      <label>
        {label}
        <input
          name={name}
          value={value}
          autoComplete="off"
          placeholder={c.drugPickHint}
          onInput={(e) => {
            setOpen(true);
            onChange((e.target as HTMLInputElement).value, undefined);
          }}
        />
      </label>
      {atc && (
        <span class="atc-chip" title="WHO ATC">
          ATC {atc}
        </span>
      )}
      {open && options.length > 0 && (
        <ul class="options" role="listbox" aria-label={c.drugPick}>
          {options.map((o) => (
            <li key={o.atc}>
              <button
                type="button"
                role="option"
                onClick={() => {
                  const s = strength(o);
                  onChange(s ? `${o.name} ${s}` : o.name, o.atc);
                  setOpen(false);
                }}
              >
                <strong>{o.name}</strong> <code>{o.atc}</code>
                <span class="meta"> · {o.groupName}</span>
                <span class="meta"> · {o.forms}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
