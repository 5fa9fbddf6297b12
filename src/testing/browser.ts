/** Debian's Chromium driven by playwright-core, with the flags this machine needs. */
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
export const MEDIA_FLAGS = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];

/** `executablePath`: e.g. a wrapper that runs Chromium inside a weak link's namespace; `args`: extra flags. */
export async function launchBrowser(opts: { media?: boolean; executablePath?: string; args?: string[] } = {}): Promise<Browser> {
  return chromium.launch({ executablePath: opts.executablePath ?? CHROMIUM, args: [...FLAGS, ...(opts.media ? MEDIA_FLAGS : []), ...(opts.args ?? [])] });
}
