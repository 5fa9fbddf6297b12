/**
 * TOTP codes for tests that sign the same staff member in several times. The platform accepts each
 * 30-second time-step once per account (RFC 6238 §5.2: a used code is refused, on every node), so
 * each sign-in here uses a step after the last one this process used for that secret: the current
 * step, then the next (still inside the ±1 window), then it waits for the clock.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { totpFor } from '../auth/accounts.ts';

const PERIOD_MS = 30_000;
const lastStep = new Map<string, number>();

export async function freshTotpCode(secret: string, username: string): Promise<string> {
  const now = Math.floor(Date.now() / PERIOD_MS);
  const step = Math.max(now, (lastStep.get(secret) ?? now - 1) + 1);
  lastStep.set(secret, step);
  // Two steps ahead is outside the window: wait until it is only one ahead.
  if (step > now + 1) await sleep((step - 1) * PERIOD_MS - Date.now() + 50);
  return totpFor(secret, username).generate({ timestamp: step * PERIOD_MS });
}
