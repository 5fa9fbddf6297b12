/**
 * Who is signed in (from /api/auth/me) and the CSRF token that state-changing requests carry.
 * The answer's type is the server's contract (src/auth/contract.ts, imported as a type only).
 */
import { signal } from '@preact/signals';
import type { Me } from '../../src/auth/contract.ts';

export type { Me };

export const me = signal<Me | null | undefined>(undefined); // undefined = not yet known
export const csrfToken = signal<string | undefined>(undefined);

export function onSignedOut(): void {
  me.value = null;
  csrfToken.value = undefined;
}

export async function loadMe(): Promise<Me | null> {
  try {
    // Same URL, mode and credentials as index.html's preload, so the browser answers from it (no extra headers).
    const res = await fetch('/api/auth/me', { credentials: 'same-origin' });
    if (!res.ok) {
      onSignedOut();
      return null;
    }
    const m = (await res.json()) as Me;
    me.value = m;
    csrfToken.value = m.csrfToken;
    return m;
  } catch {
    me.value = null;
    return null;
  }
}
