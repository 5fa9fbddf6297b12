/**
 * The imaging pages' routes and navigation link, so main.tsx needs one line for each. The pages
 * themselves (and Cornerstone, which only the viewer imports dynamically) load on demand.
 */
import { t } from '../i18n.ts';
import { lazyPage } from '../lazy.tsx';

const StudyPage = lazyPage(() => import('./StudyPage.tsx').then((m) => m.StudyPage), ['commune_clinician', 'specialist', 'coordinator']);
const Worklist = lazyPage(() => import('./Worklist.tsx').then((m) => m.Worklist), ['specialist']);

export function ImagingRoutes({ path, query }: { path: string; query?: string }) {
  const study = /^\/imaging\/([A-Za-z0-9\-.]{1,64})$/.exec(path);
  return path === '/imaging/worklist' ? (
    <Worklist />
  ) : study ? (
    <StudyPage id={study[1]} meetingId={new URLSearchParams(query ?? '').get('meeting') ?? undefined} />
  ) : (
    <p class="notice">{t().notFound}</p>
  );
}

export function ImagingNav({ role }: { role?: string }) {
  return role === 'specialist' ? <a href="/imaging/worklist">{t().navWorklist}</a> : null;
}
