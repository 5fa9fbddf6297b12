/**
 * The imaging pages' routes and navigation link, so main.tsx needs one line for each. The pages
 * themselves (and Cornerstone, which only the viewer imports dynamically) load on demand.
 */
import { lazy, Suspense } from 'preact/compat';
import { t } from '../i18n.ts';
import { ti } from '../i18n-imaging.ts';

const StudyPage = lazy(() => import('./StudyPage.tsx').then((m) => ({ default: m.StudyPage })));
const Worklist = lazy(() => import('./Worklist.tsx').then((m) => ({ default: m.Worklist })));

export function ImagingRoutes({ path, query }: { path: string; query?: string }) {
  const study = /^\/imaging\/([A-Za-z0-9\-.]{1,64})$/.exec(path);
  const page =
    path === '/imaging/worklist' ? (
      <Worklist />
    ) : study ? (
      <StudyPage id={study[1]} meetingId={new URLSearchParams(query ?? '').get('meeting') ?? undefined} />
    ) : (
      <p class="notice">{t().notFound}</p>
    );
  return <Suspense fallback={<p class="notice">{ti().loadingImages}</p>}>{page}</Suspense>;
}

export function ImagingNav({ role }: { role?: string }) {
  return role === 'specialist' ? <a href="/imaging/worklist">{ti().navWorklist}</a> : null;
}
