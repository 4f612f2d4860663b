import type { PlatformDataSource } from '../../ormconfig';
import type { Readiness } from '../http/routes';

/** /readyz answers within this, whatever state the database is in. */
const READINESS_TIMEOUT_MS = 800;

/** Ready when the database answers and its migration history matches the code. */
export async function readiness(dataSource: PlatformDataSource): Promise<Readiness> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ ok: boolean; reason: string }>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, reason: 'database unreachable' }), READINESS_TIMEOUT_MS);
  });
  const check = (async () => {
    try {
      const status = await dataSource.migrationStatus();
      if (status.pending.length) return { ok: false, reason: 'migrations pending' };
      if (status.problems.length) return { ok: false, reason: 'migration history disagrees with the code' };
      return { ok: true };
    } catch {
      return { ok: false, reason: 'database unreachable' };
    }
  })();
  try {
    return await Promise.race([check, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
