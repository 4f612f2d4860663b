import 'reflect-metadata';
import { AppDataSource } from '../ormconfig';

const USAGE = `Usage:
  npm run migration:status                       exit 1 when migrations are pending or history disagrees with the code
  npm run migration:repair [-- --forget-missing] accept edited migrations (and forget deleted ones)
  npm run migration:rollback -- --steps N        revert the last N migrations
  npm run migration:rollback -- --to <Name>      revert every migration applied after <Name>`;

function option(args: string[], name: string): string | undefined {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : undefined;
}

async function main(command: string | undefined, args: string[]): Promise<number> {
  await AppDataSource.initialize();
  try {
    switch (command) {
      case 'status': {
        const status = await AppDataSource.migrationStatus();
        for (const name of status.applied) console.log(`[X] ${name}`);
        for (const name of status.pending) console.log(`[ ] ${name} (pending)`);
        for (const problem of status.problems) console.log(`!!! ${problem}`);
        const ok = status.pending.length === 0 && status.problems.length === 0;
        console.log(ok ? 'Up to date.' : 'Not up to date.');
        return ok ? 0 : 1;
      }
      case 'repair': {
        const result = await AppDataSource.repairMigrationHistory({ forgetMissing: args.includes('--forget-missing') });
        for (const name of result.realigned) console.log(`checksum accepted: ${name}`);
        for (const name of result.forgotten) console.log(`forgotten (no longer in the code): ${name}`);
        for (const name of result.missing) console.log(`still missing from the code (use --forget-missing): ${name}`);
        return result.missing.length ? 1 : 0;
      }
      case 'rollback': {
        const steps = option(args, '--steps');
        const to = option(args, '--to');
        if ((steps === undefined) === (to === undefined)) throw new Error(USAGE);
        const reverted = await AppDataSource.revertMigrations(
          to !== undefined ? { to } : { steps: Number.parseInt(steps as string, 10) },
        );
        console.log(reverted.length ? `Reverted: ${reverted.join(', ')}` : 'Nothing to revert.');
        return 0;
      }
      default:
        console.error(USAGE);
        return 2;
    }
  } finally {
    await AppDataSource.destroy();
  }
}

main(process.argv[2], process.argv.slice(3)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
