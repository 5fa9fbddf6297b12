/**
 * A searchable picker over thousands of entries: what is typed is searched on the server (FHIR
 * name search, accents optional), at most 20 results shown; picked entries show as removable
 * chips. Keyboard: type, Tab to a result, Enter/Space to pick. Used for facilities (bridge points),
 * practitioners (participants) and the chair (single).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { tm } from '../i18n-meetings.ts';

export interface Choice {
  id: string;
  name: string;
  detail?: string;
}

export function SearchPicker(props: {
  label: string;
  search(q: string): Promise<Choice[]>;
  value: Choice[];
  onChange(v: Choice[]): void;
  single?: boolean;
  name: string;
}) {
  const m = tm();
  const [q, setQ] = useState('');
  const [results, setResults] = useState<Choice[]>([]);
  const [busy, setBusy] = useState(false);
  const seq = useRef(0);
  useEffect(() => {
    if (q.trim().length < 2) {
      setResults([]);
      return;
    }
    const n = ++seq.current;
    const timer = setTimeout(() => {
      setBusy(true);
      props.search(q.trim()).then(
        (r) => n === seq.current && (setResults(r), setBusy(false)),
        () => n === seq.current && (setResults([]), setBusy(false)),
      );
    }, 250);
    return () => clearTimeout(timer);
  }, [q]);
  const picked = new Set(props.value.map((v) => v.id));
  const inputId = `pick-${props.name}`;
  return (
    <fieldset class="picker" data-picker={props.name}>
      <legend>{props.label}</legend>
      {props.value.length > 0 && (
        <ul class="chips" aria-label={m.selected}>
          {props.value.map((v) => (
            <li key={v.id} class="chip">
              <span>{v.name}</span>
              <button type="button" aria-label={m.remove(v.name)} onClick={() => props.onChange(props.value.filter((x) => x.id !== v.id))}>
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      <label for={inputId} class="sr-only">
        {m.search(props.label)}
      </label>
      <input
        id={inputId}
        type="search"
        value={q}
        placeholder={m.search(props.label)}
        autoComplete="off"
        onInput={(e) => setQ((e.target as HTMLInputElement).value)}
      />
      <p class="meta" aria-live="polite">
        {q.trim().length < 2 ? m.typeToSearch : busy ? '…' : results.length === 0 ? m.noMatch : ''}
      </p>
      {results.length > 0 && (
        <ul class="picker-results">
          {results.map((r) => (
            <li key={r.id}>
              <button
                type="button"
                aria-pressed={picked.has(r.id)}
                disabled={picked.has(r.id)}
                onClick={() => {
                  props.onChange(props.single ? [r] : [...props.value, r]);
                  if (props.single) setQ('');
                }}
              >
                {r.name}
                {r.detail && <span class="meta"> · {r.detail}</span>}
              </button>
            </li>
          ))}
        </ul>
      )}
    </fieldset>
  );
}
