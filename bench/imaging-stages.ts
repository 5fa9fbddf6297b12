/**
 * Where the time to first image goes (bench/imaging-weaklink.ts): one page load's stages, from the
 * page's own timing (navigation and resource timing, the viewer's `cy:*` marks in
 * web/src/imaging/) and the network as Playwright saw it (which includes the decode worker's
 * requests). All times in ms after the navigation started; nothing here is asserted.
 */

export interface NetEntry {
  url: string;
  start: number;
  end?: number;
  bytes?: number;
}

export interface PageTiming {
  marks: (readonly [string, number])[];
  /** [url, startTime, responseEnd] */
  resources: (readonly [string, number, number])[];
  html: number;
}

export interface Stages {
  label: string;
  totalMs: number;
  html: number;
  appJs?: number;
  details?: number;
  viewerJs?: number;
  engineStart?: number;
  engineReady?: number;
  worker?: number;
  wasm: string[];
  imageStart?: number;
  imageEnd?: number;
  imageBytes?: number;
  imageLoaded?: number;
  rendered?: number;
  /** The first image drawn from its early bytes before the engine (web/src/imaging/preview.ts). */
  preview?: number;
  /** When the engine had taken over (status without its preview note), ms after navigation. */
  engineShownMs?: number;
  /** API requests that started before the first image's bytes were asked for. */
  apiBefore: string[];
}

const file = (url: string) => new URL(url).pathname.split('/').pop() ?? url;

export function stagesOf(t: PageTiming, net: NetEntry[]): Stages {
  const mark = (n: string) => t.marks.find(([name]) => name === `cy:${n}`)?.[1];
  const res = (re: RegExp) => t.resources.filter(([u]) => re.test(new URL(u).pathname));
  const js = res(/^\/assets\/.*\.js$/).filter(([u]) => !/viewer-|decodeImageFrameWorker/.test(u));
  // The first image's bytes: the study page's early request (first-image), else the first WADO-RS instance.
  const image = [...res(/\/first-image$/), ...res(/\/instances\/[^/]+$/)].sort((a, b) => a[1] - b[1])[0];
  const imageNet = image ? net.find((n) => n.url === image[0]) : undefined;
  const worker = net.find((n) => /decodeImageFrameWorker/.test(n.url));
  return {
    label: '',
    totalMs: 0,
    html: t.html,
    appJs: js.length ? Math.max(...js.map((r) => r[2])) : undefined,
    details: res(/^\/api\/imaging\/studies\/[^/]+$/)[0]?.[2],
    viewerJs: res(/\/assets\/viewer-/)[0]?.[2],
    engineStart: mark('engine-start'),
    engineReady: mark('engine-ready'),
    worker: worker?.end,
    wasm: net.filter((n) => n.url.endsWith('.wasm')).map((n) => `${file(n.url)}@${Math.round(n.end ?? -1)}`),
    imageStart: image?.[1],
    imageEnd: image?.[2],
    imageBytes: imageNet?.bytes,
    imageLoaded: mark('image-loaded'),
    rendered: mark('rendered'),
    preview: mark('preview'),
    apiBefore: net.filter((n) => new URL(n.url).pathname.startsWith('/api/') && (!image || n.start < image[1])).map((n) => new URL(n.url).pathname),
  };
}

export function fmtStages(s: Stages): string {
  const f = (v?: number) => (v === undefined ? '–' : Math.round(v).toString());
  return [
    `total ${f(s.totalMs)}`,
    `html ${f(s.html)}`,
    `app js ${f(s.appJs)}`,
    `details ${f(s.details)}`,
    `viewer js ${f(s.viewerJs)}`,
    `engine ${f(s.engineStart)}→${f(s.engineReady)}`,
    `worker ${f(s.worker)}`,
    `wasm ${s.wasm.length ? s.wasm.join(' ') : 'none'}`,
    `image bytes ${f(s.imageStart)}→${f(s.imageEnd)} (${s.imageBytes ?? '?'} B)`,
    `decoded ${f(s.imageLoaded)}`,
    `rendered ${f(s.rendered)}`,
    `preview ${f(s.preview)}`,
    `engine shown ${f(s.engineShownMs)}`,
    `api before image: ${s.apiBefore.join(', ') || 'none'}`,
  ].join(' | ');
}
