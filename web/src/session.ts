/** Who is signed in (from /api/auth/me) and the CSRF token that state-changing requests carry. */
import { signal } from '@preact/signals';

export interface Me {
  accountId: string;
  username: string;
  displayName: string;
  kind: 'staff' | 'citizen' | 'service';
  role?: string;
  roleLabel?: { vi: string; en: string };
  organizationId?: string;
  practitionerId?: string;
  patientId?: string;
  mfaPending: boolean;
  totpEnabled: boolean;
  csrfToken?: string;
}

export const me = signal<Me | null | undefined>(undefined); // undefined = not yet known
export const csrfToken = signal<string | undefined>(undefined);

export function onSignedOut(): void {
  me.value = null;
  csrfToken.value = undefined;
}

export async function loadMe(): Promise<Me | null> {
  try {
    const res = await fetch('/api/auth/me', { credentials: 'same-origin', headers: { accept: 'application/json' } });
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
