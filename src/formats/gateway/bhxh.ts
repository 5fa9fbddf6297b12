/**
 * The social-insurance (BHXH) XML gateway as documented in CV 1245/BHXH-CNTT [S2]
 * (docs/national-formats.md §1.1): `POST api/token/take` (username, password as upper-case MD5)
 * → APIKey{access_token, id_token, token_type, expires_in}; `POST api/qd130/checkInKcbQd4750` and
 * `api/qd130/guiHoSoXmlQD4750` with headers accessToken, tokenId, passwordHash and a form body
 * (username, loaiHoSo 0 = check-in / 130 = visit, maTinh, maCSKCB, fileHSBase64) → JSON reply
 * {maKetQua, maGiaoDich, thoiGianTiepNhan, thongDiep}.
 *
 * Rules: a network failure, a timeout or a 5xx is `Transient` (the queue retries); any other
 * reply is returned as it is, success or refusal. Success is maKetQua "200" [U: the value is not
 * in the public copy]; 123 = unsigned and 125 = bad signature [U, S13]. Tokens are cached per
 * account until a minute before they expire; passwords are hashed, never logged.
 */
import { createHash } from 'node:crypto';

export interface GatewayAccount {
  username: string;
  password: string;
  province: string;
}

export interface GatewayReply {
  maKetQua: string;
  maGiaoDich?: string;
  thoiGianTiepNhan?: string;
  thongDiep?: string;
}

export const GATEWAY_OK = '200';
export const GATEWAY_UNSIGNED = '123';
export const GATEWAY_BAD_SIGNATURE = '125';

export class Transient extends Error {}

const md5Upper = (s: string) => createHash('md5').update(s, 'utf8').digest('hex').toUpperCase();

export class BhxhGateway {
  private readonly tokens = new Map<string, { access: string; id: string; until: number }>();

  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs = 30_000,
  ) {}

  private async post(path: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Record<string, unknown>> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.baseUrl.endsWith('/') ? this.baseUrl : `${this.baseUrl}/`), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams(form).toString(),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      throw new Transient(`gateway unreachable: ${(e as Error).message}`);
    }
    if (res.status >= 500) throw new Transient(`gateway answered ${res.status}`);
    try {
      return (await res.json()) as Record<string, unknown>;
    } catch {
      throw new Transient(`gateway answered ${res.status} without JSON`);
    }
  }

  private async token(a: GatewayAccount): Promise<{ access: string; id: string }> {
    const hit = this.tokens.get(a.username);
    if (hit && hit.until > Date.now()) return hit;
    const r = await this.post('api/token/take', { username: a.username, password: md5Upper(a.password) });
    const k = r.APIKey as { access_token?: string; id_token?: string; expires_in?: number | string } | undefined;
    if (!k?.access_token || !k.id_token) throw new GatewayRefused({ maKetQua: String(r.maKetQua ?? '401'), thongDiep: 'token refused' });
    const t = { access: k.access_token, id: k.id_token, until: Date.now() + Math.max(60, Number(k.expires_in ?? 600) - 60) * 1000 };
    this.tokens.set(a.username, t);
    return t;
  }

  private async file(path: string, a: GatewayAccount, facilityCode: string, kind: '0' | '130', xml: string): Promise<GatewayReply> {
    const t = await this.token(a);
    const r = await this.post(
      path,
      { username: a.username, loaiHoSo: kind, maTinh: a.province, maCSKCB: facilityCode, fileHSBase64: Buffer.from(xml, 'utf8').toString('base64') },
      { accessToken: t.access, tokenId: t.id, passwordHash: md5Upper(a.password) },
    );
    if (r.maKetQua === '401') this.tokens.delete(a.username);
    return {
      maKetQua: String(r.maKetQua ?? ''),
      ...(r.maGiaoDich ? { maGiaoDich: String(r.maGiaoDich) } : {}),
      ...(r.thoiGianTiepNhan ? { thoiGianTiepNhan: String(r.thoiGianTiepNhan) } : {}),
      ...(r.thongDiep ? { thongDiep: String(r.thongDiep) } : {}),
    };
  }

  checkIn(a: GatewayAccount, facilityCode: string, signedXml: string): Promise<GatewayReply> {
    return this.file('api/qd130/checkInKcbQd4750', a, facilityCode, '0', signedXml);
  }

  send(a: GatewayAccount, facilityCode: string, signedXml: string): Promise<GatewayReply> {
    return this.file('api/qd130/guiHoSoXmlQD4750', a, facilityCode, '130', signedXml);
  }
}

export class GatewayRefused extends Error {
  constructor(readonly reply: GatewayReply) {
    super(`gateway refused: ${reply.maKetQua} ${reply.thongDiep ?? ''}`.trim());
  }
}
