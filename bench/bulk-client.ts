/**
 * The bulk client of the formats benchmark (bench/formats.ts `benchBulk`), as a SMART bulk client
 * does it: kick-off (`Prefer: respond-async`), poll the status URL as its Retry-After says, then
 * download every file of the manifest (`parallel` at a time; bulk clients download several at
 * once), each file's lines counted as its bytes arrive and checked against the manifest's count;
 * gives the number of resources. Bench-only. (Run in a process of its own it was slower on this
 * shared 2-core machine, so the benchmark calls it in-process, as before.)
 */
export interface BulkClient {
  base: string;
  token: string;
  parallel: number;
}

/** Newlines in a chunk (the raw COPY side counts the same way). */
export function countLines(chunk: Uint8Array): number {
  let n = 0;
  for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) n++;
  return n;
}

export async function bulkExportOnce({ base, token, parallel }: BulkClient): Promise<number> {
  const headers = { authorization: `Bearer ${token}`, accept: 'application/fhir+json' };
  const kick = await fetch(`${base}/fhir/R4/$export`, { headers: { ...headers, prefer: 'respond-async' } });
  if (kick.status !== 202) throw new Error(`kick-off answered ${kick.status}`);
  const status = kick.headers.get('content-location')!;
  for (;;) {
    const s = await fetch(status, { headers });
    if (s.status === 202) {
      await s.arrayBuffer();
      await new Promise((r) => setTimeout(r, Number(s.headers.get('retry-after') ?? '1') * 1000));
      continue;
    }
    if (s.status !== 200) throw new Error(`status answered ${s.status}`);
    const manifest = (await s.json()) as { output: { url: string; count: number }[] };
    const queue = [...manifest.output];
    let n = 0;
    await Promise.all(
      Array.from({ length: Math.max(1, parallel) }, async () => {
        for (let o = queue.shift(); o; o = queue.shift()) {
          const res = await fetch(o.url, { headers });
          if (res.status !== 200) throw new Error(`file answered ${res.status}`);
          let lines = 0;
          for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) lines += countLines(chunk);
          if (lines !== o.count) throw new Error(`file ${o.url}: ${lines} lines, manifest says ${o.count}`);
          n += lines;
        }
      }),
    );
    return n;
  }
}
