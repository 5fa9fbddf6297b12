/**
 * Administration: facilities and their services (open or close a service of one's own facility),
 * with staff and device counts; the device fleet itself is managed on /devices. A system
 * administrator searches facilities by name (server-side); a facility administrator sees their own.
 */
import { FleetTab } from './Fleet.tsx';
import { useEffect, useState } from 'preact/hooks';
import type { AdminChanged, AdminFacility } from '../../../../src/auth/admin-contract.ts';
import { apiGet, apiSend } from '../../api.ts';
import { ta } from '../../i18n-admin.ts';
import { me } from '../../session.ts';

export function FacilitiesTab({ facilities, search }: { facilities: AdminFacility[]; search(q: string): Promise<void> }) {
  const a = ta();
  const [q, setQ] = useState('');
  const [error, setError] = useState<string>();
  const sys = me.value?.role === 'system_admin';
  return (
    <section aria-labelledby="facilities-h">
      <h2 id="facilities-h">{a.tabFacilities}</h2>
      {sys && (
        <form
          class="toolbar admin-filter"
          role="search"
          onSubmit={(e) => {
            e.preventDefault();
            void search(q);
          }}
        >
          <label>
            <span class="sr-only">{a.searchFacilities}</span>
            <input type="search" value={q} placeholder={a.searchFacilities} onInput={(e) => setQ((e.target as HTMLInputElement).value)} />
          </label>
          <button type="submit">{a.search}</button>
        </form>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <ul class="admin-list">
        {facilities.map((f) => (
          <li class="card admin-item" key={f.id}>
            <div class="admin-head">
              <strong>{f.name}</strong>
            </div>
            {f.address && <div class="meta">{f.address}</div>}
            <div class="meta">
              {a.staffCount(f.staff)} · {a.deviceCount(f.devices)}
            </div>
            <h3 class="admin-sub">{a.services}</h3>
            {f.services.length === 0 && <p class="meta">{a.noServices}</p>}
            <ul class="admin-services">
              {f.services.map((s) => (
                <li key={s.id} class="row">
                  <span>{s.name}</span>
                  <span class={`badge ${s.active ? 'on' : 'off'}`}>{s.active ? a.open : a.closed}</span>
                  {!sys && (
                    <button
                      type="button"
                      onClick={async () => {
                        try {
                          await apiSend<AdminChanged>('POST', `/api/admin/services/${s.id}/active`, { active: !s.active });
                          await search(q);
                        } catch (err) {
                          setError((err as Error).message);
                        }
                      }}
                    >
                      {s.active ? a.closeService : a.openService}
                    </button>
                  )}
                </li>
              ))}
            </ul>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function DevicesTab() {
  const a = ta();
  if (me.value?.role !== 'facility_admin') return <p class="notice">{a.devicesNotYours}</p>;
  return <FleetTab />;
}

/** Loads the facilities the administrator may see (for the pickers and the facilities tab). */
export function useFacilities(): [AdminFacility[], (q: string) => Promise<void>] {
  const [list, setList] = useState<AdminFacility[]>([]);
  const search = (q: string) => apiGet<AdminFacility[]>(`/api/admin/facilities${q ? `?q=${encodeURIComponent(q)}` : ''}`).then(setList, () => setList([]));
  useEffect(() => void search(''), []);
  return [list, search];
}
