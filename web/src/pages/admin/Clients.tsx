/**
 * Administration: OAuth clients (HIS, LIS, SMART apps). List with what each may do and as whom,
 * register a server-to-server client (its secret shown once), revoke one with a reason.
 * A facility administrator sees only their facility's clients (the server decides).
 */
import { useEffect, useState } from 'preact/hooks';
import type { AdminChanged, AdminClient } from '../../../../src/auth/admin-contract.ts';
import { ROLE_LABELS } from '../../../../src/auth/policy.ts';
import { apiGet, apiSend } from '../../api.ts';
import { formatDate, lang } from '../../i18n.ts';
import { ta } from '../../i18n-admin.ts';

export function ClientsTab() {
  const a = ta();
  const [list, setList] = useState<AdminClient[]>();
  const [error, setError] = useState<string>();
  const [revoking, setRevoking] = useState<string>();
  const [reason, setReason] = useState('');
  const [secret, setSecret] = useState<{ clientId: string; clientSecret: string }>();
  const load = () => apiGet<AdminClient[]>('/api/admin/oauth-clients').then(setList, (e) => setError((e as Error).message));
  useEffect(() => void load(), []);
  return (
    <section aria-labelledby="clients-h">
      <h2 id="clients-h">{a.tabClients}</h2>
      <p class="meta">{a.clientsHint}</p>
      <details class="card">
        <summary>{a.newClient}</summary>
        <form
          onSubmit={async (e) => {
            e.preventDefault();
            const f = new FormData(e.target as HTMLFormElement);
            try {
              const r = await apiSend<{ clientId: string; clientSecret: string }>('POST', '/api/oauth/clients', {
                name: String(f.get('name')).trim(),
                scopes: f.get('write') ? ['system/*.read', 'system/*.write'] : ['system/*.read'],
                grantTypes: ['client_credentials'],
                confidential: true,
                serviceRole: 'integration',
              });
              setSecret(r);
              setError(undefined);
              await load();
            } catch (err) {
              setError((err as Error).message);
            }
          }}
        >
          <label>
            {a.clientName}
            <input name="name" required maxLength={200} />
          </label>
          <label class="check">
            <input type="checkbox" name="write" /> system/*.write
          </label>
          <button type="submit" class="primary">
            {a.create}
          </button>
        </form>
        {secret && (
          <p role="status">
            {a.clientSecretOnce} <code>{secret.clientId}</code> / <code class="secret">{secret.clientSecret}</code>
          </p>
        )}
      </details>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {list?.length === 0 && <p class="notice">{a.noClients}</p>}
      <ul class="admin-list">
        {list?.map((c) => (
          <li class="card admin-item" key={c.clientId}>
            <div class="admin-head">
              <strong>{c.name}</strong> <span class="meta">{c.clientId}</span>{' '}
              <span class={`badge ${c.revokedAt ? 'off' : 'on'}`}>{c.revokedAt ? `${a.revoked} ${formatDate(c.revokedAt)}` : a.active}</span>
            </div>
            <div class="meta">
              {a.grant}: {c.grantTypes.map((g) => (g === 'client_credentials' ? a.grantClientCredentials : a.grantAuthorizationCode)).join(', ')} · {a.scopes}:{' '}
              {c.scopes.join(' ')}
            </div>
            {c.serviceAccount && (
              <div class="meta">
                {a.actsAs}: {c.serviceAccount.role ? ROLE_LABELS[c.serviceAccount.role][lang.value] : c.serviceAccount.username}
                {c.serviceAccount.organizationName ? ` — ${c.serviceAccount.organizationName}` : ''}
              </div>
            )}
            {!c.revokedAt &&
              (revoking === c.clientId ? (
                <form
                  class="confirm"
                  onSubmit={async (e) => {
                    e.preventDefault();
                    try {
                      await apiSend<AdminChanged>('POST', `/api/admin/oauth-clients/${c.clientId}/revoke`, { reason });
                      setRevoking(undefined);
                      await load();
                    } catch (err) {
                      setError((err as Error).message);
                    }
                  }}
                >
                  <label>
                    {a.reasonPrompt}
                    <input required minLength={3} maxLength={500} value={reason} onInput={(e) => setReason((e.target as HTMLInputElement).value)} />
                  </label>
                  <div class="row">
                    <button type="submit" class="danger">
                      {a.revoke}
                    </button>
                    <button type="button" onClick={() => setRevoking(undefined)}>
                      {a.cancel}
                    </button>
                  </div>
                </form>
              ) : (
                <button type="button" onClick={() => (setRevoking(c.clientId), setReason(''))}>
                  {a.revoke}
                </button>
              ))}
          </li>
        ))}
      </ul>
    </section>
  );
}
