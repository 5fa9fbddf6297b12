/** Searchable Vietnamese ICD-10 picker (accents optional). */
import { useEffect, useState } from 'preact/hooks';
import { apiGet } from '../api.ts';
import { t } from '../i18n.ts';

export interface Icd {
  code: string;
  display: string;
}

export function Icd10Picker({ label, value, onChange, name }: { label: string; value?: Icd; onChange: (v: Icd | undefined) => void; name: string }) {
  const d = t();
  const [q, setQ] = useState(value ? `${value.code} ${value.display}` : '');
  const [options, setOptions] = useState<Icd[]>([]);
  useEffect(() => {
    if (!q.trim() || (value && q === `${value.code} ${value.display}`)) return setOptions([]);
    const h = setTimeout(() => apiGet<Icd[]>(`/api/terminology/icd10?q=${encodeURIComponent(q)}`).then(setOptions, () => setOptions([])), 200);
    return () => clearTimeout(h);
  }, [q]);
  return (
    <label class="icd">
      {label}
      <input
        name={name}
        value={q}
        placeholder={d.icdPlaceholder}
        autoComplete="off"
        onInput={(e) => {
          setQ((e.target as HTMLInputElement).value);
          onChange(undefined);
        }}
      />
      {options.length > 0 && (
        <ul class="options" role="listbox">
          {options.map((o) => (
            <li key={o.code}>
              <button
                type="button"
                role="option"
                onClick={() => {
                  onChange(o);
                  setQ(`${o.code} ${o.display}`);
                  setOptions([]);
                }}
              >
                <code>{o.code}</code> {o.display}
              </button>
            </li>
          ))}
        </ul>
      )}
    </label>
  );
}
