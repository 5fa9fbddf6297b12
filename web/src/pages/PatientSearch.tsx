import type { Bundle, Organization, Patient } from '@medplum/fhirtypes';
import { useEffect, useState } from 'preact/hooks';
import { entries, fhirGet } from '../api.ts';
import { addressText, ageOf, BHYT_SYSTEM, CCCD_SYSTEM, displayName, genderLabel, identifier } from '../fhir-format.ts';
import { formatDate, t } from '../i18n.ts';
import { navigate, path } from '../router.ts';

/** Digits only = an identifier (CCCD); 2 letters + digits = a BHYT card; anything else = a name. */
function queryFor(text: string): string {
  const q = text.trim();
  if (/^\d{9,12}$/.test(q)) return `identifier=${encodeURIComponent(q)}`;
  if (/^[A-Za-z]{2}\d{13}$/.test(q)) return `identifier=${encodeURIComponent(q.toUpperCase())}`;
  return `name=${encodeURIComponent(q)}`;
}

export function PatientSearch() {
  const d = t();
  const initial = new URLSearchParams(path.value.split('?')[1] ?? '').get('q') ?? '';
  const [text, setText] = useState(initial);
  const [state, setState] = useState<{ loading: boolean; error?: string; patients: Patient[]; orgs: Map<string, string>; total?: number }>({
    loading: true,
    patients: [],
    orgs: new Map(),
  });

  useEffect(() => {
    const q = text.trim();
    let current = true; // a slower, older answer must not overwrite a newer one
    const handle = setTimeout(async () => {
      setState((s) => ({ ...s, loading: true, error: undefined }));
      try {
        const filter = q ? `${queryFor(q)}&` : '';
        const b = await fhirGet<Bundle>(`Patient?${filter}_count=50&_sort=family,given&_total=accurate&_include=Patient:organization`);
        const orgs = new Map(entries<Organization>(b, 'Organization').map((o) => [`Organization/${o.id}`, o.name ?? '']));
        if (!current) return;
        setState({ loading: false, patients: entries<Patient>(b, 'Patient'), orgs, total: b.total });
      } catch (e) {
        if (!current) return;
        setState({ loading: false, patients: [], orgs: new Map(), error: (e as Error).message });
      }
      if (!current) return;
      // Keep the query in the address so Back and a reload return to these results.
      if (location.pathname === '/' || location.pathname === '/patients') {
        history.replaceState(null, '', q ? `/patients?q=${encodeURIComponent(q)}` : '/patients');
      }
    }, 250);
    return () => {
      current = false;
      clearTimeout(handle);
    };
  }, [text]);

  return (
    <section>
      <h1>{d.searchTitle}</h1>
      <label class="search">
        <span class="sr-only">{d.searchTitle}</span>
        <input
          type="search"
          value={text}
          placeholder={d.searchPlaceholder}
          onInput={(e) => setText((e.target as HTMLInputElement).value)}
          autoFocus
          aria-describedby="search-hint"
        />
      </label>
      <p id="search-hint" class="hint">
        {d.searchHint}
      </p>
      {state.error && (
        <p class="error" role="alert">
          {d.errorPrefix}
          {state.error}
        </p>
      )}
      <p class="count" aria-live="polite">
        {state.loading ? d.searching : state.total !== undefined ? d.results(state.total) : ''}
      </p>
      {!state.loading && !state.error && state.patients.length === 0 && <p class="notice">{d.noResults}</p>}
      <ul class="patient-list">
        {state.patients.map((p) => {
          const age = ageOf(p.birthDate);
          return (
            <li key={p.id}>
              <a
                href={`/patients/${p.id}`}
                class="patient-card"
                onClick={(e) => {
                  e.preventDefault();
                  navigate(`/patients/${p.id}`);
                }}
              >
                <span class="patient-name">{displayName(p.name)}</span>
                <span class="meta">
                  {genderLabel(p.gender)} · {formatDate(p.birthDate)}
                  {age !== undefined ? ` (${d.age(age)})` : ''}
                </span>
                <span class="meta">
                  {d.cccd}: {identifier(p.identifier, CCCD_SYSTEM) ?? '—'} · {d.bhyt}: {identifier(p.identifier, BHYT_SYSTEM) ?? '—'}
                </span>
                <span class="meta">
                  {addressText(p)}
                  {p.managingOrganization?.reference ? ` · ${state.orgs.get(p.managingOrganization.reference) ?? ''}` : ''}
                </span>
              </a>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
