/**
 * The inbox link in the top bar with its unread count, and — when an urgent notification is
 * unread (an emergency transfer recommendation) — a banner under the bar on every page.
 * The count is fetched on start, on every live event that comes with a notification (SSE), and
 * once a minute as a fallback for a dropped stream.
 */
import { signal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import type { LiveEventKind, NotificationCount } from '../../../src/events/contract.ts';
import { apiGet } from '../api.ts';
import { tc } from '../i18n-clinic.ts';
import { LiveEventStream } from '../live.ts';

/** The signed-in person's unread count (shared by the bell, the banner and the inbox page). */
export const unreadCount = signal<NotificationCount>({ unread: 0, urgent: 0 });

export async function refreshUnread(): Promise<void> {
  unreadCount.value = await apiGet<NotificationCount>('/api/notifications/count').catch(() => unreadCount.value);
}

/** Live events that come with an in-app notification. */
const NOTIFYING: LiveEventKind[] = [
  'consult.new',
  'consult.state',
  'meeting.invite',
  'alert.opened',
  'alert.worse',
  'alert.escalated',
  'visit.booked',
  'visit.waiting',
  'meeting.reminder',
];

export function NotificationBell() {
  const c = tc();
  useEffect(() => {
    void refreshUnread();
    const live = new LiveEventStream();
    // A notification is written in the same transaction as the event's cause, so it is there now.
    // Debounced: the page's own reload for the same event goes first, and a burst costs one request.
    let pending: ReturnType<typeof setTimeout> | undefined;
    const soon = () => {
      clearTimeout(pending);
      pending = setTimeout(() => void refreshUnread(), 400);
    };
    for (const kind of NOTIFYING) live.on(kind, soon);
    const timer = setInterval(() => void refreshUnread(), 60_000);
    return () => {
      live.close();
      clearInterval(timer);
      clearTimeout(pending);
    };
  }, []);
  const n = unreadCount.value.unread;
  return (
    <a href="/inbox" class={`bell${unreadCount.value.urgent ? ' urgent' : ''}`} aria-label={`${c.navInbox}: ${c.unread(n)}`}>
      <svg aria-hidden="true" width="20" height="20" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round">
        <path d="M6 16V11a6 6 0 0 1 12 0v5l2 2H4z" />
        <path d="M10 20a2 2 0 0 0 4 0" />
      </svg>
      <span class="bell-label">{c.navInbox}</span>
      {n > 0 && (
        <span class="badge" data-testid="unread-count">
          {n > 99 ? '99+' : n}
        </span>
      )}
    </a>
  );
}

export function UrgentBanner() {
  const c = tc();
  if (!unreadCount.value.urgent) return null;
  return (
    <div class="urgent-banner" role="alert">
      <strong>{c.urgent}:</strong> {c.urgentWaiting(unreadCount.value.urgent)} <a href="/inbox?unread=true">{c.open}</a>
    </div>
  );
}
