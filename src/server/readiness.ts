import type { Logger } from 'pino';
import type { PlatformDataSource } from '../../ormconfig';
import type { Readiness } from '../http/routes';

/** /readyz answers within this, whatever state the database is in. */
const READINESS_TIMEOUT_MS = 800;

const NEWER_RELEASE = 'the database has migrations newer than this code: a newer release is rolling out';

const mentions = (problem: string, name: string) => new RegExp(`\\b${name}\\b`).test(problem);

/**
 * Ready when the database answers and its migration history matches the code, or is ahead of it
 * (a rolling update: applied migrations newer than all the code has; the old replicas must stay
 * in the load balancer until the new ones are ready). Pending, dirty, edited and deleted
 * migrations make it not ready.
 */
export async function checkReadiness(dataSource: PlatformDataSource): Promise<Readiness> {
  const status = await dataSource.migrationStatus();
  if (status.dirty.length) return { ok: false, reason: 'a migration is dirty: see npm run migration:status' };
  if (status.pending.length) return { ok: false, reason: 'migrations pending' };
  const problems = status.problems.filter((problem) => !status.newer.some((name) => mentions(problem, name)));
  if (problems.length) return { ok: false, reason: 'migration history disagrees with the code' };
  return status.newer.length ? { ok: true, reason: NEWER_RELEASE, newerMigrations: status.newer } : { ok: true };
}

/** The readiness probe of one server; it logs when the database gets ahead of the code, once per change. */
export function readinessProbe(dataSource: PlatformDataSource, log: Logger): () => Promise<Readiness> {
  let reported = '';
  const report = (ready: Readiness) => {
    if (!ready.ok) return;
    const newer = ready.newerMigrations?.join(', ') ?? '';
    if (newer && newer !== reported) log.warn({ newerMigrations: ready.newerMigrations }, NEWER_RELEASE);
    reported = newer;
  };
  return async () => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<Readiness>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, reason: 'database unreachable' }), READINESS_TIMEOUT_MS);
    });
    const checked = checkReadiness(dataSource).catch((): Readiness => ({ ok: false, reason: 'database unreachable' }));
    try {
      const ready = await Promise.race([checked, timeout]);
      report(ready);
      return ready;
    } finally {
      clearTimeout(timer);
    }
  };
}
