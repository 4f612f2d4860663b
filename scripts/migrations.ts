import 'reflect-metadata';
import { AppDataSource } from '../ormconfig';
import type { MigrationRecord, MigrationStatus } from '../src/database/migration-runner';

const USAGE = `Usage (exit 0: done; 1: refused, failed or not up to date; 2: wrong usage):
  npm run migration:status [-- --json]            every migration, applied or not; exit 1 unless up to date
  npm run migration:up -- --steps N               apply the next N pending migrations
  npm run migration:up -- --to <Name>             apply pending migrations up to and including <Name>
  npm run migration:rollback -- --steps N         revert the last N migrations
  npm run migration:rollback -- --to <Name>       revert every migration applied after <Name>
  npm run migration:stamp -- --to <Name>          record migrations up to <Name> as applied, without running them
  npm run migration:force -- <Name> --applied     a dirty migration: it did apply (checked by hand)
  npm run migration:force -- <Name> --not-applied a dirty migration: it left nothing (checked by hand)
  npm run migration:repair [-- --forget-missing]  accept edited migrations (and forget deleted ones)`;

class UsageError extends Error {}

function option(args: string[], name: string): string | undefined {
  const index = args.indexOf(name);
  if (index < 0) return undefined;
  const value = args[index + 1];
  if (value === undefined || value.startsWith('--')) throw new UsageError(`${name} needs a value\n${USAGE}`);
  return value;
}

/** Exactly one of `--steps N` (a positive integer) and `--to <Name>`. */
function target(args: string[]): { steps: number } | { to: string } {
  const steps = option(args, '--steps');
  const to = option(args, '--to');
  if ((steps === undefined) === (to === undefined)) throw new UsageError(USAGE);
  if (to !== undefined) return { to };
  if (!/^[1-9]\d*$/.test(steps as string)) throw new UsageError(`--steps must be a positive integer\n${USAGE}`);
  return { steps: Number(steps) };
}

function line(record: MigrationRecord): string {
  const when = record.ranAt ? record.ranAt.toISOString() : '-';
  const took = record.durationMs === null ? '-' : `${record.durationMs} ms`;
  const checksum = record.checksum ? record.checksum.slice(0, 12) : '-';
  const notes = [
    record.forcedAt ? `forced ${record.forcedAt.toISOString()}` : '',
    record.repairedAt ? `repaired ${record.repairedAt.toISOString()}` : '',
    record.state === 'failed' || record.state === 'dirty' ? `error: ${record.error ?? '?'}` : '',
  ].filter(Boolean);
  const columns = [record.state.padEnd(8), record.name.padEnd(40), when.padEnd(24), took.padStart(9), checksum];
  return [...columns, ...notes].join('  ');
}

function printStatus(status: MigrationStatus, json: boolean, ok: boolean): void {
  if (json) {
    console.log(JSON.stringify({ upToDate: ok, ...status }, null, 2));
    return;
  }
  console.log(
    ['state'.padEnd(8), 'migration'.padEnd(40), 'ran at'.padEnd(24), 'took'.padStart(9), 'checksum'].join('  '),
  );
  for (const record of status.records) console.log(line(record));
  for (const problem of status.problems) console.log(`!!! ${problem}`);
  console.log(ok ? 'Up to date.' : 'Not up to date.');
}

function stampTarget(args: string[]): string {
  const to = option(args, '--to');
  if (to === undefined) throw new UsageError(USAGE);
  return to;
}

function forced(args: string[]): { name: string; applied: boolean } {
  const [name] = args;
  const applied = args.includes('--applied');
  if (!name || name.startsWith('--') || applied === args.includes('--not-applied')) throw new UsageError(USAGE);
  return { name, applied };
}

type Command = (args: string[]) => Promise<number>;

const COMMANDS: Record<string, Command> = {
  async status(args) {
    const status = await AppDataSource.migrationStatus();
    const ok = status.pending.length === 0 && status.problems.length === 0;
    printStatus(status, args.includes('--json'), ok);
    return ok ? 0 : 1;
  },
  async up(args) {
    const applied = await AppDataSource.runMigrationsUpTo(target(args), { transaction: 'each' });
    console.log(applied.length ? `Applied: ${applied.map((m) => m.name).join(', ')}` : 'Nothing to apply.');
    return 0;
  },
  async rollback(args) {
    const reverted = await AppDataSource.revertMigrations(target(args));
    console.log(reverted.length ? `Reverted: ${reverted.join(', ')}` : 'Nothing to revert.');
    return 0;
  },
  async stamp(args) {
    const stamped = await AppDataSource.stampMigrations(stampTarget(args));
    console.log(stamped.length ? `Stamped as applied: ${stamped.join(', ')}` : 'Nothing to stamp.');
    return 0;
  },
  async force(args) {
    const { name, applied } = forced(args);
    await AppDataSource.forceMigration(name, applied);
    console.log(applied ? `Recorded ${name} as applied.` : `Recorded ${name} as not applied: it is pending again.`);
    return 0;
  },
  async repair(args) {
    const result = await AppDataSource.repairMigrationHistory({ forgetMissing: args.includes('--forget-missing') });
    for (const name of result.realigned) console.log(`checksum accepted: ${name}`);
    for (const name of result.forgotten) console.log(`forgotten (no longer in the code): ${name}`);
    for (const name of result.missing) console.log(`still missing from the code (use --forget-missing): ${name}`);
    return result.missing.length ? 1 : 0;
  },
};

async function main(name: string | undefined, args: string[]): Promise<number> {
  const command = name === undefined ? undefined : COMMANDS[name];
  if (!command) throw new UsageError(USAGE);
  // Wrong arguments are refused before any connection is made.
  if (name === 'up' || name === 'rollback') target(args);
  if (name === 'stamp') stampTarget(args);
  if (name === 'force') forced(args);
  await AppDataSource.initialize();
  try {
    return await command(args);
  } finally {
    await AppDataSource.destroy();
  }
}

main(process.argv[2], process.argv.slice(3)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
