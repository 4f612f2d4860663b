import type { DataSource } from 'typeorm';
import {
  checksumMatches,
  CHECKSUM_SCHEME,
  codeMigrations,
  MigrationHistoryError,
  migrationTimestamp,
  recordApplied,
} from './migration-ledger';
import { readHistory, upgradeChecksums } from './migration-runner';

/**
 * `npm run migration:repair`: accepts the code as it is now. Checksums of applied migrations
 * are realigned, failed attempts forgotten (not dirty ones: only `migration:force` clears those),
 * and, only when asked, history rows of migrations that no longer exist in the code are removed.
 */
export async function repairHistory(
  db: DataSource,
  options: { forgetMissing: boolean },
): Promise<{ realigned: string[]; forgotten: string[]; missing: string[] }> {
  const code = await codeMigrations(db.migrations);
  await upgradeChecksums(db, code);
  const inCode = new Map(code.map((m) => [m.name, m]));
  const { applied, ledger } = await readHistory(db);
  const result = { realigned: [] as string[], forgotten: [] as string[], missing: [] as string[] };
  await db.transaction(async (tx) => {
    await tx.query('DELETE FROM platform.migration_ledger WHERE NOT success AND NOT dirty');
    for (const migration of applied) {
      const current = inCode.get(migration.name);
      if (!current) {
        if (options.forgetMissing) {
          await tx.query('DELETE FROM platform.migrations WHERE name = $1', [migration.name]);
          await tx.query('DELETE FROM platform.migration_ledger WHERE name = $1', [migration.name]);
          result.forgotten.push(migration.name);
        } else {
          result.missing.push(migration.name);
        }
        continue;
      }
      const row = ledger.find((r) => r.name === migration.name && r.success);
      if (row && checksumMatches(row, current)) continue;
      if (ledger.some((r) => r.name === migration.name && r.dirty)) continue;
      await tx.query(
        `INSERT INTO platform.migration_ledger (name, checksum, checksum_scheme, started_at, duration_ms, success, repaired_at)
         VALUES ($1, $2, $3, now(), 0, true, now())
         ON CONFLICT (name) DO UPDATE SET checksum = EXCLUDED.checksum, checksum_scheme = EXCLUDED.checksum_scheme,
           success = true, error = NULL, repaired_at = now()`,
        [migration.name, current.checksum, CHECKSUM_SCHEME],
      );
      result.realigned.push(migration.name);
    }
  });
  return result;
}

/**
 * `npm run migration:stamp -- --to <Name>`: records every migration up to that one as applied
 * without running it (Alembic's stamp, Flyway's baseline), marked stamped in the ledger.
 * Refused when a later migration is already applied.
 */
export async function stampMigrations(db: DataSource, target: string): Promise<string[]> {
  const code = await codeMigrations(db.migrations);
  const index = code.findIndex((m) => m.name === target);
  if (index < 0) throw new MigrationHistoryError(`${target} is not a migration of this code`);
  const { applied } = await readHistory(db);
  const later = applied.filter((m) => m.timestamp > code[index].timestamp).map((m) => m.name);
  if (later.length) {
    throw new MigrationHistoryError(
      `Refusing to stamp up to ${target}: later migrations are already applied (${later.join(', ')})`,
    );
  }
  const appliedNames = new Set(applied.map((m) => m.name));
  const stamped = code.slice(0, index + 1).filter((m) => !appliedNames.has(m.name));
  await db.transaction(async (tx) => {
    for (const migration of stamped) {
      await tx.query('INSERT INTO platform.migrations ("timestamp", name) VALUES ($1, $2)', [
        migration.timestamp,
        migration.name,
      ]);
      await recordApplied(tx, migration, new Date(), { stamped: true });
    }
  });
  return stamped.map((m) => m.name);
}

/**
 * `npm run migration:force -- <Name> --applied | --not-applied`: records what an operator found
 * after a dirty migration (golang-migrate's force). Applied: it counts as applied, with today's
 * checksum. Not applied: its history and ledger rows go, and it is pending again.
 */
export async function forceMigration(db: DataSource, name: string, applied: boolean): Promise<void> {
  const code = await codeMigrations(db.migrations);
  const migration = code.find((m) => m.name === name);
  const history = await readHistory(db);
  const known = history.applied.some((m) => m.name === name) || history.ledger.some((row) => row.name === name);
  if (applied ? !migration : !known) {
    throw new MigrationHistoryError(
      applied ? `${name} is not a migration of this code` : `${name} is neither applied nor recorded: nothing to force`,
    );
  }
  await db.transaction(async (tx) => {
    if (!applied || !migration) {
      await tx.query('DELETE FROM platform.migrations WHERE name = $1', [name]);
      await tx.query('DELETE FROM platform.migration_ledger WHERE name = $1', [name]);
      return;
    }
    await tx.query(
      `INSERT INTO platform.migrations ("timestamp", name) SELECT $1::bigint, $2::varchar
       WHERE NOT EXISTS (SELECT 1 FROM platform.migrations WHERE name = $2::varchar)`,
      [migrationTimestamp(name), name],
    );
    await recordApplied(tx, migration, new Date(), { forced: true });
  });
}
