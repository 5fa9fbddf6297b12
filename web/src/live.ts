/**
 * Live events from the server (Server-Sent Events on /api/events), typed by kind with the server's
 * contract (src/events/contract.ts, a type-only import): a misspelt kind or field fails to compile.
 */
import type { LiveEventKind, LiveEvents } from '../../src/events/contract.ts';

/** One connection to the event stream; `on` adds a listener, `close` ends the connection. */
export class LiveEventStream {
  private readonly es = new EventSource('/api/events');

  on<K extends LiveEventKind>(kind: K, fn: (data: LiveEvents[K]) => void): this {
    this.es.addEventListener(kind, (e) => fn(JSON.parse((e as MessageEvent).data) as LiveEvents[K]));
    return this;
  }

  close(): void {
    this.es.close();
  }
}
