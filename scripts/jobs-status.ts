import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { jobRecordRepository } from '../src/repositories/job-record.repository';
import { jobsRuntime } from './jobs-support';
import { runCommand } from './command';

/**
 * `npm run jobs:status [-- --json]`: each queue's depth (waiting, retrying, running) and the jobs
 * that failed for good in the last week. Exits 1 when a job failed, so a check can alert on it.
 */
async function main(): Promise<number> {
  const { values } = parseArgs({ options: { json: { type: 'boolean' } }, strict: true });
  const { db } = await jobsRuntime('platform-api-jobs-status');
  try {
    const queues = await jobRecordRepository.depthByQueue(db.manager);
    const failed = await jobRecordRepository.failedSince(db.manager, new Date(Date.now() - 7 * 24 * 3600 * 1000));
    if (values.json) {
      console.log(JSON.stringify({ queues, failed }, null, 2));
    } else {
      for (const queue of queues) {
        console.log(`${queue.name}: ${queue.created} waiting, ${queue.retry} to retry, ${queue.active} running`);
      }
      for (const job of failed) {
        console.log(`FAILED ${job.name} ${job.id} at ${job.completedOn?.toISOString() ?? '?'}: ${job.output}`);
      }
      console.log(`${failed.length} failed job(s) in the last 7 days`);
    }
    return failed.length ? 1 : 0;
  } finally {
    await db.destroy();
  }
}

runCommand(main);
