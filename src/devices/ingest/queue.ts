/**
 * The ingest queue: device messages wait a few milliseconds to be written in batches (up to
 * batchSize, or batchDelayMs after the first), and at most BATCHES_AT_ONCE batches are in
 * progress, so the next batch is checked and written while the previous one commits.
 *
 * Rules: a message's promise settles only after its batch committed (then, and only then, may it
 * be acknowledged); answers leave in arrival order whatever happened (MQTT wants a client's
 * PUBACKs in the order of its PUBLISHes) — each batch gets the promise of the one before it and
 * answers after it. A batch that fails as a whole refuses every message of it, in turn, so the
 * devices send them again. The first copy of a message wins: a batch claims its messages only
 * after the batch before it has claimed its own (or ended), so a retransmission in a later batch
 * never takes the place of the original in an earlier one running beside it. (A batch re-run
 * strictly after an invalid message has passed its turn already: there a later batch's copy may
 * be the one stored — still exactly once.)
 */

export interface TransportRefusal {
  kind: 'oversized' | 'malformed';
  reason: string;
}

export interface Job<R> {
  deviceId: string;
  payload: string;
  /** External brokers are not trusted to authenticate: the payload carries the device token. */
  requireToken: boolean;
  /** Refused before parsing (too large, not UTF-8): quarantined with the reason, never stored. */
  refusal?: TransportRefusal;
  resolve: (r: R) => void;
  reject: (e: Error) => void;
}

/** The claiming order of batches running side by side. */
export interface ClaimTurn {
  /** Settles once the batch before has claimed its messages, or ended. */
  earlier: Promise<void>;
  /** Call when this batch's claims are made (the next batch may claim). */
  done: () => void;
}

/** Processes one batch; settles its jobs after `earlier` settled (answers in order). Never throws. */
export type BatchProcessor<R> = (jobs: Job<R>[], earlier: Promise<void>, claim: ClaimTurn) => Promise<void>;

const BATCHES_AT_ONCE = 2;

export class IngestQueue<R> {
  private queue: Job<R>[] = [];
  private timer?: NodeJS.Timeout;
  private running = 0;
  /** Settles when the latest started batch has answered its messages. */
  private answered: Promise<void> = Promise.resolve();
  /** Settles when the latest started batch has claimed its messages (or ended). */
  private claimed: Promise<void> = Promise.resolve();

  constructor(
    private readonly process: BatchProcessor<R>,
    readonly batchSize: number,
    readonly batchDelayMs: number,
  ) {}

  push(job: Omit<Job<R>, 'resolve' | 'reject'>): Promise<R> {
    return new Promise((resolve, reject) => {
      this.queue.push({ ...job, resolve, reject });
      this.schedule(this.queue.length >= this.batchSize ? 0 : this.batchDelayMs);
    });
  }

  private schedule(delay: number): void {
    if (this.timer && delay > 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, delay);
  }

  private pump(): void {
    while (this.running < BATCHES_AT_ONCE && this.queue.length) {
      // What waits is shared among the free slots: the batches run side by side (one checks and
      // builds while the other is in the database) instead of one holding everything.
      const share = Math.ceil(this.queue.length / (BATCHES_AT_ONCE - this.running));
      const jobs = this.queue.splice(0, Math.min(this.batchSize, share));
      const earlier = this.answered;
      let answered!: () => void;
      this.answered = new Promise<void>((r) => (answered = r));
      const claim = { earlier: this.claimed, done: () => {} };
      this.claimed = new Promise<void>((r) => (claim.done = r));
      this.running++;
      void this.process(jobs, earlier, claim)
        .catch(async (err: Error) => {
          await earlier;
          for (const j of jobs) j.reject(err);
        })
        .finally(() => {
          // Never ahead of the batch before: answers leave in arrival order whatever happened here.
          void earlier.then(answered);
          claim.done();
          this.running--;
          if (this.queue.length) this.schedule(this.batchDelayMs);
        });
    }
  }

  /** Waits until everything queued so far is committed (tests, shutdown). */
  async drain(): Promise<void> {
    while (this.queue.length || this.timer || this.running) await new Promise((r) => setTimeout(r, 5));
  }
}
