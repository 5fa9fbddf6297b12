/**
 * The contract between the server and the administration screens (src/auth/admin-routes.ts):
 * accounts (list, roles, second-factor reset), OAuth clients, facilities and their services.
 * Creating, disabling and enabling an account are in contract.ts (account-routes.ts).
 *
 * Rules: the web app imports this file with `import type` only; nothing here imports server code
 * at run time except pure data (policy.ts).
 */
import { z } from 'zod';
import { isRole, type Role } from './policy.ts';
import type { Label } from './contract.ts';

/** `GET /api/admin/accounts`: a page of accounts the administrator manages, searched server-side. */
export const adminAccountsQuery = z
  .object({
    q: z.string().trim().max(100).optional(),
    kind: z.enum(['staff', 'citizen', 'service']).optional(),
    state: z.enum(['active', 'disabled']).optional(),
    offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();
export type AdminAccountsQuery = z.input<typeof adminAccountsQuery>;

/** A role as the screens show it: with the facility's name. */
export interface AdminRole {
  role: Role;
  label: Label;
  organizationId: string;
  organizationName?: string;
}

export interface AdminAccount {
  id: string;
  username: string;
  displayName: string;
  kind: 'staff' | 'citizen' | 'service';
  roles: AdminRole[];
  disabled: boolean;
  /** 'admin' or 'inactive'. */
  disabledReason?: string;
  totpEnabled: boolean;
  createdAt: string;
  lastActiveAt?: string;
}

export interface AdminAccountPage {
  total: number;
  offset: number;
  items: AdminAccount[];
}

/** `PUT /api/admin/accounts/:id/roles`: the account's roles, replaced (signs it out everywhere). */
export const rolesBody = z
  .object({
    roles: z
      .array(z.object({ role: z.string().refine(isRole, 'unknown role'), organizationId: z.string().max(64).default('') }).strict())
      .min(1)
      .max(10),
    reason: z.string().trim().max(500).optional(),
  })
  .strict();
export type RolesRequest = z.input<typeof rolesBody>;

/** `POST /api/admin/accounts/:id/reset-mfa`: why (recorded). */
export const resetMfaBody = z.object({ reason: z.string().trim().min(3).max(500) }).strict();
export type ResetMfaRequest = z.infer<typeof resetMfaBody>;

export interface AdminChanged {
  status: 'ok';
  changed: boolean;
}

/** One OAuth client of `GET /api/admin/oauth-clients`. */
export interface AdminClient {
  clientId: string;
  name: string;
  scopes: string[];
  grantTypes: string[];
  redirectUris: string[];
  confidential: boolean;
  createdAt: string;
  revokedAt?: string;
  /** The service account a client_credentials client acts as, and where. */
  serviceAccount?: { username: string; role?: Role; organizationId?: string; organizationName?: string };
}

/** `POST /api/admin/oauth-clients/:id/revoke`. */
export const revokeClientBody = z.object({ reason: z.string().trim().min(3).max(500) }).strict();

/** `GET /api/admin/facilities`: facilities (a facility administrator: their own), searched server-side. */
export const facilitiesQuery = z.object({ q: z.string().trim().max(100).optional(), limit: z.coerce.number().int().min(1).max(100).default(30) }).strict();

export interface AdminService {
  id: string;
  name: string;
  active: boolean;
}

export interface AdminFacility {
  id: string;
  name: string;
  /** Address line, commune, province as written. */
  address?: string;
  active: boolean;
  services: AdminService[];
  /** Staff accounts with a role here. */
  staff: number;
  /** Devices owned by the facility. */
  devices: number;
}

/** `POST /api/admin/services/:id/active`: open or close a service of one's own facility. */
export const serviceActiveBody = z.object({ active: z.boolean() }).strict();
