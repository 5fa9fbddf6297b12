/**
 * The station's side of the weak-link upload benchmark, run inside the link's client namespace
 * (`<link.runInside> node --import tsx bench/imaging-upload-client.ts <json>`): reads the study's
 * files from a folder, sends them one way (tus + commit, or the raw copy) and prints
 * `{"ms": …, "id"?: …}` on stdout. Only the link's host address is contacted.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rawCopy, tusUpload } from './imaging-upload.ts';

const a = JSON.parse(process.argv[2]) as {
  mode: 'tus' | 'raw';
  dir: string;
  base: string;
  sink: string;
  token: string;
  patientId: string;
  chunk: number;
  parallel: number;
};
const files = readdirSync(a.dir)
  .sort()
  .map((n) => readFileSync(join(a.dir, n)));
const t0 = performance.now();
let id: string | undefined;
if (a.mode === 'raw') await rawCopy(a.sink, files);
else id = await tusUpload(a.base, a.token, a.patientId, files, { chunk: a.chunk, parallel: a.parallel });
process.stdout.write(JSON.stringify({ ms: performance.now() - t0, ...(id ? { id } : {}) }) + '\n');
