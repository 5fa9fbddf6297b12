/**
 * A maintenance job run once a day in the server process (audit retention, staff inactivity): the
 * first run a minute after start, then every 24 hours. Timers never keep the process alive; jobs
 * take their own database locks, so several nodes may run them at once. Errors are logged, and
 * the job runs again the next day.
 */
import type { FastifyInstance } from 'fastify';

const DAY_MS = 24 * 3600_000;

export function runDaily(app: FastifyInstance, name: string, job: () => Promise<unknown>, firstDelayMs = 60_000): void {
  let running: Promise<unknown> | undefined;
  const run = () => {
    running ??= job()
      .then((result) => app.log.info({ job: name, result }, 'daily job done'))
      .catch((err: unknown) => app.log.error({ job: name, err: { message: (err as Error).message } }, 'daily job failed'))
      .finally(() => {
        running = undefined;
      });
  };
  const first = setTimeout(run, firstDelayMs);
  const every = setInterval(run, DAY_MS);
  first.unref();
  every.unref();
  app.addHook('onClose', async () => {
    clearTimeout(first);
    clearInterval(every);
    await running;
  });
}
