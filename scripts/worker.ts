import 'reflect-metadata';
import { loadEncryptionKey, loadStorageConfig, requireMailDelivery } from '../src/config';
import { startJobs } from '../src/jobs/workers';
import { jobsRuntime } from './jobs-support';

/**
 * `npm run worker`: runs the job queue's workers and schedules in a process of their own, for
 * deployments that keep them apart from the API (set JOBS_WORKERS=false on the API replicas).
 * Any number may run at once. SIGTERM or SIGINT lets the jobs in flight finish, then exits.
 */
async function main(): Promise<void> {
  const { config, log, db } = await jobsRuntime('platform-api-worker');
  requireMailDelivery(loadStorageConfig().nodeEnv, config.mail);
  // Its mail jobs open the outbox's sealed messages.
  if (!config.mail.sealingKey) loadEncryptionKey();
  const queue = await startJobs(db, { ...config, workers: true }, log);
  log.info({ concurrency: config.concurrency }, 'worker started');
  const stop = async () => {
    log.info('worker stopping');
    await queue.stop();
    await db.destroy();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
