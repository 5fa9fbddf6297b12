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
  // Downloads and server endpoints (PDF, FHIR files) are the browser's, not the app's.
  if (
    !a ||
    a.target ||
    a.hasAttribute('download') ||
    /^\/(api|fhir)\//.test(a.pathname) ||
    e.ctrlKey ||
    e.metaKey ||
    e.shiftKey ||
    a.origin !== location.origin
  )
    return;
  e.preventDefault();
  navigate(a.pathname + a.search);
}
