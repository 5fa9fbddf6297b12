/** A tiny client-side router over the History API (no dependency for three routes). */
import { signal } from '@preact/signals';

export const path = signal(location.pathname + location.search);

export function navigate(to: string): void {
  if (to === path.value) return;
  history.pushState(null, '', to);
  path.value = to;
  window.scrollTo(0, 0);
}

window.addEventListener('popstate', () => {
  path.value = location.pathname + location.search;
});

/** Intercepts clicks on same-origin links so pages change without a reload. */
export function onLinkClick(e: MouseEvent): void {
  const a = (e.target as Element).closest('a');
  if (!a || a.target || e.ctrlKey || e.metaKey || e.shiftKey || a.origin !== location.origin) return;
  e.preventDefault();
  navigate(a.pathname + a.search);
}
