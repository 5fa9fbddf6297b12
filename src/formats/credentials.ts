/**
 * Each facility's secrets for the national gateways, from the file CAUYTE_FACILITY_CREDENTIALS
 * names (JSON, by facility code — format in docs/national-formats.md): its signing certificate
 * (PKCS#12 path and password), its BHXH gateway account and its e-prescription gateway account.
 *
 * Rules: read once at start; relative paths are relative to the file; secrets never logged or
 * returned by any route; a facility absent here simply cannot sign or send (its claims say so).
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { keyFromPkcs12, type FacilityKey } from './xml130/sign.ts';

const entry = z.object({
  p12: z.string().optional(),
  p12Password: z.string().optional(),
  bhxh: z.object({ username: z.string().min(1), password: z.string().min(1), province: z.string().regex(/^\d{2}$/) }).optional(),
  eprescription: z.object({ facilityLink: z.string().min(1), doctorLink: z.string().min(1), password: z.string().min(1) }).optional(),
});
export type FacilityCredentials = z.infer<typeof entry>;

export class CredentialStore {
  private readonly keys = new Map<string, FacilityKey>();
  constructor(private readonly entries: Record<string, FacilityCredentials> = {}) {}

  static fromFile(path?: string): CredentialStore {
    if (!path) return new CredentialStore();
    const raw = z.record(z.string().regex(/^[A-Z0-9]{5}$/i), entry).parse(JSON.parse(readFileSync(path, 'utf8')));
    const base = dirname(resolve(path));
    for (const e of Object.values(raw)) if (e.p12) e.p12 = resolve(base, e.p12);
    return new CredentialStore(raw);
  }

  /** The facility's signing key, read from its PKCS#12 file on first use. */
  signingKey(facilityCode: string): FacilityKey | undefined {
    const hit = this.keys.get(facilityCode);
    if (hit) return hit;
    const e = this.entries[facilityCode];
    if (!e?.p12) return undefined;
    const k = keyFromPkcs12(readFileSync(e.p12), e.p12Password ?? '');
    this.keys.set(facilityCode, k);
    return k;
  }

  bhxh(facilityCode: string): FacilityCredentials['bhxh'] {
    return this.entries[facilityCode]?.bhxh;
  }

  eprescription(facilityCode: string): FacilityCredentials['eprescription'] {
    return this.entries[facilityCode]?.eprescription;
  }
}
