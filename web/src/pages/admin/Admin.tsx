/**
 * The administrators' page (facility and system administrators): accounts, connected apps,
 * facilities and services, devices — one tab each, the tab kept in the address (?tab=).
 */
import { ta } from '../../i18n-admin.ts';
import { navigate, path } from '../../router.ts';
import { AccountsTab } from './Accounts.tsx';
import { ClientsTab } from './Clients.tsx';
import { DevicesTab, FacilitiesTab, useFacilities } from './Facilities.tsx';
import '../../admin.css';
import { CdsRegistry } from '../../cds/CdsRegistry.tsx';
import { tcds } from '../../i18n-cds.ts';
import { me } from '../../session.ts';

const TABS = ['accounts', 'clients', 'facilities', 'devices', 'cds'] as const;
type Tab = (typeof TABS)[number];

export function AdminPage() {
  const a = ta();
  const wanted = new URLSearchParams(path.value.split('?')[1] ?? '').get('tab');
  const tab: Tab = (TABS as readonly string[]).includes(wanted ?? '') ? (wanted as Tab) : 'accounts';
  const [facilities, search] = useFacilities();
  const label: Record<Tab, string> = { accounts: a.tabAccounts, clients: a.tabClients, facilities: a.tabFacilities, devices: a.tabDevices, cds: tcds().tabCds };
  // The AI/CDS registry is the system administrator's.
  const shown = TABS.filter((t) => t !== 'cds' || me.value?.role === 'system_admin');
  return (
    <section class="admin">
      <h1>{a.adminTitle}</h1>
      <nav class="tabs" aria-label={a.adminTitle}>
        {shown.map((t) => (
          <button
            key={t}
            type="button"
            class={`tab${t === tab ? ' active' : ''}`}
            aria-current={t === tab ? 'page' : undefined}
            onClick={() => navigate(`/admin?tab=${t}`)}
          >
            {label[t]}
          </button>
        ))}
      </nav>
      {tab === 'accounts' && <AccountsTab facilities={facilities} />}
      {tab === 'clients' && <ClientsTab />}
      {tab === 'facilities' && <FacilitiesTab facilities={facilities} search={search} />}
      {tab === 'devices' && <DevicesTab />}
      {tab === 'cds' && shown.includes('cds') && <CdsRegistry />}
    </section>
  );
}
