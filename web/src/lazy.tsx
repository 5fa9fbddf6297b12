/**
 * Pages that load when first opened, so that the first screen on a weak link carries only the
 * shell, the sign-in and each role's landing page (issue #20: first usable screen at mountain-edge).
 *
 * Rules: a lazy page shows "Đang tải…" while its code arrives and a readable message with a retry
 * button if it cannot (offline, link dropped) — never a blank screen. Once the first screen is up,
 * `preloadPages(role)` fetches in the background the other pages that role can open (skipped when
 * the browser asks to save data), which also puts them in the service worker's cache for working
 * offline later. The roles given to `lazyPage` only decide what is fetched ahead: they are no
 * access control (the server decides what each person may see).
 */
import type { ComponentType, FunctionComponent } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { t } from './i18n.ts';

/** Who a page is for: 'all' (every signed-in person), a list of roles, or none (only when opened). */
export type PageFor = 'all' | readonly string[];

const loaders: { fetch: () => Promise<unknown>; for: PageFor }[] = [];
const PRELOAD_AFTER_MS = 8000;

/** A page component whose code is fetched when it is first shown, or preloaded for the roles in `pageFor`. */
export function lazyPage<P extends object>(load: () => Promise<ComponentType<P>>, pageFor: PageFor = 'all'): FunctionComponent<P> {
  let loaded: ComponentType<P> | undefined;
  let pending: Promise<ComponentType<P>> | undefined;
  const fetchIt = () =>
    (pending ??= load().then(
      (c) => (loaded = c),
      (e: unknown) => {
        pending = undefined; // the next attempt fetches again
        throw e;
      },
    ));
  loaders.push({ fetch: fetchIt, for: pageFor });
  return function LazyPage(props: P) {
    const [, setReady] = useState(0);
    const [failed, setFailed] = useState(false);
    useEffect(() => {
      if (loaded) return;
      let live = true;
      fetchIt().then(
        () => live && setReady((n) => n + 1),
        () => live && setFailed(true),
      );
      return () => {
        live = false;
      };
    }, [failed]);
    const d = t();
    if (loaded) {
      const Page = loaded;
      return <Page {...props} />;
    }
    if (!failed) return <p class="notice">{d.loading}</p>;
    return (
      <div class="error" role="alert">
        <p>{d.pageLoadFailed}</p>
        <button type="button" onClick={() => setFailed(false)}>
          {d.retry}
        </button>
      </div>
    );
  };
}

/** The lazy pages worth fetching ahead for this role, in the order they were declared. */
export function pagesFor(role: string | undefined, list: readonly { for: PageFor }[] = loaders): number[] {
  return list.flatMap((l, i) => (l.for === 'all' || (role !== undefined && l.for.includes(role)) ? [i] : []));
}

let preloading = false;

/** Fetches the code of the pages this role can open in the background, one after another, once the app is idle. */
export function preloadPages(role: string | undefined): void {
  if (preloading) return;
  preloading = true;
  const saveData = (navigator as Navigator & { connection?: { saveData?: boolean } }).connection?.saveData;
  if (saveData) return;
  const idle = (f: () => void) => ('requestIdleCallback' in window ? requestIdleCallback(f, { timeout: 10_000 }) : setTimeout(f, 2000));
  // Not before the first screen's own requests (its data) have had the link to themselves.
  setTimeout(
    () =>
      idle(() => {
        void pagesFor(role).reduce<Promise<unknown>>((chain, i) => chain.then(() => loaders[i].fetch().catch(() => undefined)), Promise.resolve());
      }),
    PRELOAD_AFTER_MS,
  );
}
