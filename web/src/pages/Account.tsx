/** My account: who I am signed in as, my sessions, sign out here or everywhere. Answer types: src/auth/contract.ts. */
import { useEffect, useState } from 'preact/hooks';
import type { Ok, SessionView, SignedOutEverywhere } from '../../../src/auth/contract.ts';
import { apiGet, apiSend } from '../api.ts';
import { formatDateTime, lang, t } from '../i18n.ts';
import { navigate } from '../router.ts';
import { me, onSignedOut } from '../session.ts';

export function Account() {
  const d = t();
  const [list, setList] = useState<SessionView[]>([]);
  const [error, setError] = useState<string>();
  const load = () => apiGet<SessionView[]>('/api/auth/sessions').then(setList, (e) => setError((e as Error).message));
  useEffect(() => void load(), []);
  const m = me.value;
  return (
    <section>
      <h1>{d.account}</h1>
      {m && (
        <p>
          <strong>{m.displayName}</strong> ({m.username}) · {m.roleLabel?.[lang.value]}
        </p>
      )}
      <section class="card">
        <h2>{d.sessions}</h2>
        {error && <p class="error">{error}</p>}
        <ul class="sessions">
          {list.map((s) => (
            <li key={s.id}>
              <span>
                {s.userAgent?.slice(0, 60) ?? '—'} · {s.ip ?? ''} · {d.lastSeen}: {formatDateTime(s.lastSeenAt)}
                {s.current && <strong> ({d.thisSession})</strong>}
              </span>
              {!s.current && (
                <button type="button" onClick={() => apiSend<Ok>('DELETE', `/api/auth/sessions/${s.id}`).then(load)}>
                  {d.endSession}
                </button>
              )}
            </li>
          ))}
        </ul>
        <button
          type="button"
          onClick={async () => {
            await apiSend<SignedOutEverywhere>('POST', '/api/auth/logout-all');
            onSignedOut();
            navigate('/login');
          }}
        >
          {d.signOutAll}
        </button>
      </section>
    </section>
  );
}
