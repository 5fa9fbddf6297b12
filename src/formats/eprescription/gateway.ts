/**
 * The national e-prescription system (donthuocquocgia.vn) as its clients call it
 * (docs/national-formats.md §3 [S12]): `POST api/auth/dang-nhap-bac-si` with
 * ma_lien_thong_co_so_kham_chua_benh, ma_lien_thong_bac_si, password → a token sent in the
 * `access-token` header; then the prescription as JSON.
 *
 * [U] Not in any official copy we found: the send path (`api/v1/gui-don-thuoc` here, configurable
 * by the base URL only), the login reply's token field (we accept `token` or `access_token`, at
 * the top level or under `data`), and the reply codes: a 2xx is taken as accepted, a 4xx as a
 * refusal (kept with its body's message), a network failure or 5xx as transient (retried).
 */
import { Transient } from '../gateway/bhxh.ts';
import type { EPrescriptionPayload } from './payload.ts';

export interface EPrescriptionAccount {
  facilityLink: string;
  doctorLink: string;
  password: string;
}

export interface EPrescriptionReply {
  accepted: boolean;
  status: number;
  message?: string;
}

export const SEND_PATH = 'api/v1/gui-don-thuoc';

export class EPrescriptionGateway {
  private readonly tokens = new Map<string, string>();

  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs = 30_000,
  ) {}

  private async post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> }> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.baseUrl.endsWith('/') ? this.baseUrl : `${this.baseUrl}/`), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      throw new Transient(`e-prescription gateway unreachable: ${(e as Error).message}`);
    }
    if (res.status >= 500) throw new Transient(`e-prescription gateway answered ${res.status}`);
    const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    return { status: res.status, json };
  }

  private async token(a: EPrescriptionAccount): Promise<string | EPrescriptionReply> {
    const key = `${a.facilityLink}/${a.doctorLink}`;
    const hit = this.tokens.get(key);
    if (hit) return hit;
    const r = await this.post('api/auth/dang-nhap-bac-si', {
      ma_lien_thong_co_so_kham_chua_benh: a.facilityLink,
      ma_lien_thong_bac_si: a.doctorLink,
      password: a.password,
    });
    const data = (r.json.data ?? {}) as Record<string, unknown>;
    const token = r.json.token ?? r.json.access_token ?? data.token ?? data.access_token;
    if (r.status >= 400 || typeof token !== 'string') return { accepted: false, status: r.status, message: String(r.json.message ?? 'login refused') };
    this.tokens.set(key, token);
    return token;
  }

  async send(a: EPrescriptionAccount, p: EPrescriptionPayload): Promise<EPrescriptionReply> {
    const token = await this.token(a);
    if (typeof token !== 'string') return token;
    const r = await this.post(SEND_PATH, p, { 'access-token': token });
    if (r.status === 401) this.tokens.delete(`${a.facilityLink}/${a.doctorLink}`);
    const message = r.json.message ?? r.json.thong_bao;
    return { accepted: r.status < 300, status: r.status, ...(message ? { message: String(message) } : {}) };
  }
}
