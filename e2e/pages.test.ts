/**
 * Every page, as every demo role, in real Chromium: the page inventory below lists, per role, every
 * page its navigation offers and the detail pages reached from them with a real demo record (a
 * consult case, a meeting, a visit, its video room, a course, an imaging study, a prescription).
 * Each page is screenshotted at 390 and 1366 px into test-results/pages/ and must show: no sideways
 * scroll at 390 px, (the detail pages marked so) no serious axe-core violation, no raw record ids (Patient/…, uuid-like strings), no raw permission or role
 * codes, no loading message that never ends, no English-only label on the Vietnamese interface.
 *
 * Rules: the inventory must cover every route of the web router (web/src/main.tsx and the imaging
 * routes, read as source) and every menu entry each role is offered — a new page or menu entry that
 * is not listed here fails the first test. Problems are collected per role and reported together.
 */
import { AxeBuilder } from '@axe-core/playwright';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOMAIN_OF, ROLES } from '../src/auth/policy.ts';
import { syntheticSeries } from '../src/imaging/create.ts';
import { createDemoAccounts, createDepartmentAccount, createDiseaseControlAccount, type DemoAccount } from '../src/seed/accounts.ts';
import { seedDemo, type DemoSummary } from '../src/seed/demo.ts';
import { seedFormatsDemo } from '../src/seed/formats.ts';
import { seedVisitDemo } from '../src/seed/visits.ts';
import { seedProgrammeDemo } from '../src/programme/seed.ts';
import { seedSurveillanceDemo } from '../src/surveillance/seed.ts';
import { launchBrowser } from '../src/testing/browser.ts';
import { call, signIn as signInApi, startTestPlatform, type TestPlatform } from '../src/testing/platform.ts';
import { shoot } from './shots.ts';
import { signInUi } from './ui.ts';

/** The demo records the detail pages open (filled in beforeAll). */
interface Records {
  ownPatient: string;
  otherFacilityPatient: string;
  caseId: string;
  meetingId: string;
  visitId: string;
  roomId: string;
  courseId: string;
  studyId: string;
  rxCode: string;
}

/** One page of the inventory: where it is, and what the screenshot is called. */
interface Visit {
  path: string;
  name: string;
  /** Text that is rightly shown on this page though it looks like an id (an OAuth client id for its administrator). */
  allow?: RegExp;
  /** Also checked with axe-core (the detail pages e2e/a11y.test.ts has no record for). */
  axe?: boolean;
}

/** The inventory: per demo account (undefined = signed out), the pages that account walks through. */
function inventory(r: Records): [string | undefined, Visit[]][] {
  const v = (path: string, name: string, allow?: RegExp): Visit => ({ path, name, allow });
  const axe = (path: string, name: string): Visit => ({ path, name, axe: true });
  const adminTabs = (who: string) => ['accounts', 'clients', 'facilities', 'devices', 'cds'].map((t) => v(`/admin?tab=${t}`, `${who}-admin-${t}`));
  return [
    [
      undefined,
      [
        v('/login', 'out-login'),
        v(`/rx/${r.rxCode}`, 'out-rx-check', new RegExp(r.rxCode)),
        v(`/call/${r.roomId}?invite=not-a-real-invitation`, 'out-call-invite'),
      ],
    ],
    [
      'nguoidan',
      [
        v('/', 'citizen-home'),
        v('/me', 'citizen-record'),
        v('/me/book', 'citizen-book'),
        v('/me/visits', 'citizen-visits'),
        axe(`/me/visits/${r.visitId}`, 'citizen-visit'),
        v('/me/access-log', 'citizen-access-log'),
        v('/me/consent', 'citizen-consent'),
        v(`/patients/${r.ownPatient}`, 'citizen-own-chart'),
        v(`/patients/${r.otherFacilityPatient}`, 'citizen-other-chart'),
        axe(`/call/${r.roomId}`, 'citizen-call'),
        v('/inbox', 'citizen-inbox'),
        v('/account', 'citizen-account'),
        v('/apps/authorize?request=not-a-real-request', 'citizen-app-consent'),
        v('/admin', 'citizen-forbidden'),
      ],
    ],
    [
      'bs.batxat',
      [
        v('/', 'commune-home'),
        v('/patients', 'commune-patients'),
        v(`/patients/${r.ownPatient}`, 'commune-chart'),
        v(`/patients/${r.otherFacilityPatient}`, 'commune-chart-refused'),
        v('/consults', 'commune-consults'),
        v('/consults/new', 'commune-consult-new'),
        axe(`/consults/${r.caseId}`, 'commune-consult'),
        v('/meetings', 'commune-meetings'),
        axe(`/meetings/${r.meetingId}`, 'commune-meeting'),
        v(`/sessions/${r.meetingId}`, 'commune-meeting-old-link'),
        v('/visits', 'commune-visits'),
        axe(`/visits/${r.visitId}`, 'commune-visit'),
        v(`/call/${r.roomId}`, 'commune-call'),
        v(`/call/${r.roomId}/recordings`, 'commune-recordings'),
        v('/alerts', 'commune-alerts'),
        v('/programmes', 'commune-programmes'),
        v('/devices', 'commune-devices'),
        v('/training', 'commune-training'),
        axe(`/training/courses/${r.courseId}`, 'commune-course'),
        v(`/imaging/${r.studyId}`, 'commune-study'),
        v('/inbox', 'commune-inbox'),
        v('/account', 'commune-account'),
        v('/no-such-page', 'commune-not-found'),
      ],
    ],
    [
      'dieuphoi',
      [
        v('/', 'coord-home'),
        v('/patients', 'coord-patients'),
        v('/consults', 'coord-consults'),
        axe(`/consults/${r.caseId}`, 'coord-consult'),
        v('/meetings', 'coord-meetings'),
        v('/meetings/new', 'coord-meeting-new'),
        v(`/meetings/${r.meetingId}`, 'coord-meeting'),
        v('/alerts', 'coord-alerts'),
        v('/training', 'coord-training'),
        v('/training/hub', 'coord-training-hub'),
        v(`/training/courses/${r.courseId}`, 'coord-course'),
        v('/inbox', 'coord-inbox'),
        v('/account', 'coord-account'),
      ],
    ],
    [
      'bs.bachmai',
      [
        v('/', 'spec-home'),
        v('/patients', 'spec-patients'),
        v(`/patients/${r.ownPatient}`, 'spec-chart'),
        v('/consults', 'spec-consults'),
        v(`/consults/${r.caseId}`, 'spec-consult'),
        v('/meetings', 'spec-meetings'),
        v(`/meetings/${r.meetingId}`, 'spec-meeting'),
        v('/visits', 'spec-visits'),
        v('/alerts', 'spec-alerts'),
        v('/programmes', 'spec-programmes'),
        v('/devices', 'spec-devices'),
        v('/imaging/worklist', 'spec-worklist'),
        v(`/imaging/${r.studyId}`, 'spec-study'),
        v('/training', 'spec-training'),
        v('/training/teach', 'spec-teaching'),
        v(`/training/courses/${r.courseId}`, 'spec-course'),
        v('/inbox', 'spec-inbox'),
        v('/account', 'spec-account'),
      ],
    ],
    [
      'quantri.laocai',
      [
        v('/', 'fadmin-home'),
        v('/admin', 'fadmin-admin'),
        ...adminTabs('fadmin'),
        v('/devices', 'fadmin-devices'),
        v('/indicators', 'fadmin-indicators'),
        v('/programme/declaration', 'fadmin-declaration'),
        v('/programme/facilities', 'fadmin-facilities'),
        v('/inbox', 'fadmin-inbox'),
        v('/account', 'fadmin-account'),
      ],
    ],
    [
      'quantri',
      [
        v('/', 'sysadmin-home'),
        v('/admin', 'sysadmin-admin'),
        ...adminTabs('sysadmin'),
        axe('/programme/facilities', 'sysadmin-facilities'),
        v('/account', 'sysadmin-account'),
      ],
    ],
    ['baovedulieu', [v('/', 'dpo-home'), v('/audit', 'dpo-audit'), v('/account', 'dpo-account')]],
    [
      'thongke',
      [v('/', 'analyst-home'), v('/indicators', 'analyst-indicators'), v('/programme/declarations', 'analyst-declarations'), v('/account', 'analyst-account')],
    ],
    [
      'soyte.laocai',
      [v('/', 'dept-home'), v('/indicators', 'dept-indicators'), v('/programme/declarations', 'dept-declarations'), v('/account', 'dept-account')],
    ],
    ['ytdp.laocai', [v('/', 'cdc-home'), v('/surveillance', 'cdc-surveillance'), v('/account', 'cdc-account')]],
  ];
}

/** The routes of the web router, read from its source: literal paths and the patterns of detail pages. */
function routerRoutes(): { route: string; matches: (path: string) => boolean }[] {
  const out: { route: string; matches: (path: string) => boolean }[] = [];
  for (const file of ['web/src/main.tsx', 'web/src/imaging/routes.tsx']) {
    const src = readFileSync(file, 'utf8');
    for (const m of src.matchAll(/\b(?:p|path) === '(\/[^']*)'/g)) out.push({ route: m[1], matches: (x) => x === m[1] });
    for (const m of src.matchAll(/\/(\^\\\/[^\n]*?\$)\/\.exec\((?:p|path)\)/g)) {
      const re = new RegExp(m[1]);
      out.push({ route: m[1], matches: (x) => re.test(x) });
    }
  }
  return out;
}

/** Raw record references and uuid-like strings, where a person should read a name. */
const RAW_ID =
  /\b(?:Patient|ServiceRequest|Location|Organization|Practitioner|PractitionerRole|Encounter|Appointment|Device|CarePlan|Observation|ImagingStudy)\/[A-Za-z0-9\-.]+|\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/i;
/** Permission codes (policy domain actions) and role codes, never meant for a reader. */
const RAW_CODE = new RegExp(
  `(?<![\\w/.-])(?:${[...Object.keys(DOMAIN_OF), ...ROLES.filter((r) => r.includes('_'))].map((c) => c.replace(/\./g, '\\.')).join('|')})(?![\\w.-])|\\b(?:forbidden|Forbidden|FORBIDDEN|Unauthorized)\\b`,
);
/** Loading messages; one still shown after the page has had its time is an endless spinner. */
const LOADING = /Đang tải…|Loading…|Đang tìm…/;
/** English words that belong to an interface label; on the Vietnamese interface a label holding one was not translated. */
const ENGLISH =
  /\b(?:Loading|Save|Cancel|Search|Submit|Delete|Edit|Close|Back|Next|Previous|Error|Status|Patients?|Facility|Facilities|None|Unknown|Yes|Name|Role|Action|Outcome|Reason|Details|Download|Upload|Settings|Sign in|Sign out|Select|Choose|Add|Remove|Create|Update|View|Show|Hide|Send|Today|Week|Month|Start|End|Notes|Total|Filter|Export|Confirm|Accept|Reject|Decline|Invite|Join|Leave|Waiting|Pending|Active|Inactive|Enabled|Disabled|Unread|Required|Optional|Empty|Refresh|Retry|Print|Open|New|Reset|Disable|Enable|Schedule|Conclusion|Request|Requests|Visit|Visits|Meeting|Meetings|Alerts?|Devices?|Programmes?|Training|Course|Courses|Account|Indicators?|Declarations?)\b/;

interface Finding {
  rawIds: string[];
  rawCodes: string[];
  english: string[];
  loading: boolean;
}

/** What a reader sees on the page: ids, codes, untranslated labels (outside anything marked lang="en"). */
async function findings(page: Page, allow?: RegExp): Promise<Finding> {
  const { text, labels } = await page.evaluate(() => {
    const visible = (el: Element) => {
      const r = (el as HTMLElement).getBoundingClientRect();
      return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden';
    };
    const labels: string[] = [];
    const selector = 'button, label, legend, summary, th, h1, h2, h3, h4, [role="tab"], nav a, option, caption, dt';
    for (const el of Array.from(document.querySelectorAll(selector))) {
      if (el.closest('[lang="en"]') || el.closest('[data-user-content]')) continue;
      if (el.tagName !== 'OPTION' && !visible(el)) continue;
      const own = (el.textContent ?? '').replace(/\s+/g, ' ').trim();
      if (own) labels.push(own);
    }
    for (const el of Array.from(document.querySelectorAll('[aria-label], [placeholder], [title]'))) {
      if (el.closest('[lang="en"]')) continue;
      for (const a of ['aria-label', 'placeholder', 'title']) {
        const x = el.getAttribute(a);
        if (x) labels.push(`${a}=${x}`);
      }
    }
    return { text: document.body.innerText, labels };
  });
  const scrub = (s: string) => (allow ? s.replace(new RegExp(allow.source, `${allow.flags.replace('g', '')}g`), '') : s);
  const all = (re: RegExp, s: string) => [...s.matchAll(new RegExp(re.source, `${re.flags.replace('g', '')}g`))].map((m) => m[0]);
  return {
    rawIds: [...new Set(all(RAW_ID, scrub(text)))].slice(0, 5),
    rawCodes: [...new Set(all(RAW_CODE, text))].slice(0, 5),
    english: [...new Set(labels.filter((l) => ENGLISH.test(l)))].slice(0, 8),
    loading: LOADING.test(text),
  };
}

/** Opens a page and waits for it to settle: the network quiet and no loading message (for a while). */
async function open(page: Page, url: string): Promise<boolean> {
  await page.goto(url);
  await page.waitForLoadState('networkidle').catch(() => undefined);
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const text = await page.evaluate(() => document.body.innerText);
    if (!LOADING.test(text) && text.trim().length > 0) return true;
    await page.waitForTimeout(250);
  }
  return false;
}

/** Serious and critical axe-core violations (WCAG 2 A/AA), as e2e/a11y.test.ts checks them. */
async function seriousViolations(page: Page): Promise<string[]> {
  const r = await new AxeBuilder({ page: page as never }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  return r.violations
    .filter((x) => x.impact === 'serious' || x.impact === 'critical')
    .map(
      (x) =>
        `${x.id} (${x.impact}): ${x.nodes
          .map((n) => n.target.join(' '))
          .slice(0, 5)
          .join(' | ')}`,
    );
}

/** A small multipart/related body of DICOM files, as a modality's STOW-RS client sends it. */
function multipartBody(files: Buffer[]): { body: Buffer; type: string } {
  const boundary = `b${randomUUID().replace(/-/g, '')}`;
  const chunks: Buffer[] = [];
  for (const f of files) chunks.push(Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), f, Buffer.from('\r\n'));
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), type: `multipart/related; type="application/dicom"; boundary=${boundary}` };
}

describe('every page as every role', () => {
  let p: TestPlatform;
  let base: string;
  let browser: Browser;
  let demo: DemoSummary;
  let people: Record<string, DemoAccount>;
  const r = {} as Records;

  beforeAll(async () => {
    mkdirSync('test-results/pages', { recursive: true });
    p = await startTestPlatform('pglite');
    demo = await seedDemo(p.store, 10);
    const created = await createDemoAccounts(p.db, p.accounts, demo);
    const visitDemo = await seedVisitDemo(p.store, p.visits, demo);
    const programme = await seedProgrammeDemo(p.store, demo, new Date(), { consults: 24, meetings: 6, visits: 24 });
    created.accounts.push(await createDepartmentAccount(p.accounts, programme.departments[15]));
    await seedFormatsDemo(p.store, demo);
    created.accounts.push(await createDiseaseControlAccount(p.accounts, (await seedSurveillanceDemo(p.store)).centreId));
    people = Object.fromEntries(created.accounts.map((a) => [a.username, a]));
    const json = { 'content-type': 'application/json' };
    const as = async (username: string): Promise<Record<string, string>> => ({ ...(await signInApi(p, username, people[username].totpSecret)), ...json });
    const commune = await as('bs.batxat');
    const specialist = await as('bs.bachmai');
    const coordinator = await as('dieuphoi');
    const citizen = await as('nguoidan');
    const ok = (res: { status: number; text: string }, what: string) => expect(res.status, `${what}: ${res.text}`).toBeLessThan(300);

    r.ownPatient = demo.ids.patients[0];
    for (const id of demo.ids.patients) {
      const pt = (await call(p, 'GET', `/fhir/R4/Patient/${id}`)).body;
      if (pt.managingOrganization?.reference !== `Organization/${demo.ids.organizations.batxat}`) {
        r.otherFacilityPatient = id;
        break;
      }
    }
    // A consult case, accepted at Bạch Mai, on a meeting that has started.
    const consult = await call(
      p,
      'POST',
      '/api/consults',
      {
        clientId: randomUUID(),
        patientId: r.ownPatient,
        receivingOrganizationId: demo.ids.organizations.bachmai,
        specialty: { code: 'cardiology', display: 'Tim mạch' },
        urgency: 'urgent',
        reason: 'Tăng huyết áp kháng trị, cần chỉnh phác đồ',
        icd10: { code: 'I10', display: 'Tăng huyết áp vô căn' },
        summary: { history: 'THA 5 năm', findings: 'HA 185/110', vitals: 'HA 185/110', treatment: 'Amlodipin', question: 'Phác đồ phối hợp?' },
        attachmentIds: [],
        submit: true,
      },
      commune,
    );
    ok(consult, 'consult');
    r.caseId = consult.body.caseId;
    ok(await call(p, 'POST', `/api/consults/${r.caseId}/triage`, { action: 'accept', specialistIds: [demo.ids.practitioners[0]] }, specialist), 'triage');
    const start = new Date(Date.now() - 10 * 60_000);
    const meeting = await call(
      p,
      'POST',
      '/api/meetings',
      {
        title: 'Hội chẩn tim mạch sáng thứ Hai',
        start: start.toISOString(),
        end: new Date(start.getTime() + 2 * 3_600_000).toISOString(),
        hostPractitionerId: demo.ids.practitioners[1],
        caseIds: [r.caseId],
        siteOrganizationIds: [demo.ids.organizations.bachmai, demo.ids.organizations.batxat],
        participantPractitionerIds: [demo.ids.practitioners[0], demo.ids.practitioners[6]],
      },
      coordinator,
    );
    ok(meeting, 'meeting');
    r.meetingId = meeting.body.id;

    // Two remote visits: one waiting (the visit page, its room), one done with a prescription (the pharmacy check).
    const slots = (await call(p, 'GET', `/api/visits/services/${visitDemo.services['kham-tu-xa-man-tinh']}/slots?days=8`, undefined, citizen)).body as {
      id: string;
    }[];
    const book = async (slotId: string) => {
      const res = await call(
        p,
        'POST',
        '/api/visits',
        {
          patientId: r.ownPatient,
          slotId,
          icd10: { code: 'I10', display: 'Tăng huyết áp vô căn' },
          reason: 'Tái khám tăng huyết áp',
          answers: { 'red-flags': false, duration: 'gt1m' },
        },
        citizen,
      );
      ok(res, 'booking');
      return res.body.id as string;
    };
    r.visitId = await book(slots[0].id);
    const done = await book(slots[1].id);
    const completed = await call(
      p,
      'POST',
      `/api/visits/${done}/complete`,
      {
        findings: 'Tỉnh, HA 150/90.',
        assessment: 'Tăng huyết áp chưa kiểm soát',
        diagnosis: { code: 'I10', display: 'Tăng huyết áp vô căn' },
        instructions: 'Uống thuốc đều, đo huyết áp mỗi sáng.',
        prescription: { items: [{ name: 'Amlodipin 5 mg', quantity: 30, unit: 'viên', dosage: 'Uống 1 viên buổi sáng', days: 30 }] },
      },
      commune,
    );
    ok(completed, 'completion');
    r.rxCode = completed.body.prescriptionCode;
    const room = await call(p, 'POST', `/api/visits/${r.visitId}/room`, {}, commune);
    ok(room, 'room');
    r.roomId = room.body.roomId;

    // A training course at the Bạch Mai hub, taught by the specialist.
    const programmeRes = await call(p, 'POST', '/api/training/programmes', { title: 'Tim mạch cho tuyến xã' }, coordinator);
    ok(programmeRes, 'programme');
    const course = await call(
      p,
      'POST',
      '/api/training/courses',
      {
        programmeId: programmeRes.body.id,
        title: 'Quản lý tăng huyết áp ở tuyến xã',
        capacity: 20,
        teacherPractitionerIds: [demo.ids.practitioners[0]],
        sessions: [
          { title: 'Buổi 1: đo huyết áp đúng cách', start: start.toISOString(), end: new Date(start.getTime() + 3_600_000).toISOString(), credits: 2 },
        ],
        preTest: [{ text: 'Huyết áp mục tiêu?', options: ['150/90', '130/80'], correct: 1 }],
      },
      coordinator,
    );
    ok(course, 'course');
    r.courseId = course.body.id;

    // A CT study sent from the station to Bạch Mai for reading.
    const series = syntheticSeries({ count: 3, size: 32, spacing: 0.7 });
    const { body, type } = multipartBody(series.files);
    const stow = await p.app.inject({
      method: 'POST',
      url: `/api/imaging/dicomweb/patients/${r.ownPatient}/studies?hub=${demo.ids.organizations.bachmai}&urgency=routine`,
      headers: { cookie: commune.cookie, 'x-csrf-token': commune['x-csrf-token'], 'content-type': type },
      payload: body,
    });
    expect(stow.statusCode, stow.body).toBe(200);
    r.studyId = stow.headers['x-imaging-study'] as string;

    base = await p.listen();
    browser = await launchBrowser({ media: true });
  }, 300_000);
  afterAll(async () => {
    await browser?.close();
    await p?.close();
  });

  it('the inventory covers every route of the web router and every admin tab', () => {
    const visited = inventory(r).flatMap(([, pages]) => pages.map((x) => x.path));
    const paths = visited.map((x) => x.split('?')[0]);
    const missing = routerRoutes()
      .filter((route) => !paths.some((x) => route.matches(x)))
      .map((route) => route.route);
    expect(routerRoutes().length).toBeGreaterThan(30);
    expect(missing).toEqual([]);
    const tabs = /const TABS = \[([^\]]*)\]/
      .exec(readFileSync('web/src/pages/admin/Admin.tsx', 'utf8'))![1]
      .match(/'(\w+)'/g)!
      .map((t) => t.slice(1, -1));
    for (const tab of tabs) expect(visited, `admin tab ${tab}`).toContain(`/admin?tab=${tab}`);
  });

  it('the checks themselves find raw ids, permission codes, English labels and an endless loading message', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.setContent(
      `<html lang="vi"><body><main><h1>Hồ sơ</h1><p>Patient/abc-1 và 5031af66-7fb0-44ed-8460-fce541c29f9f</p>
       <p class="error">Vai trò coordinator không được phép (imaging.view not allowed for this role)</p>
       <button>Save</button><label>Tên <input></label><p>Đang tải…</p>
       <button lang="en">English</button></main></body></html>`,
    );
    const f = await findings(page);
    expect(f.rawIds).toEqual(['Patient/abc-1', '5031af66-7fb0-44ed-8460-fce541c29f9f']);
    expect(f.rawCodes).toEqual(['imaging.view']);
    expect(f.english).toEqual(['Save']);
    expect(f.loading).toBe(true);
    await context.close();
  });

  for (const [username, label] of [
    [undefined, 'signed out'],
    ['nguoidan', 'citizen'],
    ['bs.batxat', 'commune clinician'],
    ['dieuphoi', 'coordinator'],
    ['bs.bachmai', 'specialist and teacher'],
    ['quantri.laocai', 'facility administrator'],
    ['quantri', 'system administrator'],
    ['baovedulieu', 'data protection officer'],
    ['thongke', 'analyst'],
    ['soyte.laocai', 'provincial health department analyst'],
    ['ytdp.laocai', 'disease-control officer'],
  ] as const) {
    it(`${label}${username ? ` (${username})` : ''}: every page`, async () => {
      const pages = inventory(r).find(([u]) => u === username)![1];
      // As a person in Viet Nam sees it: the browser's own controls (file and month pickers) in Vietnamese.
      const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
      const page = await context.newPage();
      page.on('dialog', (d) => void d.dismiss());
      const problems: string[] = [];
      if (username) {
        await signInUi(page, base, username, people[username].totpSecret);
        // Every entry of this role's menu is in the inventory.
        const offered = await page
          .locator('#main-menu a')
          .evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).pathname + (a as HTMLAnchorElement).search));
        for (const href of offered) if (!pages.some((x) => x.path === href)) problems.push(`menu entry ${href} is not in the inventory`);
      }
      for (const visit of pages) {
        const settled = await open(page, `${base}${visit.path}`);
        if (!settled) problems.push(`${visit.path}: still loading after 15 s`);
        for (const lang of ['vi'] as const) {
          const f = await findings(page, visit.allow);
          if (f.rawIds.length) problems.push(`${visit.path} (${lang}): raw ids ${f.rawIds.join(', ')}`);
          if (f.rawCodes.length) problems.push(`${visit.path} (${lang}): raw codes ${f.rawCodes.join(', ')}`);
          if (f.english.length) problems.push(`${visit.path} (${lang}): English labels ${f.english.map((e) => JSON.stringify(e)).join(', ')}`);
        }
        if (visit.axe) for (const x of await seriousViolations(page)) problems.push(`${visit.path}: axe ${x}`);
        try {
          await shoot(page, `pages/${visit.name}`);
        } catch (e) {
          problems.push(`${visit.path}: ${(e as Error).message.split('\n')[0]}`);
        }
        await page.setViewportSize({ width: 1366, height: 900 });
      }
      await context.close();
      expect(problems).toEqual([]);
    }, 240_000);
  }
});
