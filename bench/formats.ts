/**
 * National formats: insurance XML per visit on one core — the tables built from a visit's facts,
 * every column validated, the check-in and the GIAMDINHHS envelope written and both signed
 * (RSA-2048, SHA-256, xml-crypto) — next to the same work without signing, in interleaved rounds
 * of the same run (median and spread). Visits differ only in their key, so nothing is cached.
 */
import { makeFacilityCertificate } from '../src/testing/certificates.ts';
import { buildClaim } from '../src/formats/xml130/claim.ts';
import { FACTS } from '../src/formats/xml130/fixture.ts';

export interface FormatsResult {
  signedPerSecond: number[];
  unsignedPerSecond: number[];
  bytes: number;
}

export async function benchFormats(opts: { rounds: number; visits: number; log: (m: string) => void }): Promise<FormatsResult> {
  const cert = makeFacilityCertificate();
  const key = { key: cert.key, cert: cert.cert };
  const facts = (i: number) => ({ ...FACTS, visitKey: `${FACTS.visitKey.slice(0, 24)}${String(i).padStart(12, '0')}` });
  // Warm-up (JIT, first signature).
  for (let i = 0; i < 50; i++) buildClaim(facts(i), key);
  const signedPerSecond: number[] = [];
  const unsignedPerSecond: number[] = [];
  let bytes = 0;
  for (let r = 0; r < opts.rounds; r++) {
    let t = performance.now();
    for (let i = 0; i < opts.visits; i++) {
      const c = buildClaim(facts(i), key);
      if (i === 0) bytes = c.signed!.envelope.length + c.signed!.checkIn.length;
    }
    signedPerSecond.push(opts.visits / ((performance.now() - t) / 1000));
    t = performance.now();
    for (let i = 0; i < opts.visits; i++) buildClaim(facts(i), undefined);
    unsignedPerSecond.push(opts.visits / ((performance.now() - t) / 1000));
    opts.log(`formats round ${r + 1}: ${signedPerSecond.at(-1)!.toFixed(0)} signed visits/s, ${unsignedPerSecond.at(-1)!.toFixed(0)} unsigned`);
  }
  return { signedPerSecond, unsignedPerSecond, bytes };
}
