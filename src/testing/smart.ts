/**
 * Test helpers for SMART App Launch: the consent step a standalone authorization now passes
 * (/oauth/authorize → /apps/authorize?request=… → the person's decision → back to the app).
 */
import { expect } from 'vitest';
import { call, type TestPlatform } from './platform.ts';

/** Follows an authorize answer through the consent screen's API: returns the app's redirect (with code or error). */
export async function decideConsent(
  p: TestPlatform,
  authorizeAnswer: { status: number; headers: Record<string, unknown> },
  session: Record<string, string>,
  allow = true,
): Promise<URL> {
  expect(authorizeAnswer.status).toBe(302);
  const consent = new URL(String(authorizeAnswer.headers.location), 'http://x');
  expect(consent.pathname).toBe('/apps/authorize');
  const id = consent.searchParams.get('request')!;
  const view = await call(p, 'GET', `/api/smart/requests/${id}`, undefined, session);
  expect(view.status, view.text).toBe(200);
  const decided = await call(p, 'POST', `/api/smart/requests/${id}/decision`, { allow }, { ...session, 'content-type': 'application/json' });
  expect(decided.status, decided.text).toBe(200);
  return new URL(decided.body.redirect as string);
}
