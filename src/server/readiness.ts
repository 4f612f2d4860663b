import type { Logger } from 'pino';
import type { PlatformDataSource } from '../../ormconfig';
import type { Readiness } from '../http/routes';

/** /readyz answers within this, whatever state the database is in. */
const READINESS_TIMEOUT_MS = 800;

const NEWER_RELEASE = 'the database has migrations newer than this code: a newer release is rolling out';

/** A migration's timestamp: the 13 digits that end its name (TypeORM's convention). */
const timestampOf = (name: string) => Number(name.slice(-13));

const mentions = (problem: string, name: string) => new RegExp(`\\b${name}\\b`).test(problem);

/**
 * Applied migrations this code does not know, newer than all it knows: a newer release applied
 * them, and this one still works on the schema (migrations expand first, contract a release
 * later). An unknown one older than the code's newest is a deleted migration: that is broken.
 */
function newerThanCode(dataSource: PlatformDataSource, applied: string[]): string[] {
  const known = dataSource.migrations.map((m) => m.name ?? m.constructor.name);
  const newest = Math.max(0, ...known.map(timestampOf));
  const knownNames = new Set(known);
  return applied.filter((name) => !knownNames.has(name) && timestampOf(name) > newest);
}

/**
 * Ready when the database answers and its migration history matches the code, or is ahead of it
 * (a rolling update: the old replicas must stay in the load balancer until the new ones are ready).
 * Pending migrations the code knows, edited ones and deleted ones make it not ready.
 */
async function check(dataSource: PlatformDataSource): Promise<Readiness> {
  const status = await dataSource.migrationStatus();
  if (status.pending.length) return { ok: false, reason: 'migrations pending' };
  const newer = newerThanCode(dataSource, status.applied);
  const problems = status.problems.filter((problem) => !newer.some((name) => mentions(problem, name)));
  if (problems.length) return { ok: false, reason: 'migration history disagrees with the code' };
  return newer.length ? { ok: true, reason: NEWER_RELEASE, newerMigrations: newer } : { ok: true };
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
    const checked = check(dataSource).catch((): Readiness => ({ ok: false, reason: 'database unreachable' }));
    try {
      const ready = await Promise.race([checked, timeout]);
      report(ready);
      return ready;
    } finally {
      clearTimeout(timer);
    }
  };
}
