/**
 * The imaging pages' routes and navigation link, so main.tsx needs one line for each. The pages
 * themselves (and Cornerstone, which only the viewer imports dynamically) load on demand.
 */
import { t } from '../i18n.ts';
import { lazyPage } from '../lazy.tsx';
import { startStudy } from './early.ts';

const StudyPage = lazyPage(() => import('./StudyPage.tsx').then((m) => m.StudyPage), ['commune_clinician', 'specialist', 'coordinator']);
const Worklist = lazyPage(() => import('./Worklist.tsx').then((m) => m.Worklist), ['specialist']);

// Opened directly (a link, a reload): the study's details and first image start with the app,
// alongside the session check rather than after it; the page's code and the viewer's come meanwhile.
const opened = typeof location !== 'undefined' ? /^\/imaging\/([A-Za-z0-9\-.]{1,64})$/.exec(location.pathname) : null;
if (opened && opened[1] !== 'worklist') {
  startStudy(opened[1]);
  void import('./StudyPage.tsx').catch(() => undefined);
}

export function ImagingRoutes({ path, query }: { path: string; query?: string }) {
  const study = /^\/imaging\/([A-Za-z0-9\-.]{1,64})$/.exec(path);
  if (study && path !== '/imaging/worklist') startStudy(study[1]);
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
