/**
 * The facility register (/programme/facilities): search, edit on screen (a system administrator
 * any facility; a facility administrator the name, place and phone of their own), and — for a
 * system administrator — the CSV import, whose bad lines are listed with their line numbers.
 * Each facility's bridge-point readiness opens under it; staff see their own site's readiness at
 * the top and run its equipment check there (BridgeReadiness).
 */
import { useEffect, useState } from 'preact/hooks';
import { apiGet, apiSend } from '../../api.ts';
import { t } from '../../i18n.ts';
import { tp } from '../../i18n-programme.ts';
import { me } from '../../session.ts';
import type { FacilityInput, FacilityView, ImportResult } from '../../../../src/programme/contract.ts';
import { BridgeReadiness } from './BridgeReadiness.tsx';

function EditForm({ f, provinces, onDone }: { f: FacilityView; provinces: { code: number; name: string }[]; onDone: (v?: FacilityView) => void }) {
  const d = tp();
  const admin = me.value?.role === 'system_admin';
  const [error, setError] = useState<string>();
  const onSubmit = async (e: Event) => {
    e.preventDefault();
    const x = new FormData(e.target as HTMLFormElement);
    const body: FacilityInput = {
      code: String(x.get('code')),
      name: String(x.get('name')),
      level: String(x.get('level')) as FacilityInput['level'],
      owner: String(x.get('owner')) as FacilityInput['owner'],
      provinceCode: Number(x.get('province')),
      communeCode: Number(x.get('commune')),
    };
    try {
      onDone(await apiSend<FacilityView>('PUT', `/api/programme/facilities/${f.id}`, body));
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <form class="card" onSubmit={onSubmit}>
      {error && <p class="error">{error}</p>}
      <label>
        {d.code}
        <input name="code" value={f.code} readOnly={!admin} maxLength={5} minLength={5} required />
      </label>
      <label>
        {d.name}
        <input name="name" value={f.name} required maxLength={200} />
      </label>
      <label>
        {d.level}
        <select name="level" value={f.level} disabled={!admin}>
          {['central', 'provincial', 'regional', 'commune', 'private'].map((l) => (
            <option key={l} value={l}>
              {d.levels[l]}
            </option>
          ))}
        </select>
        {!admin && <input type="hidden" name="level" value={f.level} />}
      </label>
      <label>
        {d.owner}
        <select name="owner" value={f.owner} disabled={!admin}>
          <option value="public">{d.owners.public}</option>
          <option value="private">{d.owners.private}</option>
        </select>
        {!admin && <input type="hidden" name="owner" value={f.owner} />}
      </label>
      <label>
        {d.province}
        <select name="province" value={String(f.provinceCode)}>
          {provinces.map((p) => (
            <option key={p.code} value={String(p.code)}>
              {p.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        {d.commune} ({d.code})
        <input name="commune" type="number" value={String(f.communeCode)} required />
      </label>
      <p class="actions">
        <button type="submit">{d.save}</button>
        <button type="button" class="secondary" onClick={() => onDone()}>
          {d.cancel}
        </button>
      </p>
    </form>
  );
}

export function FacilityRegister() {
  const d = tp();
  const g = t();
  const m = me.value;
  const admin = m?.role === 'system_admin';
  const [q, setQ] = useState('');
  const [list, setList] = useState<FacilityView[]>();
  const [provinces, setProvinces] = useState<{ code: number; name: string }[]>([]);
  const [editing, setEditing] = useState<string>();
  const [showReady, setShowReady] = useState<string>();
  const [imported, setImported] = useState<ImportResult>();
  const [error, setError] = useState<string>();
  const load = (text = q) =>
    apiGet<FacilityView[]>(`/api/programme/facilities?limit=100${text ? `&q=${encodeURIComponent(text)}` : ''}`).then(setList, (e) =>
      setError((e as Error).message),
    );
  useEffect(() => {
    void load('');
    apiGet<{ code: number; name: string }[]>('/api/programme/provinces').then(setProvinces, () => undefined);
  }, []);
  const onImport = async (e: Event) => {
    e.preventDefault();
    const file = (new FormData(e.target as HTMLFormElement).get('file') as File | null) ?? undefined;
    if (!file) return;
    setError(undefined);
    try {
      setImported(await apiSend<ImportResult>('POST', '/api/programme/facilities/import', { csv: await file.text() }));
      void load();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <section>
      <h1>{d.facilitiesTitle}</h1>
      {error && <p class="error">{error}</p>}
      {m?.organizationId && m.role !== 'analyst' && <BridgeReadiness orgId={m.organizationId} canCheck />}
      <form
        class="search"
        onSubmit={(e) => {
          e.preventDefault();
          void load();
        }}
      >
        <input type="search" aria-label={d.search} placeholder={d.search} value={q} onInput={(e) => setQ((e.target as HTMLInputElement).value)} />
        <button type="submit">{d.apply}</button>
      </form>
      {list === undefined ? (
        <p class="notice">{g.loading}</p>
      ) : (
        <ul class="patient-list">
          {list.map((f) => (
            <li key={f.id}>
              <strong>{f.name}</strong>{' '}
              <span class="meta">
                {f.code} · {d.levels[f.level]} · {d.owners[f.owner]} · {f.communeName}, {f.provinceName} · {d.unitStatus[f.unitStatus]}
              </span>{' '}
              {(admin || m?.organizationId === f.id) && (
                <button type="button" class="link" onClick={() => setEditing(editing === f.id ? undefined : f.id)}>
                  {d.edit}
                </button>
              )}
              <button type="button" class="link" onClick={() => setShowReady(showReady === f.id ? undefined : f.id)}>
                {d.readiness}
              </button>
              {showReady === f.id && <BridgeReadiness orgId={f.id} canCheck={false} />}
              {editing === f.id && (
                <EditForm
                  f={f}
                  provinces={provinces}
                  onDone={(v) => {
                    setEditing(undefined);
                    if (v) setList(list.map((x) => (x.id === v.id ? v : x)));
                  }}
                />
              )}
            </li>
          ))}
        </ul>
      )}
      {admin && (
        <form class="card" onSubmit={onImport}>
          <h2>{d.importTitle}</h2>
          <p class="hint">{d.importHint}</p>
          <input type="file" name="file" accept=".csv,text/csv" aria-label={d.importTitle} required />
          <button type="submit">{d.importTitle}</button>
          {imported && (
            <div data-testid="import-result">
              <p>{d.importResult(imported.created, imported.updated, imported.unchanged, imported.errors.length)}</p>
              <ul>
                {imported.errors.slice(0, 200).map((x) => (
                  <li key={x.line}>
                    {d.line(x.line)}: {x.message}
                  </li>
                ))}
              </ul>
            </div>
          )}
        </form>
      )}
    </section>
  );
}
