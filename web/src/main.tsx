import { render } from 'preact';
import { lang, setLang, t } from './i18n.ts';
import { onLinkClick, path } from './router.ts';
import { PatientSearch } from './pages/PatientSearch.tsx';
import { PatientChart } from './pages/PatientChart.tsx';
import './styles.css';

function Page() {
  const p = path.value.split('?')[0];
  const chart = /^\/patients\/([A-Za-z0-9\-.]{1,64})$/.exec(p);
  if (chart) return <PatientChart id={chart[1]} />;
  if (p === '/' || p === '/patients') return <PatientSearch />;
  return <p class="notice">{t().notFound}</p>;
}

function App() {
  const d = t();
  return (
    <div class="shell" onClick={onLinkClick}>
      <header class="topbar">
        <a href="/" class="brand" aria-label={d.appName}>
          <img src="/favicon.svg" alt="" width="28" height="28" />
          <span>
            <strong>{d.appName}</strong>
            <small>{d.tagline}</small>
          </span>
        </a>
        <nav>
          <a href="/patients">{d.navPatients}</a>
          <button type="button" class="link" onClick={() => setLang(lang.value === 'vi' ? 'en' : 'vi')} lang={lang.value === 'vi' ? 'en' : 'vi'}>
            {d.switchLang}
          </button>
        </nav>
      </header>
      <main>
        <Page />
      </main>
    </div>
  );
}

document.documentElement.lang = lang.value;
render(<App />, document.getElementById('app')!);
