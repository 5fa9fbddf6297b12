/**
 * The notification inbox: newest first, urgent ones marked, unread ones bold; opening one marks it
 * read and goes to its page; "mark all read". Read state is the signed-in person's own.
 */
import { useEffect, useState } from 'preact/hooks';
import type { Ok } from '../../../src/auth/contract.ts';
import type { NotificationItem } from '../../../src/events/contract.ts';
import { apiGet, apiSend } from '../api.ts';
import { refreshUnread, unreadCount } from '../components/NotificationBell.tsx';
import { formatDateTime, t } from '../i18n.ts';
import { tc } from '../i18n-clinic.ts';
import { navigate, path } from '../router.ts';

export function Inbox() {
  const d = t();
  const c = tc();
  const onlyUnread = new URLSearchParams(path.value.split('?')[1] ?? '').get('unread') === 'true';
  const [items, setItems] = useState<NotificationItem[]>();
  const [error, setError] = useState<string>();
  const load = () => apiGet<NotificationItem[]>(`/api/notifications${onlyUnread ? '?unread=true' : ''}`).then(setItems, (e) => setError((e as Error).message));
  useEffect(() => void load(), [onlyUnread, unreadCount.value.unread]);
  const open = async (n: NotificationItem) => {
    if (!n.read_at) await apiSend<Ok>('POST', `/api/notifications/${n.id}/read`).catch(() => undefined);
    await refreshUnread();
    if (n.link) navigate(n.link);
    else void load();
  };
  return (
    <section class="inbox">
      <h1>
        {c.inboxTitle} <small>{c.unread(unreadCount.value.unread)}</small>
      </h1>
      <div class="row">
        <a class={`button${onlyUnread ? '' : ' primary'}`} href="/inbox">
          {c.all}
        </a>
        <a class={`button${onlyUnread ? ' primary' : ''}`} href="/inbox?unread=true">
          {c.unread(unreadCount.value.unread)}
        </a>
        <button
          type="button"
          disabled={!unreadCount.value.unread}
          onClick={async () => {
            await apiSend<Ok>('POST', '/api/notifications/read-all');
            await refreshUnread();
            void load();
          }}
        >
          {c.markAllRead}
        </button>
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {!items && !error && <p class="notice">{d.loading}</p>}
      {items && items.length === 0 && <p class="notice">{c.inboxEmpty}</p>}
      {items && items.length > 0 && (
        <ul class="plain notifications">
          {items.map((n) => (
            <li key={n.id} class={`${n.read_at ? 'read' : 'unread'}${n.urgent ? ' urgent' : ''}`}>
              <button type="button" class="link-like" onClick={() => void open(n)}>
                {n.urgent && <span class="tag urgent">{c.urgent}</span>} <span class="tag">{c.kinds[n.kind] ?? n.kind}</span>{' '}
                <span class="title">{n.title}</span>
              </button>
              <div class="meta">
                {formatDateTime(n.created_at)}
                {!n.read_at && (
                  <>
                    {' · '}
                    <button
                      type="button"
                      class="small"
                      onClick={async () => {
                        await apiSend<Ok>('POST', `/api/notifications/${n.id}/read`);
                        await refreshUnread();
                        void load();
                      }}
                    >
                      {c.markRead}
                    </button>
                  </>
                )}
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
