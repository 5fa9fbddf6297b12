/**
 * Resumable uploads from stations over weak links: the tus protocol (@tus/server with its file
 * store under $CAUYTE_DATA_DIR/imaging/uploads; the browser uses tus-js-client, which resumes after
 * a dropped link or a closed browser from where the server says it got to), then one commit that
 * turns the finished uploads into one study.
 *
 *   POST/HEAD/PATCH/DELETE /api/imaging/uploads/files[/{id}]   tus 1.0 (creation, termination)
 *   POST /api/imaging/uploads/commit  { patientId, uploadIds, request? }
 *
 * Rules:
 * - an upload belongs to the account that created it (metadata `owner`, set here, never by the
 *   client); any other account gets 403 on every tus request and at commit;
 * - the client states each file's SHA-256 (metadata `sha256`); commit recomputes it and refuses a
 *   mismatch, so a file damaged on the way is never stored;
 * - commit refuses unfinished uploads, checks every file (DICOM) before storing any, stores the
 *   study all or nothing (StudyService.ingest), and only then removes the staged files;
 * - commit streams: each staged file is hashed from disk, only its DICOM header is parsed, and it
 *   is copied/streamed into the image store — memory does not grow with the study's size;
 * - uploads with the same SHA-256 in one commit are stored once.
 */
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Server } from '@tus/server';
import { FileStore } from '@tus/file-store';
import { parseInput as parse } from '../http/input.ts';
import { badRequest } from '../fhir/outcome.ts';
import { AccessDenied } from '../auth/access.ts';
import { commitBody } from './contract.ts';
import type { StudyService } from './studies.ts';
import { hashFile } from './staged.ts';

const PATH = '/api/imaging/uploads/files';
const OWNER_HEADER = 'x-cauyte-upload-owner';
/** Largest single file (a 200 MB study is many files; a big multi-frame file is one). */
const MAX_FILE_BYTES = 1024 * 1024 * 1024;

export async function uploadRoutes(app: FastifyInstance, opts: { studies: StudyService; dir: string }): Promise<void> {
  // Made at the first upload: FileStore creates its folder when constructed.
  let made: { store: FileStore; tus: Server } | undefined;
  const open = () => (made ??= makeTus(opts.dir));

  const access = { config: { access: { domain: 'imaging.upload' as const } } };
  // tus bodies are streamed to the store by @tus/server, never parsed by Fastify.
  app.addContentTypeParser('application/offset+octet-stream', (_req, _payload, done) => done(null));

  const handle = async (req: FastifyRequest, reply: FastifyReply) => {
    const owner = req.ctx.actor.accountId;
    if (!owner) throw new AccessDenied('Cần đăng nhập bằng tài khoản (an account is required)', 401);
    // Without the protocol header tus answers in plain text: say it as a problem like every other edge.
    if (!req.headers['tus-resumable'])
      return reply.code(412).send({ title: 'Thiếu tiêu đề Tus-Resumable: 1.0.0 (tus resumable upload protocol required)', status: 412 });
    // A body Fastify already parsed cannot be streamed to tus again: only tus's own type is accepted.
    if (req.method === 'PATCH' && req.headers['content-type'] !== 'application/offset+octet-stream')
      return reply.code(415).send({ title: 'PATCH cần Content-Type application/offset+octet-stream (tus)', status: 415 });
    // Replaces anything the client sent (both header views: @tus/server reads rawHeaders).
    req.raw.headers[OWNER_HEADER] = owner;
    const raw = req.raw.rawHeaders;
    for (let i = raw.length - 2; i >= 0; i -= 2) if (raw[i].toLowerCase() === OWNER_HEADER) raw.splice(i, 2);
    raw.push(OWNER_HEADER, owner);
    reply.hijack();
    await open().tus.handle(req.raw, reply.raw);
  };
  for (const url of [PATH, `${PATH}/:id`]) {
    app.route({ method: ['POST', 'PATCH', 'DELETE'], url, ...access, handler: handle });
    app.route({ method: 'HEAD', url, ...access, handler: handle });
  }

  app.post('/api/imaging/uploads/commit', access, async (req, reply) => {
    const input = parse(commitBody, req.body);
    const { store } = open();
    const owner = req.ctx.actor.accountId;
    const files: { name: string; path: string; sha256: string }[] = [];
    const seen = new Set<string>();
    for (const id of input.uploadIds) {
      let upload;
      try {
        upload = await store.getUpload(id);
      } catch {
        throw badRequest(`Không tìm thấy tệp tải lên ${id} (upload not found)`);
      }
      const name = upload.metadata?.filename ?? id;
      if (!owner || upload.metadata?.owner !== owner) throw new AccessDenied('Không phải tệp bạn tải lên (not your upload)');
      if (upload.size === undefined || upload.offset !== upload.size)
        throw badRequest(`${name}: chưa tải xong (${upload.offset}/${upload.size ?? '?'} byte) — upload not finished`);
      // Streamed from disk: a 200 MB study is never held in memory (hash, header-only parse, copy to the store).
      const path = join(opts.dir, id);
      const sha = await hashFile(path);
      if (sha !== upload.metadata?.sha256) throw badRequest(`${name}: mã kiểm tra không khớp, tệp bị hỏng trên đường truyền; hãy gửi lại (checksum mismatch)`);
      if (seen.has(sha)) continue;
      seen.add(sha);
      files.push({ name, path, sha256: sha });
    }
    const checked = await opts.studies.checkStaged(files);
    const study = await opts.studies.ingest(req.ctx, input.patientId, checked, input.request);
    for (const id of input.uploadIds) await store.remove(id).catch(() => undefined);
    return reply.code(201).send({ id: study.id, studyUid: checked[0].parsed.studyUid, instances: study.numberOfInstances });
  });
}

function makeTus(dir: string): { store: FileStore; tus: Server } {
  const store = new FileStore({ directory: dir, expirationPeriodInMilliseconds: 7 * 24 * 3600 * 1000 });
  const tus = new Server({
    path: PATH,
    datastore: store,
    relativeLocation: true,
    respectForwardedHeaders: false,
    maxSize: MAX_FILE_BYTES,
    async onUploadCreate(req, upload) {
      const owner = req.headers.get(OWNER_HEADER);
      if (!owner) throw { status_code: 403, body: 'no owner' };
      const sha = upload.metadata?.sha256;
      if (!sha || !/^[0-9a-f]{64}$/.test(sha)) throw { status_code: 400, body: 'Thiếu mã kiểm tra sha256 của tệp (metadata sha256 required)\n' };
      return { metadata: { ...upload.metadata, owner } };
    },
    async onIncomingRequest(req, uploadId) {
      if (req.method === 'POST') return;
      const owner = req.headers.get(OWNER_HEADER);
      let upload;
      try {
        upload = await store.getUpload(uploadId);
      } catch {
        return; // tus answers 404 itself
      }
      if (!owner || upload.metadata?.owner !== owner) throw { status_code: 403, body: 'Không phải tệp bạn tải lên (not your upload)\n' };
    },
  });
  return { store, tus };
}
