import { PlatformDataSource } from '../ormconfig';
import {
  loadEncryptionKey,
  loadJobsConfig,
  loadStorageConfig,
  withEncryptionKey,
  type JobsConfig,
} from '../src/config';
import { createLogger } from '../src/logger';

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

/** `--now <ISO time>`, or now. */
export function parseNow(value: string | undefined, usage: string): Date {
  if (value === undefined) return new Date();
  const now = new Date(value);
  if (!ISO_TIME.test(value) || Number.isNaN(now.getTime())) {
    throw new Error(`--now must be an ISO time with a zone, such as 2030-01-01T00:00:00Z (got "${value}")\n${usage}`);
  }
  return now;
}

/** The key that opens webhook secrets: a worker without it cannot sign deliveries, and says so when one is due. */
function encryptionKeyIfSet(): Buffer | undefined {
  try {
    return loadEncryptionKey();
  } catch {
    return undefined;
  }
}

/** What a job command runs on: the database (DATABASE_URL or the embedded one), the jobs settings, a log. */
export async function jobsRuntime(applicationName: string) {
  const jobs = loadJobsConfig();
  // The workers open the outbox's sealed mails and webhook secrets; commands that do neither need no key.
  const encryptionKey = encryptionKeyIfSet();
  const config: JobsConfig = encryptionKey ? withEncryptionKey(jobs, encryptionKey) : jobs;
  const log = createLogger(process.env.LOG_LEVEL || 'info');
  const db = new PlatformDataSource({ storage: loadStorageConfig(), applicationName, poolSize: 4 });
  await db.initialize();
  if (await db.showMigrations()) {
    await db.destroy();
    throw new Error('Migrations are pending: apply them first (npm run typeorm migration:run)');
  }
  return { config, log, db };
}
