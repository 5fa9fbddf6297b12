/**
 * What `cauyte serve` prints when it starts, and `cauyte demo accounts`: the demo accounts with
 * their TOTP keys (read back from the database, decrypted with the server secret) and one line per
 * service started (web app, FHIR API, MQTT broker, Janus).
 *
 * Rules: only the demo people (DEMO_PLAN) are ever listed, and only while their password is still
 * the published demo password — an account whose password was changed is no longer a demo
 * account and its key is never printed. OAuth client secrets are stored hashed: only the client id
 * can be shown again.
 */
import { verify as argonVerify } from '@node-rs/argon2';
import type { Db } from '../db/db.ts';
import type { ServerSecret } from '../auth/secret.ts';
import { isRole } from '../auth/policy.ts';
import { DEMO_PASSWORD, DEMO_PLAN, demoSignInHelp, type DemoAccount } from '../seed/accounts.ts';

/** The demo accounts still in this database with the demo password, with their current TOTP keys. */
export async function readDemoAccounts(db: Db, secret: ServerSecret): Promise<{ accounts: DemoAccount[]; client?: { clientId: string } }> {
  const rows = (
    await db.query<{ username: string; password_hash: string | null; totp_secret: string | null; totp_enabled: boolean; disabled: boolean }>(
      'SELECT username, password_hash, totp_secret, totp_enabled, disabled FROM account WHERE username = ANY($1::text[])',
      [DEMO_PLAN.map((p) => p.username)],
    )
  ).rows;
  const accounts: DemoAccount[] = [];
  for (const plan of DEMO_PLAN) {
    const row = rows.find((r) => r.username === plan.username);
    if (!row?.password_hash || row.disabled || !isRole(plan.role)) continue;
    if (!(await argonVerify(row.password_hash, DEMO_PASSWORD).catch(() => false))) continue;
    const totpSecret = row.totp_secret && row.totp_enabled ? secret.decrypt(row.totp_secret) : undefined;
    accounts.push({ username: plan.username, role: plan.role, totpSecret, note: plan.note });
  }
  const client = (
    await db.query<{ client_id: string }>(
      "SELECT c.client_id FROM oauth_client c JOIN account a ON a.id = c.account_id WHERE a.username = 'his-demo' ORDER BY c.created_at LIMIT 1",
    )
  ).rows[0];
  return { accounts, client: client ? { clientId: client.client_id } : undefined };
}

/** The demo accounts as printed at start and by `cauyte demo accounts`; undefined when none are left. */
export async function demoAccountsText(db: Db, secret: ServerSecret, url: string): Promise<string | undefined> {
  const demo = await readDemoAccounts(db, secret);
  return demo.accounts.length ? demoSignInHelp(url, demo) : undefined;
}

export interface StartedServices {
  url: string;
  database: string;
  mqtt: { port?: number; url?: string };
  janus: { urls: string[] };
  /** The bundled CDS Hooks service (src/cds/bundled), when the cds domain runs. */
  cds?: { url?: string; off: boolean };
}

/** One line per service, so a newcomer sees at once what runs where (and what does not). */
/** The base URL a started server announced (its banner's web-app line, or a bench server's "running at <url>"): for tests and benchmarks that start one. */
export function announcedUrl(out: string): string | undefined {
  return /(?:\(web app\):|running at)\s+(http:\/\/[^\s]*[^\s/])/.exec(out)?.[1];
}

export function startBanner(s: StartedServices): string {
  const mqtt = s.mqtt.url
    ? `MQTT (thiết bị / devices): broker ngoài ${s.mqtt.url}`
    : s.mqtt.port
      ? `MQTT (thiết bị / devices): mqtt://<máy này>:${s.mqtt.port}`
      : 'MQTT (thiết bị / devices): tắt (off) — CAUYTE_MQTT_PORT=0';
  const janus = s.janus.urls.length
    ? `Janus (video nhiều người / large video sessions): ${s.janus.urls.join(', ')}`
    : `Janus: không chạy (not running) — video trực tiếp giữa trình duyệt, tối đa 4 người (browser-to-browser, up to 4 people)`;
  return [
    'Cầu Y Tế đang chạy (is running):',
    `  Ứng dụng web (web app):  ${s.url}/`,
    `  FHIR R4 API:             ${s.url}/fhir/R4`,
    `  Cơ sở dữ liệu (database): ${s.database}`,
    `  ${mqtt}`,
    `  ${janus}`,
    ...(s.cds
      ? [
          s.cds.url
            ? `  Dịch vụ hỗ trợ quyết định đi kèm (bundled CDS Hooks service): ${s.cds.url}/cds-services`
            : `  Dịch vụ hỗ trợ quyết định đi kèm: ${s.cds.off ? 'tắt (off) — CAUYTE_CDS_BUNDLED=off' : 'không chạy (not running)'}`,
        ]
      : []),
    '  Nhật ký yêu cầu (request log): LOG_LEVEL=debug để xem từng yêu cầu (one line per request at debug)',
  ].join('\n');
}
