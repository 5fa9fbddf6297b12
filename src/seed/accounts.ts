/**
 * Demo accounts, one per role, for a newcomer to try every view at once. Created only in demo
 * mode (a new embedded database, or CAUYTE_DEMO=on); never silently against DATABASE_URL.
 * Staff accounts come with TOTP already enrolled; the secrets are printed with the sign-in help.
 */
import { Secret } from 'otpauth';
import type { DemoSummary } from './demo.ts';
import type { AccountService } from '../auth/accounts.ts';
import { registerClient } from '../auth/oauth.ts';
import { ROLE_LABELS, type Role } from '../auth/policy.ts';
import type { Db } from '../db/db.ts';

export const DEMO_PASSWORD = 'CauYTe-Demo-2026';

export interface DemoAccount {
  username: string;
  role: Role;
  totpSecret?: string;
  note: string;
}

/**
 * The demo people: one account per role. `site` is a demo facility key, `practitioner` and
 * `patient` index the demo's practitioners and patients (server ids are known only after seeding).
 */
export const DEMO_PLAN: { username: string; name: string; role: Role; site?: string; practitioner?: number; patient?: number; note: string }[] = [
  { username: 'nguoidan', name: 'Nguyễn Văn An', role: 'citizen', patient: 0, note: 'người bệnh Nguyễn Văn An (xã Bát Xát)' },
  { username: 'bs.batxat', name: 'BS Giàng A Sử', role: 'commune_clinician', site: 'batxat', practitioner: 6, note: 'Trạm Y tế xã Bát Xát' },
  { username: 'bs.bachmai', name: 'PGS.TS.BS Trần Quốc Hưng', role: 'specialist', site: 'bachmai', practitioner: 0, note: 'Bệnh viện Bạch Mai, Tim mạch' },
  { username: 'dieuphoi', name: 'Lê Thị Minh Hằng', role: 'coordinator', site: 'bachmai', practitioner: 1, note: 'Bộ phận khám chữa bệnh từ xa, Bạch Mai' },
  { username: 'quantri.laocai', name: 'Quản trị BV Lào Cai', role: 'facility_admin', site: 'laocai', note: 'Bệnh viện Đa khoa tỉnh Lào Cai' },
  { username: 'thongke', name: 'Chuyên viên Sở Y tế', role: 'analyst', note: 'chỉ số liệu tổng hợp' },
  { username: 'quantri', name: 'Quản trị hệ thống', role: 'system_admin', note: 'tài khoản, ứng dụng' },
  { username: 'baovedulieu', name: 'Cán bộ bảo vệ dữ liệu', role: 'dpo', note: 'nhật ký truy cập' },
];

export async function createDemoAccounts(
  db: Db,
  accounts: AccountService,
  demo: DemoSummary,
): Promise<{ accounts: DemoAccount[]; client?: { clientId: string; clientSecret: string } }> {
  const org = demo.ids.organizations;
  const prac = demo.ids.practitioners;
  const plan = DEMO_PLAN.map((p) => ({
    ...p,
    org: p.site ? org[p.site] : undefined,
    practitioner: p.practitioner === undefined ? undefined : prac[p.practitioner],
    patient: p.patient === undefined ? undefined : demo.ids.patients[p.patient],
  }));
  const created: DemoAccount[] = [];
  for (const p of plan) {
    const staff = p.role !== 'citizen';
    const totpSecret = staff ? new Secret({ size: 20 }).base32 : undefined;
    await accounts.create({
      username: p.username,
      displayName: p.name,
      kind: staff ? 'staff' : 'citizen',
      password: DEMO_PASSWORD,
      practitionerId: p.practitioner,
      patientId: p.patient,
      roles: staff ? [{ role: p.role, organizationId: p.org ?? '' }] : [],
      totpSecret,
    });
    created.push({ username: p.username, role: p.role, totpSecret, note: p.note });
  }
  const svc = await accounts.create({
    username: 'his-demo',
    displayName: 'HIS demo integration',
    kind: 'service',
    roles: [{ role: 'integration', organizationId: org.laocai }],
  });
  const client = await registerClient(db, {
    name: 'HIS demo (client credentials)',
    redirectUris: [],
    scopes: ['system/*.read', 'system/*.write'],
    grantTypes: ['client_credentials'],
    accountId: svc.id,
    confidential: true,
  });
  return { accounts: created, client: client.clientSecret ? { clientId: client.clientId, clientSecret: client.clientSecret } : undefined };
}

/** The analyst of a provincial health department (Sở Y tế Lào Cai): sees and reviews that province. */
export async function createDepartmentAccount(accounts: AccountService, departmentId: string): Promise<DemoAccount> {
  const totpSecret = new Secret({ size: 20 }).base32;
  await accounts.create({
    username: 'soyte.laocai',
    displayName: 'Chuyên viên Sở Y tế Lào Cai',
    kind: 'staff',
    password: DEMO_PASSWORD,
    roles: [{ role: 'analyst', organizationId: departmentId }],
    totpSecret,
  });
  return { username: 'soyte.laocai', role: 'analyst', totpSecret, note: 'Sở Y tế Lào Cai: duyệt bản công bố, chỉ số của tỉnh' };
}

/** The officer of a provincial disease-control centre (Trung tâm Kiểm soát bệnh tật Lào Cai): outbreak signals of that province. */
export async function createDiseaseControlAccount(accounts: AccountService, centreId: string): Promise<DemoAccount> {
  const totpSecret = new Secret({ size: 20 }).base32;
  await accounts.create({
    username: 'ytdp.laocai',
    displayName: 'Cán bộ Trung tâm Kiểm soát bệnh tật Lào Cai',
    kind: 'staff',
    password: DEMO_PASSWORD,
    roles: [{ role: 'disease_control', organizationId: centreId }],
    totpSecret,
  });
  return { username: 'ytdp.laocai', role: 'disease_control', totpSecret, note: 'CDC Lào Cai: tín hiệu dịch bệnh của tỉnh' };
}

export function demoSignInHelp(url: string, demo: { accounts: DemoAccount[]; client?: { clientId: string; clientSecret?: string } }): string {
  const lines = [
    '',
    `Tài khoản thử nghiệm (demo accounts) — mật khẩu / password: ${DEMO_PASSWORD}`,
    'Nhân viên y tế đăng nhập hai lớp: thêm khóa TOTP vào ứng dụng xác thực (staff: add the TOTP key to an authenticator app).',
  ];
  for (const a of demo.accounts) {
    lines.push(`  ${a.username.padEnd(16)} ${ROLE_LABELS[a.role].vi.padEnd(34)} ${a.totpSecret ? `TOTP ${a.totpSecret}` : '(không cần TOTP)'}  — ${a.note}`);
  }
  if (demo.client)
    lines.push(
      demo.client.clientSecret
        ? `  OAuth client_credentials: client_id=${demo.client.clientId} client_secret=${demo.client.clientSecret} (POST ${url}/oauth/token)`
        : `  OAuth client_credentials: client_id=${demo.client.clientId} (khóa bí mật chỉ in lần đầu — the client secret was printed on the first start only)`,
    );
  lines.push(`Đăng nhập tại (sign in at) ${url}/login`, '');
  return lines.join('\n');
}
