/**
 * A bounded write load through the load balancer for the drills: `workers` clients each creating
 * Patients one after another. A write counts as acknowledged only when the answer was 201 with
 * an id; a failed attempt is retried (a client's retry) after a short pause. Returns every
 * acknowledged id and when each success happened (the failover clock).
 */
export interface LoadResult {
  acked: string[];
  ackTimes: number[];
  /** When each acknowledged write was sent (a write sent after a failure began is proof of recovery). */
  sentTimes: number[];
  failures: number;
  attempts: number;
}

export async function writeLoad(opts: { url: string; token: string; workers: number; until: () => boolean; tag: string }): Promise<LoadResult> {
  const r: LoadResult = { acked: [], ackTimes: [], sentTimes: [], failures: 0, attempts: 0 };
  let seq = 0;
  const worker = async (w: number) => {
    while (!opts.until()) {
      const n = seq++;
      r.attempts++;
      const sent = Date.now();
      try {
        const res = await fetch(`${opts.url}/fhir/R4/Patient`, {
          method: 'POST',
          headers: { authorization: `Bearer ${opts.token}`, 'content-type': 'application/fhir+json' },
          body: JSON.stringify({
            resourceType: 'Patient',
            identifier: [{ system: 'https://fhir.cauyte.vn/sid/drill', value: `${opts.tag}-${w}-${n}` }],
            name: [{ family: 'Hoàng', given: [`Thử ${n}`] }],
          }),
          signal: AbortSignal.timeout(10_000),
        });
        const body = (await res.json().catch(() => ({}))) as { id?: string };
        if (res.status === 201 && body.id) {
          r.acked.push(body.id);
          r.ackTimes.push(Date.now());
          r.sentTimes.push(sent);
          continue;
        }
        r.failures++;
      } catch {
        r.failures++;
      }
      await new Promise((res) => setTimeout(res, 100));
    }
  };
  await Promise.all(Array.from({ length: opts.workers }, (_, w) => worker(w)));
  return r;
}
