/**
 * Pages that load when first opened, so that the first screen on a weak link carries only the
 * shell, the sign-in and each role's landing page (issue #20: first usable screen at mountain-edge).
 *
 * Rules: a lazy page shows "Đang tải…" while its code arrives and a readable message with a retry
 * button if it cannot (offline, link dropped) — never a blank screen. Once the first screen is up,
 * `preloadPages()` fetches the other pages in the background (skipped when the browser asks to save
 * data), which also puts them in the service worker's cache for working offline later.
 */
import type { ComponentType, FunctionComponent } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { t } from './i18n.ts';

const loaders: (() => Promise<unknown>)[] = [];

/** A page component whose code is fetched when it is first shown (or preloaded). */
export function lazyPage<P extends object>(load: () => Promise<ComponentType<P>>): FunctionComponent<P> {
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
  loaders.push(fetchIt);
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

/** Fetches every lazy page's code in the background, one after another, once the app is idle. */
export function preloadPages(): void {
  const saveData = (navigator as Navigator & { connection?: { saveData?: boolean } }).connection?.saveData;
  if (saveData) return;
  const idle = (f: () => void) => ('requestIdleCallback' in window ? requestIdleCallback(f, { timeout: 10_000 }) : setTimeout(f, 2000));
  idle(() => {
    void loaders.reduce<Promise<unknown>>((chain, next) => chain.then(() => next().catch(() => undefined)), Promise.resolve());
  });
}
