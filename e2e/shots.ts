/** Screenshots at a phone's and a laptop's width into test-results/, asserting no sideways scroll on the phone. */
import type { Page } from 'playwright-core';
import { expect } from 'vitest';

export const WIDTHS = [390, 1366] as const;

/** Screenshot at both widths; at 390 px the page must not scroll sideways. */
export async function shoot(page: Page, name: string): Promise<void> {
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
    await page.waitForTimeout(150);
    // The screenshot first, so a page that scrolls sideways can be looked at.
    await page.screenshot({ path: `test-results/${name}-${width}.png`, fullPage: true });
    if (width === 390) {
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow, `${name}: horizontal scroll at 390 px`).toBeLessThanOrEqual(0);
    }
  }
}
