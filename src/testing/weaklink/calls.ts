/**
 * Calls over a weak link, for the browser tests (e2e/weaklink.test.ts) and the benchmark
 * (bench/weaklink.ts): a platform listening on the link's host address, one Chromium outside and
 * one inside the shaped namespace, and what each page's call reports (send level, packets,
 * frames, audio continuity). Only the link's private addresses are used.
 */
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM, launchBrowser } from '../browser.ts';
import type { WeakLink } from './link.ts';

/** Both browsers treat the platform's http:// and ws:// origin on the link as secure (camera, microphone). */
export function secureOriginFlag(base: string): string {
  return `--unsafely-treat-insecure-origin-as-secure=${base},${base.replace(/^http/, 'ws')}`;
}

/** One Chromium in the host's namespace, one inside the weak link's. */
export async function browsersAcross(link: WeakLink, base: string): Promise<{ outside: Browser; inside: Browser }> {
  const args = [secureOriginFlag(base)];
  const outside = await launchBrowser({ media: true, args });
  const inside = await launchBrowser({ media: true, args, executablePath: link.wrap(CHROMIUM) });
  return { outside, inside };
}

/** What a page's call is doing: its send level, and per other member what arrives. */
export interface CallView {
  level: string;
  probing: boolean;
  state: string;
  uplink: { estimate?: number; loss?: number; rtt?: number; stalled?: boolean };
  from: Record<string, { audioPackets: number; framesDecoded: number; frameWidth: number; concealed: number; samples: number }>;
}

export async function view(page: Page): Promise<CallView> {
  return page.evaluate(async () => {
    const c = window.__call;
    const from: CallView['from'] = {};
    for (const [id, x] of Object.entries(c ? await c.stats() : {})) {
      from[id] = {
        audioPackets: x.audioPackets,
        framesDecoded: x.framesDecoded,
        frameWidth: x.frameWidth,
        concealed: x.audioConcealed,
        samples: x.audioSamples,
      };
    }
    return { level: c?.sendLevel.value ?? 'none', probing: c?.probing.value ?? false, state: c?.state.value ?? 'none', uplink: c?.uplink.value ?? {}, from };
  });
}

/**
 * The width of the full picture a page sends now: its largest active layer's frame width (the
 * encoder may scale all layers down when the machine is starved, so this is measured, not assumed).
 */
export async function fullWidth(page: Page): Promise<number> {
  const layers = await page.evaluate(async () => (window.__call ? await window.__call.sent() : []));
  return Math.max(0, ...layers.filter((l) => l.active).map((l) => l.frameWidth));
}

/** The audio send codec of each of a page's sending connections ('audio/red': Opus with redundancy) and its bytes per packet. */
export async function audioSent(page: Page): Promise<{ codec?: string; bytesPerPacket: number }[]> {
  return page.evaluate(async () => (window.__call ? await window.__call.audioSent() : []));
}
