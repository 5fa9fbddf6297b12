/**
 * A small stand-in for the BHXH XML gateway (CV 1245 shapes, docs/national-formats.md §1.1), for
 * tests: form-encoded POSTs, JSON replies. `api/token/take` checks the account (password as
 * upper-case MD5); check-in and send check the token headers, then the file: no signature → 123,
 * a signature that does not verify with the facility's registered certificate (xmlsec1) → 125, a
 * visit key (MA_LK) already received → refused as a duplicate (code 409 here: the real gateway's
 * duplicate code is not in the public sources), else 200 with a transaction code.
 * `dropNext(n)` cuts the connection of the next n file requests before reading them (a network
 * failure), so a retry can be seen to send exactly once.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { makeFacilityCertificate, type TestCertificate } from './certificates.ts';

export interface FakeBhxh {
  url: string;
  /** MA_LK → how many times the visit was accepted. */
  accepted: Map<string, number>;
  checkIns: Map<string, number>;
  requests: { path: string; kind?: string; result: string }[];
  dropNext(n: number): void;
  close(): Promise<void>;
}

const md5Upper = (s: string) => createHash('md5').update(s).digest('hex').toUpperCase();
const parser = new XMLParser({ parseTagValue: false, isArray: (n) => ['HOSO', 'FILEHOSO', 'TRANG_THAI_KCB'].includes(n) });

export async function startFakeBhxh(opts: { username: string; password: string; certPath: string; dir: string }): Promise<FakeBhxh> {
  const tokens = new Set<string>();
  const accepted = new Map<string, number>();
  const checkIns = new Map<string, number>();
  const requests: FakeBhxh['requests'] = [];
  let drop = 0;
  let n = 0;

  const verifies = (xml: string): boolean => {
    const file = join(opts.dir, `fake-bhxh-${randomUUID()}.xml`);
    writeFileSync(file, xml);
    try {
      execFileSync('xmlsec1', ['--verify', '--pubkey-cert-pem', opts.certPath, file], { stdio: 'pipe' });
      return true;
    } catch {
      return false;
    }
  };

  const visitKeys = (xml: string, checkIn: boolean): string[] => {
    const doc = parser.parse(xml);
    if (checkIn) return (doc.CHI_TIEU_TRANG_THAI_KCB?.DSACH_TRANG_THAI_KCB?.TRANG_THAI_KCB ?? []).map((r: { MA_LK: string }) => r.MA_LK);
    const hoso = doc.GIAMDINHHS?.THONGTINHOSO?.DANHSACHHOSO?.HOSO ?? [];
    return hoso.map((h: { FILEHOSO: { LOAIHOSO: string; NOIDUNGFILE: string }[] }) => {
      const x1 = h.FILEHOSO.find((f) => f.LOAIHOSO === 'XML1')!;
      return parser.parse(Buffer.from(x1.NOIDUNGFILE, 'base64').toString('utf8')).TONG_HOP.MA_LK as string;
    });
  };

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').replace(/^\//, '');
    const isFile = path === 'api/qd130/checkInKcbQd4750' || path === 'api/qd130/guiHoSoXmlQD4750';
    if (isFile && drop > 0) {
      drop--;
      requests.push({ path, result: 'dropped' });
      req.socket.destroy();
      return;
    }
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const form = new URLSearchParams(body);
      const reply = (r: Record<string, unknown>) => {
        requests.push({ path, kind: form.get('loaiHoSo') ?? undefined, result: String(r.maKetQua) });
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(r));
      };
      if (path === 'api/token/take') {
        if (form.get('username') !== opts.username || form.get('password') !== md5Upper(opts.password))
          return reply({ maKetQua: '401', thongDiep: 'Sai tài khoản hoặc mật khẩu' });
        const access = randomUUID();
        tokens.add(access);
        return reply({ maKetQua: '200', APIKey: { access_token: access, id_token: randomUUID(), token_type: 'Bearer', expires_in: 3600 } });
      }
      if (!isFile) return res.writeHead(404).end();
      if (!tokens.has(String(req.headers.accesstoken)) || !req.headers.tokenid || req.headers.passwordhash !== md5Upper(opts.password))
        return reply({ maKetQua: '401', thongDiep: 'Token không hợp lệ' });
      const xml = Buffer.from(form.get('fileHSBase64') ?? '', 'base64').toString('utf8');
      if (!/<(\w+:)?Signature[\s>]/.test(xml)) return reply({ maKetQua: '123', thongDiep: 'Hồ sơ chưa được ký số' });
      if (!verifies(xml)) return reply({ maKetQua: '125', thongDiep: 'Chữ ký số không hợp lệ' });
      const checkIn = path.startsWith('api/qd130/checkIn');
      const keys = visitKeys(xml, checkIn);
      const seen = checkIn ? checkIns : accepted;
      if (!checkIn && keys.some((k) => accepted.has(k))) return reply({ maKetQua: '409', thongDiep: 'Hồ sơ đã tồn tại (trùng MA_LK)' });
      for (const k of keys) seen.set(k, (seen.get(k) ?? 0) + 1);
      const t = new Date(Date.now() + 7 * 3_600_000).toISOString().replace(/\D/g, '').slice(0, 14);
      return reply({ maKetQua: '200', maGiaoDich: `GD${String(++n).padStart(8, '0')}`, thoiGianTiepNhan: t, thongDiep: 'Thành công' });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    accepted,
    checkIns,
    requests,
    dropNext(k) {
      drop = k;
    },
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/**
 * A facility's signing certificate, a fake gateway that knows its account and certificate, and the
 * platform settings that point at both (the credentials file `CAUYTE_FACILITY_CREDENTIALS` reads; the
 * sending queue's own timer held off so that tests drive it).
 */
export async function startFacilityGateway(
  facilityCode: string,
  bhxh: { username: string; province: string },
): Promise<{ cert: TestCertificate; fake: FakeBhxh; env: Record<string, string> }> {
  const password = 'mật-khẩu-cổng';
  const cert = makeFacilityCertificate();
  const fake = await startFakeBhxh({ username: bhxh.username, password, certPath: cert.certPath, dir: cert.dir });
  const credentials = join(cert.dir, 'facilities.json');
  writeFileSync(credentials, JSON.stringify({ [facilityCode]: { p12: 'facility.p12', p12Password: cert.password, bhxh: { ...bhxh, password } } }));
  return { cert, fake, env: { CAUYTE_BHXH_GATEWAY_URL: fake.url, CAUYTE_FACILITY_CREDENTIALS: credentials, CAUYTE_GATEWAY_QUEUE_SECONDS: '3600' } };
}
