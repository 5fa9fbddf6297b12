import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { apiSend } from './api.ts';
import { lang, setLang, t } from './i18n.ts';
import { navigate, onLinkClick, path } from './router.ts';
import { loadMe, me, onSignedOut } from './session.ts';
import type { Ok } from '../../src/auth/contract.ts';
import { PatientSearch } from './pages/PatientSearch.tsx';
import { Login } from './pages/Login.tsx';
import { Account } from './pages/Account.tsx';
import { flushOutbox } from './outbox.ts';
import { MyRecord } from './pages/citizen/MyRecord.tsx';
import { NotificationBell, UrgentBanner } from './components/NotificationBell.tsx';
import { tc } from './i18n-clinic.ts';
import { ImagingRoutes, ImagingNav } from './imaging/routes.tsx';
import { lazyPage, preloadPages } from './lazy.tsx';
import './styles.css';
import './shell.css';

// Every page but the shell, sign-in and the landing pages loads when first opened (lazy.tsx); the
// second argument says for whom it is fetched ahead in the background (not access control).
const CLINICAL = ['commune_clinician', 'specialist', 'coordinator'];
const STATION = ['commune_clinician', 'specialist'];
const CITIZEN = ['citizen'];
const ADMINS = ['facility_admin', 'system_admin'];
const PatientChart = lazyPage(() => import('./pages/PatientChart.tsx').then((m) => m.PatientChart), CLINICAL);
const AccessLog = lazyPage(() => import('./pages/MyPages.tsx').then((m) => m.AccessLog), CITIZEN);
const ConsentPage = lazyPage(() => import('./pages/MyPages.tsx').then((m) => m.ConsentPage), CITIZEN);
const ConsultList = lazyPage(() => import('./pages/ConsultList.tsx').then((m) => m.ConsultList), CLINICAL);
const ConsultForm = lazyPage(() => import('./pages/ConsultForm.tsx').then((m) => m.ConsultForm), CLINICAL);
const ConsultCase = lazyPage(() => import('./pages/ConsultCase.tsx').then((m) => m.ConsultCase), CLINICAL);
const MeetingForm = lazyPage(() => import('./pages/Meetings.tsx').then((m) => m.MeetingForm), CLINICAL);
const MeetingPage = lazyPage(() => import('./pages/Meetings.tsx').then((m) => m.MeetingPage), CLINICAL);
const AlertsInbox = lazyPage(() => import('./pages/Monitoring.tsx').then((m) => m.AlertsInbox), CLINICAL);
const Devices = lazyPage(() => import('./pages/Monitoring.tsx').then((m) => m.Devices), [...STATION, 'facility_admin']);
const Programmes = lazyPage(() => import('./pages/Monitoring.tsx').then((m) => m.Programmes), STATION);
const RoomPage = lazyPage(() => import('./pages/Room.tsx').then((m) => m.RoomPage), 'all');
const Recordings = lazyPage(() => import('./components/Recordings.tsx').then((m) => m.Recordings), CLINICAL);
const BookVisit = lazyPage(() => import('./pages/citizen/BookVisit.tsx').then((m) => m.BookVisit), CITIZEN);
const MyVisits = lazyPage(() => import('./pages/citizen/MyVisits.tsx').then((m) => m.MyVisits), CITIZEN);
const CitizenVisit = lazyPage(() => import('./pages/citizen/CitizenVisit.tsx').then((m) => m.CitizenVisit), CITIZEN);
const RxCheck = lazyPage(() => import('./pages/citizen/RxCheck.tsx').then((m) => m.RxCheck), []);
const VisitQueue = lazyPage(() => import('./pages/VisitDesk.tsx').then((m) => m.VisitQueue), STATION);
const VisitWorkspace = lazyPage(() => import('./pages/VisitDesk.tsx').then((m) => m.VisitWorkspace), STATION);
const AdminPage = lazyPage(() => import('./pages/admin/Admin.tsx').then((m) => m.AdminPage), ADMINS);
const OfficerAudit = lazyPage(() => import('./pages/admin/OfficerAudit.tsx').then((m) => m.OfficerAudit), ['dpo']);
const MeetingCalendar = lazyPage(() => import('./pages/MeetingCalendar.tsx').then((m) => m.MeetingCalendar), CLINICAL);
const Inbox = lazyPage(() => import('./pages/Inbox.tsx').then((m) => m.Inbox), 'all');
const Indicators = lazyPage(() => import('./pages/programme/Indicators.tsx').then((m) => m.Indicators), ['analyst', 'facility_admin']);
const DeclarationForm = lazyPage(() => import('./pages/programme/Declaration.tsx').then((m) => m.DeclarationForm), ['facility_admin']);
const DeclarationReview = lazyPage(() => import('./pages/programme/Declaration.tsx').then((m) => m.DeclarationReview), ['analyst']);
const FacilityRegister = lazyPage(() => import('./pages/programme/Facilities.tsx').then((m) => m.FacilityRegister), ['system_admin', 'facility_admin']);
const CoursePage = lazyPage(() => import('./pages/training/Learning.tsx').then((m) => m.CoursePage), CLINICAL);
const Learning = lazyPage(() => import('./pages/training/Learning.tsx').then((m) => m.Learning), CLINICAL);
const Teaching = lazyPage(() => import('./pages/training/Teaching.tsx').then((m) => m.Teaching), CLINICAL);
const Hub = lazyPage(() => import('./pages/training/Hub.tsx').then((m) => m.Hub), ['coordinator']);
const SurveillancePage = lazyPage(() => import('./pages/surveillance/Signals.tsx').then((m) => m.SurveillancePage), ['disease_control']);
const AppConsent = lazyPage(() => import('./pages/formats/AppConsent.tsx').then((m) => m.AppConsent), []);

const CLINICAL_ROLES = new Set(CLINICAL);
const ADMIN_ROLES = new Set(ADMINS);

function Page() {
  const d = t();
  const m = me.value;
  const p = path.value.split('?')[0];
  if (p === '/login') return <Login />;
  // A video room: signed in, or with a citizen's invitation link (no account needed).
  const call = /^\/call\/([A-Za-z0-9-]{1,64})$/.exec(p);
  const invite = new URLSearchParams(path.value.split('?')[1] ?? '').get('invite') ?? undefined;
  if (call && invite) return <RoomPage id={call[1]} invite={invite} />;
  // A pharmacy checks a prescription's QR code without an account.
  const rx = /^\/rx\/([A-Za-z0-9-]{1,40})$/.exec(p);
  if (rx) return <RxCheck code={rx[1]} />;
  if (m === undefined) return <p class="notice">{d.loading}</p>;
  if (m === null || m.mfaPending) return <Login />;
  if (p === '/account') return <Account />;
  // SMART App Launch: an app asks this person for access (src/auth/smart.ts).
  if (p === '/apps/authorize') return <AppConsent request={new URLSearchParams(path.value.split('?')[1] ?? '').get('request') ?? ''} />;
  if (p === '/inbox') return <Inbox />;
  if (call) return <RoomPage id={call[1]} />;
  const recorded = /^\/call\/([A-Za-z0-9-]{1,64})\/recordings$/.exec(p);
  if (recorded) return <Recordings roomId={recorded[1]} standalone />;
  if (m.role === 'citizen') {
    if (!m.patientId) return <p class="notice">{d.notFound}</p>;
    if (p === '/me' || p === '/') return <MyRecord ownId={m.patientId} />;
    if (p === '/me/book') return <BookVisit ownId={m.patientId} />;
    if (p === '/me/visits') return <MyVisits />;
    const visit = /^\/me\/visits\/([A-Za-z0-9\-.]{1,64})$/.exec(p);
    if (visit) return <CitizenVisit id={visit[1]} />;
    if (p === '/me/access-log') return <AccessLog ownId={m.patientId} />;
    if (p === '/me/consent') return <ConsentPage ownId={m.patientId} />;
    // A citizen sees only their own chart: any other patient URL gets the server's refusal.
    const other = /^\/patients\/([A-Za-z0-9\-.]{1,64})$/.exec(p);
    if (other) return <PatientChart id={other[1]} own />;
    return <p class="error">{d.forbidden}</p>;
  }
  if (p === '/audit') return m.role === 'dpo' ? <OfficerAudit /> : <p class="error">{d.forbidden}</p>;
  if (p === '/admin') return ADMIN_ROLES.has(m.role ?? '') ? <AdminPage /> : <p class="error">{d.forbidden}</p>;
  // The national programme: indicators (analysts, facility administrators), declarations, the register.
  if (p === '/indicators') return m.role === 'analyst' || m.role === 'facility_admin' ? <Indicators /> : <p class="error">{d.forbidden}</p>;
  if (p === '/programme/declaration') return m.role === 'facility_admin' ? <DeclarationForm /> : <p class="error">{d.forbidden}</p>;
  if (p === '/programme/declarations') return m.role === 'analyst' ? <DeclarationReview /> : <p class="error">{d.forbidden}</p>;
  if (p === '/programme/facilities') return <FacilityRegister />;
  // Remote training: the learning page, a course, the teacher's page, the hub coordinator's programmes.
  if (p === '/training') return <Learning />;
  const trainingCourse = /^\/training\/courses\/([A-Za-z0-9\-.]{1,64})$/.exec(p);
  if (trainingCourse) return <CoursePage id={trainingCourse[1]} />;
  if (p === '/training/teach') return <Teaching />;
  if (p === '/training/hub') return m.role === 'coordinator' ? <Hub /> : <p class="error">{d.forbidden}</p>;
  if (p === '/surveillance') return m.role === 'disease_control' ? <SurveillancePage /> : <p class="error">{d.forbidden}</p>;
  if (p === '/alerts') return <AlertsInbox />;
  if (p === '/devices') return <Devices />;
  if (p === '/programmes') return <Programmes />;
  if (p === '/visits') return <VisitQueue />;
  const desk = /^\/visits\/([A-Za-z0-9\-.]{1,64})$/.exec(p);
  if (desk) return <VisitWorkspace id={desk[1]} />;
  if (p === '/consults') return <ConsultList />;
  if (p === '/consults/new') return <ConsultForm />;
  const consult = /^\/consults\/([A-Za-z0-9\-.]{1,64})$/.exec(p);
  if (consult) return <ConsultCase id={consult[1]} />;
  if (p === '/meetings') return <MeetingCalendar />;
  // Meetings (phiên hội chẩn); /sessions/… is what links in older notifications say.
  const meeting = /^\/(?:meetings|sessions)\/([A-Za-z0-9\-.]{1,64})$/.exec(p);
  if (meeting) return meeting[1] === 'new' ? <MeetingForm /> : <MeetingPage id={meeting[1]} />;
  const chart = /^\/patients\/([A-Za-z0-9\-.]{1,64})$/.exec(p);
  if (chart) return <PatientChart id={chart[1]} />;
  if (p.startsWith('/imaging')) return <ImagingRoutes path={p} query={path.value.split('?')[1]} />;
  if (p === '/' || p === '/patients') {
    if (m.role === 'dpo') return <OfficerAudit />;
    if (ADMIN_ROLES.has(m.role ?? '')) return <AdminPage />;
    if (m.role === 'analyst') return <Indicators />;
    if (m.role === 'disease_control') return <SurveillancePage />;
    return CLINICAL_ROLES.has(m.role ?? '') || m.role === 'integration' ? <PatientSearch /> : <Account />;
  }
  return <p class="notice">{d.notFound}</p>;
}

function Nav() {
  const d = t();
  const m = me.value;
  if (!m || m.mfaPending) return null;
  return (
    <>
      {m.role === 'citizen' && (
        <>
          <a href="/me">{d.navMyRecord}</a>
          <a href="/me/visits">{d.cz.navVisits}</a>
          <a href="/me/access-log">{d.navAccessLog}</a>
          <a href="/me/consent">{d.navConsent}</a>
        </>
      )}
      {CLINICAL_ROLES.has(m.role ?? '') && <a href="/patients">{d.navPatients}</a>}
      {CLINICAL_ROLES.has(m.role ?? '') && <a href="/consults">{d.navConsults}</a>}
      {CLINICAL_ROLES.has(m.role ?? '') && <a href="/meetings">{d.navMeetings}</a>}
      {(m.role === 'commune_clinician' || m.role === 'specialist') && <a href="/visits">{d.cz.navDesk}</a>}
      {CLINICAL_ROLES.has(m.role ?? '') && <a href="/alerts">{d.navAlerts}</a>}
      {(m.role === 'commune_clinician' || m.role === 'specialist') && <a href="/programmes">{d.navProgrammes}</a>}
      {(m.role === 'commune_clinician' || m.role === 'specialist' || m.role === 'facility_admin') && <a href="/devices">{d.navDevices}</a>}
      {m.role === 'dpo' && <a href="/audit">{d.navAudit}</a>}
      {ADMIN_ROLES.has(m.role ?? '') && <a href="/admin">{d.navAdmin}</a>}
      <ImagingNav role={m.role} />
      {/* One entry for training: the learning page links to teaching and the hub's programmes for those who hold them. */}
      {CLINICAL_ROLES.has(m.role ?? '') && <a href="/training">{d.navTraining}</a>}
      {(m.role === 'analyst' || m.role === 'facility_admin') && <a href="/indicators">{d.navIndicators}</a>}
      {m.role === 'analyst' && <a href="/programme/declarations">{d.navReview}</a>}
      {m.role === 'disease_control' && <a href="/surveillance">{d.navSurveillance}</a>}
      {m.role === 'facility_admin' && <a href="/programme/declaration">{d.navDeclaration}</a>}
      {(m.role === 'system_admin' || m.role === 'facility_admin') && <a href="/programme/facilities">{d.navFacilities}</a>}
      <a href="/account" title={m.roleLabel?.[lang.value]}>
        {m.displayName}
      </a>
      <button
        type="button"
        class="link"
        onClick={async () => {
          await apiSend<Ok>('POST', '/api/auth/logout').catch(() => undefined);
          onSignedOut();
          navigate('/login');
        }}
      >
        {d.signOut}
      </button>
    </>
  );
}

function App() {
  const d = t();
  // On a phone the menu is a button that opens every entry as a list (nothing off screen).
  const [menuOpen, setMenuOpen] = useState(false);
  useEffect(() => setMenuOpen(false), [path.value]);
  const signedIn = !!me.value && !me.value.mfaPending;
  useEffect(() => {
    // Requests written offline go out as soon as we know who is signed in and the network is up.
    void loadMe().then((m) => {
      if (m && !m.mfaPending && navigator.onLine) void flushOutbox();
      // The other pages' code follows in the background once the first screen is up (lazy.tsx).
      if (m && !m.mfaPending) preloadPages(m.role);
    });
  }, []);
  return (
    <div class="shell" onClick={onLinkClick}>
      <header class="topbar">
        <a href="/" class="brand" aria-label={d.appName}>
          {/* The logo drawn in place (the same drawing as /favicon.svg): an <img> would be one more request,
              and on a weak link one more round trip before the page's load event (docs/weak-links.md). */}
          <svg aria-hidden="true" width="28" height="28" viewBox="0 0 64 64">
            <rect width="64" height="64" rx="14" fill="#0b6e4f" />
            <path d="M14 40 Q32 14 50 40" stroke="#fff" stroke-width="6" fill="none" stroke-linecap="round" />
            <path d="M29 22h6v6h6v6h-6v6h-6v-6h-6v-6h6z" fill="#fff" />
          </svg>
          <span>
            <strong>{d.appName}</strong>
            <small>{d.tagline}</small>
          </span>
        </a>
        {signedIn && <NotificationBell />}
        <button type="button" class="link menu-toggle" aria-expanded={menuOpen} aria-controls="main-menu" onClick={() => setMenuOpen(!menuOpen)}>
          {menuOpen ? `✕ ${tc().closeMenu}` : `☰ ${tc().menu}`}
        </button>
        <nav id="main-menu" class={menuOpen ? 'open' : ''}>
          <Nav />
          <button type="button" class="link" onClick={() => setLang(lang.value === 'vi' ? 'en' : 'vi')} lang={lang.value === 'vi' ? 'en' : 'vi'}>
            {d.switchLang}
          </button>
        </nav>
      </header>
      {signedIn && <UrgentBanner />}
      <main>
        <Page />
      </main>
    </div>
  );
}

document.documentElement.lang = lang.value;
// Installable app (PWA); the worker caches only the app's own files, never patient data.
// The service worker (offline shell) is registered once the page has loaded, so that its own
// downloads do not compete with the first screen's on a weak link (docs/weak-links.md).
if ('serviceWorker' in navigator && location.protocol !== 'file:') {
  const register = () => void navigator.serviceWorker.register('/sw.js').catch(() => undefined);
  if (document.readyState === 'complete') register();
  else addEventListener('load', register, { once: true });
}
render(<App />, document.getElementById('app')!);
