/**
 * Administration: accounts. Server-side search and paging (thousands of accounts), create a staff
 * account, disable / enable, reset the second factor, change the role. Every action that changes
 * something asks for a reason (recorded in the audit trail). What the server refuses (another
 * facility's account) is shown as its readable message. Types: src/auth/admin-contract.ts.
 */
import { useEffect, useState } from 'preact/hooks';
import type { AccountCreated, AccountRequest, AccountStateChanged } from '../../../../src/auth/contract.ts';
import type { AdminAccount, AdminAccountPage, AdminChanged, AdminFacility } from '../../../../src/auth/admin-contract.ts';
import { apiGet, apiSend } from '../../api.ts';
import { formatDateTime, lang } from '../../i18n.ts';
import { ta } from '../../i18n-admin.ts';
import { me } from '../../session.ts';
import { ROLE_CHOICES, RoleLabel } from './shared.tsx';

const PAGE = 20;
const CLINICAL = new Set(['commune_clinician', 'specialist', 'coordinator']);

/** What the server lets this administrator change (admin-routes.ts assertManagesAccount): buttons only for those. */
function manageable(acc: AdminAccount): boolean {
  const m = me.value;
  if (!m || acc.id === m.accountId || acc.kind === 'citizen') return false;
  if (m.role === 'system_admin') return true;
  return acc.roles.length > 0 && acc.roles.every((r) => r.organizationId === m.organizationId && CLINICAL.has(r.role));
}

type Pending = { id: string; kind: 'disable' | 'enable' | 'reset' | 'roles' };

export function AccountsTab({ facilities }: { facilities: AdminFacility[] }) {
  const a = ta();
  const [q, setQ] = useState('');
  const [state, setState] = useState('');
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState<AdminAccountPage>();
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const [pending, setPending] = useState<Pending>();
  const load = (o = offset) =>
    apiGet<AdminAccountPage>(`/api/admin/accounts?limit=${PAGE}&offset=${o}${q ? `&q=${encodeURIComponent(q)}` : ''}${state ? `&state=${state}` : ''}`).then(
      (r) => {
        setPage(r);
        setError(undefined);
      },
      (e) => setError((e as Error).message),
    );
  useEffect(() => void load(0), [state]);

  const act = async (account: AdminAccount, p: Pending, reason: string, role?: { role: string; organizationId: string }) => {
    try {
      if (p.kind === 'disable' || p.kind === 'enable')
        await apiSend<AccountStateChanged>('POST', `/api/accounts/${account.id}/${p.kind}`, reason ? { reason } : {});
      else if (p.kind === 'reset') await apiSend<AdminChanged>('POST', `/api/admin/accounts/${account.id}/reset-mfa`, { reason });
      else await apiSend<AdminChanged>('PUT', `/api/admin/accounts/${account.id}/roles`, { roles: [role!], reason: reason || undefined });
      setPending(undefined);
      setNotice(`${account.username}: ${a.done}`);
      await load();
    } catch (e) {
      setError((e as Error).message);
    }
  };

  return (
    <section aria-labelledby="accounts-h">
      <h2 id="accounts-h">{a.tabAccounts}</h2>
      <NewAccount facilities={facilities} onCreated={(u) => (setNotice(a.created(u)), load(0))} />
      <form
        class="toolbar admin-filter"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setOffset(0);
          void load(0);
        }}
      >
        <label>
          <span class="sr-only">{a.searchAccounts}</span>
          <input type="search" value={q} placeholder={a.searchAccounts} onInput={(e) => setQ((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          <span class="sr-only">{a.state}</span>
          <select value={state} onChange={(e) => setState((e.target as HTMLSelectElement).value)}>
            <option value="">{a.allStates}</option>
            <option value="active">{a.active}</option>
            <option value="disabled">{a.disabled}</option>
          </select>
        </label>
        <button type="submit">{a.search}</button>
      </form>
      {notice && (
        <p class="ok" role="status">
          {notice}
        </p>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {page && <p class="meta">{a.shown(page.items.length, page.total)}</p>}
      {page?.items.length === 0 && <p class="notice">{a.noAccounts}</p>}
      <ul class="admin-list">
        {page?.items.map((acc) => (
          <li class="card admin-item" key={acc.id} data-username={acc.username}>
            <div class="admin-head">
              <strong>{acc.displayName}</strong> <span class="meta">{acc.username}</span>{' '}
              <span class={`badge ${acc.disabled ? 'off' : 'on'}`}>
                {acc.disabled ? (acc.disabledReason === 'inactive' ? a.disabledInactive : a.disabled) : a.active}
              </span>
            </div>
            <div class="meta">
              {acc.kind === 'staff' ? a.kindStaff : acc.kind === 'citizen' ? a.kindCitizen : a.kindService}
              {acc.roles.map((r) => (
                <span key={`${r.role}${r.organizationId}`}>
                  {' · '}
                  <RoleLabel role={r} />
                </span>
              ))}
            </div>
            <div class="meta">
              {a.secondFactor}: {acc.totpEnabled ? a.mfaOn : a.mfaOff} · {a.lastActive}: {acc.lastActiveAt ? formatDateTime(acc.lastActiveAt) : a.never}
            </div>
            {manageable(acc) && (
              <div class="row admin-actions">
                {acc.disabled ? (
                  <button type="button" onClick={() => setPending({ id: acc.id, kind: 'enable' })}>
                    {a.enable}
                  </button>
                ) : (
                  <button type="button" class="danger" onClick={() => setPending({ id: acc.id, kind: 'disable' })}>
                    {a.disable}
                  </button>
                )}
                {acc.totpEnabled && (
                  <button type="button" onClick={() => setPending({ id: acc.id, kind: 'reset' })}>
                    {a.resetMfa}
                  </button>
                )}
                {acc.kind === 'staff' && (
                  <button type="button" onClick={() => setPending({ id: acc.id, kind: 'roles' })}>
                    {a.editRoles}
                  </button>
                )}
              </div>
            )}
            {pending?.id === acc.id && (
              <Confirm
                account={acc}
                pending={pending}
                facilities={facilities}
                onCancel={() => setPending(undefined)}
                onConfirm={(r, role) => act(acc, pending, r, role)}
              />
            )}
          </li>
        ))}
      </ul>
      {page && page.total > PAGE && (
        <nav class="row" aria-label={a.tabAccounts}>
          <button
            type="button"
            disabled={offset === 0}
            onClick={() => {
              const o = Math.max(0, offset - PAGE);
              setOffset(o);
              void load(o);
            }}
          >
            {a.prev}
          </button>
          <button
            type="button"
            disabled={offset + PAGE >= page.total}
            onClick={() => {
              const o = offset + PAGE;
              setOffset(o);
              void load(o);
            }}
          >
            {a.next}
          </button>
        </nav>
      )}
    </section>
  );
}

function Confirm(props: {
  account: AdminAccount;
  pending: Pending;
  facilities: AdminFacility[];
  onCancel(): void;
  onConfirm(reason: string, role?: { role: string; organizationId: string }): void;
}) {
  const a = ta();
  const { account, pending } = props;
  const [reason, setReason] = useState('');
  const [role, setRole] = useState<string>(account.roles[0]?.role ?? 'commune_clinician');
  const [org, setOrg] = useState(account.roles[0]?.organizationId ?? me.value?.organizationId ?? '');
  const question =
    pending.kind === 'disable'
      ? a.confirmDisable(account.username)
      : pending.kind === 'reset'
        ? a.confirmReset(account.username)
        : pending.kind === 'roles'
          ? a.editRoles
          : a.enable;
  return (
    <form
      class="confirm"
      onSubmit={(e) => {
        e.preventDefault();
        props.onConfirm(reason.trim(), pending.kind === 'roles' ? { role, organizationId: org } : undefined);
      }}
    >
      <p>{question}</p>
      {pending.kind === 'roles' && (
        <div class="row">
          <RoleSelect value={role} onChange={setRole} />
          <FacilitySelect facilities={props.facilities} value={org} onChange={setOrg} />
        </div>
      )}
      <label>
        {a.reasonPrompt}
        <input
          value={reason}
          required={pending.kind === 'reset'}
          minLength={pending.kind === 'reset' ? 3 : 0}
          maxLength={500}
          onInput={(e) => setReason((e.target as HTMLInputElement).value)}
        />
      </label>
      <div class="row">
        <button type="submit" class={pending.kind === 'disable' ? 'danger' : 'primary'}>
          {pending.kind === 'disable' ? a.disable : pending.kind === 'reset' ? a.resetMfa : pending.kind === 'enable' ? a.enable : a.save}
        </button>
        <button type="button" onClick={props.onCancel}>
          {a.cancel}
        </button>
      </div>
    </form>
  );
}

function RoleSelect({ value, onChange }: { value: string; onChange(v: string): void }) {
  const a = ta();
  const choices = ROLE_CHOICES[me.value?.role === 'system_admin' ? 'system_admin' : 'facility_admin'];
  return (
    <label>
      {a.role}
      <select value={value} onChange={(e) => onChange((e.target as HTMLSelectElement).value)}>
        {choices.map((r) => (
          <option key={r.role} value={r.role}>
            {r.label[lang.value]}
          </option>
        ))}
      </select>
    </label>
  );
}

function FacilitySelect({ facilities, value, onChange }: { facilities: AdminFacility[]; value: string; onChange(v: string): void }) {
  const a = ta();
  return (
    <label>
      {a.facility}
      <select value={value} onChange={(e) => onChange((e.target as HTMLSelectElement).value)}>
        {me.value?.role === 'system_admin' && <option value="">—</option>}
        {facilities.map((f) => (
          <option key={f.id} value={f.id}>
            {f.name}
          </option>
        ))}
      </select>
    </label>
  );
}

function NewAccount({ facilities, onCreated }: { facilities: AdminFacility[]; onCreated(username: string): void }) {
  const a = ta();
  const [role, setRole] = useState('commune_clinician');
  const [org, setOrg] = useState(me.value?.organizationId ?? facilities[0]?.id ?? '');
  const [error, setError] = useState<string>();
  useEffect(() => {
    if (!org && facilities[0]) setOrg(facilities[0].id);
  }, [facilities]);
  return (
    <details class="card">
      <summary>{a.newAccount}</summary>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const form = e.target as HTMLFormElement;
          const f = new FormData(form);
          const body: AccountRequest = {
            username: String(f.get('username')).trim(),
            displayName: String(f.get('displayName')).trim(),
            kind: 'staff',
            password: String(f.get('password')),
            roles: [{ role, organizationId: org }],
          };
          try {
            const r = await apiSend<AccountCreated>('POST', '/api/accounts', body);
            setError(undefined);
            form.reset();
            onCreated(r.username);
          } catch (err) {
            setError((err as Error).message);
          }
        }}
      >
        <div class="row">
          <label>
            {a.fullName}
            <input name="displayName" required maxLength={200} autoComplete="off" />
          </label>
          <label>
            {a.username}
            <input name="username" required pattern="[a-z0-9._\-]{3,64}" maxLength={64} autoComplete="off" />
          </label>
        </div>
        <label>
          {a.password}
          <input name="password" type="password" required minLength={8} maxLength={256} autoComplete="new-password" />
        </label>
        <div class="row">
          <RoleSelect value={role} onChange={setRole} />
          <FacilitySelect facilities={facilities} value={org} onChange={setOrg} />
        </div>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary">
          {a.create}
        </button>
      </form>
    </details>
  );
}
