import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { jobHandlers, jobQueueFor } from '../src/jobs/workers';
import { scheduledWork } from '../src/jobs/scheduled';
import { jobRecordRepository } from '../src/repositories/job-record.repository';
import { SCHEDULES } from '../src/request/jobs';
import { jobsRuntime, parseNow } from './jobs-support';
import { runCommand } from './command';

const USAGE = 'usage: npm run jobs:run-scheduled [-- --now <ISO time>] [--timeout-seconds N]';

/**
 * `npm run jobs:run-scheduled`: runs every scheduled job once, as of now or of `--now`, then
 * works the jobs they enqueued (purges, lifecycle steps) until none is left, alongside any other
 * worker. For operators, and for tests that move time forward. Exits 1 when a job failed for good.
 */
async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { now: { type: 'string' }, 'timeout-seconds': { type: 'string' } },
    strict: true,
  });
  const asOf = parseNow(values.now, USAGE);
  const timeoutMs = Number(values['timeout-seconds'] ?? 300) * 1000;
  const { config, log, db } = await jobsRuntime('platform-api-jobs-run');
  const queue = jobQueueFor(db, config, log, false);
  const started = new Date();
  try {
    await queue.start();
    const work = scheduledWork({ db, queue, config });
    // One schedule's failure (an audit chain that does not verify, say) does not stop the others.
    let refused = 0;
    for (const { name } of SCHEDULES) {
      try {
        const result = await work[name](asOf);
        console.log(`${name} as of ${asOf.toISOString()}: ${JSON.stringify(summary(result))}`);
      } catch (error) {
        refused += 1;
        console.error(`${name} as of ${asOf.toISOString()} failed: ${(error as Error).message}`);
      }
    }
    await queue.work(jobHandlers(db, queue, config, log));
    const deadline = Date.now() + timeoutMs;
    while ((await jobRecordRepository.liveSince(db.manager, started)) > 0) {
      if (Date.now() > deadline) throw new Error('Jobs were still running at the timeout');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const failed = await jobRecordRepository.failedSince(db.manager, started);
    for (const job of failed) console.error(`job ${job.name} ${job.id} failed: ${job.output}`);
    return failed.length || refused ? 1 : 0;
  } finally {
    await queue.stop();
    await db.destroy();
  }
}

function summary(result: unknown): unknown {
  if (typeof result === 'number') return result;
  const { closed, failed } = (result ?? {}) as { closed?: unknown[]; failed?: unknown[] };
  return closed && failed ? { closed: closed.length, failed: failed.length } : result;
}

runCommand(main);
