/**
 * A small stand-in for the national e-prescription system, for tests, with the request shapes its
 * clients use (docs/national-formats.md §3): doctor login → token; the prescription as JSON with
 * the `access-token` header. It checks the code's shape (facility 5 + 7 + "-" + c/n/h/y), that
 * `loai_don_thuoc` matches the code's letter, that there are items, and refuses a code it already
 * holds (409). `dropNext(n)` cuts the next n sends before reading them (a network failure).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeEPrescription {
  url: string;
  received: Map<string, Record<string, unknown>[]>;
  dropNext(n: number): void;
  close(): Promise<void>;
}

export async function startFakeEPrescription(account: { facilityLink: string; doctorLink: string; password: string }): Promise<FakeEPrescription> {
  const tokens = new Set<string>();
  const received = new Map<string, Record<string, unknown>[]>();
  let drop = 0;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').replace(/^\//, '');
    if (path === 'api/v1/gui-don-thuoc' && drop > 0) {
      drop--;
      req.socket.destroy();
      return;
    }
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const send = (status: number, r: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(r));
      let j: Record<string, unknown>;
      try {
        j = JSON.parse(body);
      } catch {
        return send(400, { message: 'JSON không hợp lệ' });
      }
      if (path === 'api/auth/dang-nhap-bac-si') {
        if (j.ma_lien_thong_co_so_kham_chua_benh !== account.facilityLink || j.ma_lien_thong_bac_si !== account.doctorLink || j.password !== account.password)
          return send(401, { message: 'Sai thông tin đăng nhập' });
        const token = randomUUID();
        tokens.add(token);
        return send(200, { token });
      }
      if (path !== 'api/v1/gui-don-thuoc') return send(404, { message: 'not found' });
      if (!tokens.has(String(req.headers['access-token']))) return send(401, { message: 'Token không hợp lệ' });
      const code = String(j.ma_don_thuoc ?? '');
      const m = /^[A-Za-z0-9]{5}[a-z0-9]{7}-([cnhy])$/.exec(code);
      if (!m) return send(400, { message: 'Mã đơn thuốc không đúng định dạng' });
      if (j.loai_don_thuoc !== m[1]) return send(400, { message: 'Loại đơn thuốc không khớp mã đơn' });
      if (!Array.isArray(j.thong_tin_don_thuoc) || !j.thong_tin_don_thuoc.length) return send(400, { message: 'Đơn thuốc không có thuốc' });
      if (received.has(code)) return send(409, { message: 'Mã đơn thuốc đã tồn tại' });
      received.set(code, [j]);
      return send(200, { message: 'Thành công' });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    received,
    dropNext(n) {
      drop = n;
    },
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
