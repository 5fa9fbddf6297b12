/** Signing in through the web app's own form, as a person would. */
import type { Page } from 'playwright-core';
import { DEMO_PASSWORD } from '../src/seed/accounts.ts';
import { freshTotpCode } from '../src/testing/totp.ts';

export async function signInUi(page: Page, base: string, username: string, totpSecret?: string): Promise<void> {
  await page.goto(`${base}/login`);
  await page.getByLabel(/Tên đăng nhập|Username/).fill(username);
  await page.getByLabel(/Mật khẩu|Password/).fill(DEMO_PASSWORD);
  await page.getByRole('button', { name: /Đăng nhập|Sign in/ }).click();
  if (totpSecret) {
    const code = page.getByLabel(/Mã xác thực|Code/);
    await code.waitFor();
    await code.fill(await freshTotpCode(totpSecret, username)); // each code is accepted once
    await page.getByRole('button', { name: /Xác nhận|Verify/ }).click();
  }
  await page.waitForFunction(() => !location.pathname.startsWith('/login'));
}

/** On a phone the navigation sits behind the menu button: opens it when it is shown (a no-op on a desk). */
export async function openMenu(page: Page): Promise<void> {
  const toggle = page.locator('.menu-toggle');
  if ((await toggle.isVisible()) && (await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click();
}
