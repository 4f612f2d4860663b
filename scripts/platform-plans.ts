import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { PlatformDataSource } from '../ormconfig';
import { loadStorageConfig } from '../src/config';
import { planRepository } from '../src/repositories/billing-plan.repository';

const USAGE = `usage: npm run platform:plans -- list
       npm run platform:plans -- set <code> [--max-projects N|unlimited] [--price-cents N]`;

function count(value: string | undefined, name: string, allowUnlimited: boolean): number | null | undefined {
  if (value === undefined) return undefined;
  if (allowUnlimited && value === 'unlimited') return null;
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(parsed) || parsed > 2_147_483_647) {
    throw new UsageError(`${name} must be a whole number${allowUnlimited ? ' or unlimited' : ''} (got "${value}")`);
  }
  return parsed;
}

class UsageError extends Error {}

/**
 * `npm run platform:plans`: the operator changes a plan's project limit and price without a
 * migration. A price change applies from the next period each organization starts (drafts keep
 * theirs). Exit codes: 0 done, 1 no such plan, 2 wrong arguments.
 */
async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    options: { 'max-projects': { type: 'string' }, 'price-cents': { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  const [command, code, ...extra] = positionals;
  const changes = {
    maxProjects: count(values['max-projects'], '--max-projects', true),
    priceCents: count(values['price-cents'], '--price-cents', false),
  };
  const setting = command === 'set' && code && !extra.length;
  if (!(command === 'list' && !code) && !setting) throw new UsageError('');
  const db = new PlatformDataSource({
    storage: loadStorageConfig(),
    applicationName: 'platform-api-plans',
    poolSize: 1,
  });
  await db.initialize();
  try {
    if (await db.showMigrations())
      throw new Error('Migrations are pending: apply them first (npm run typeorm migration:run)');
    if (setting) {
      const given = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined));
      if (!Object.keys(given).length) throw new UsageError('set needs --max-projects or --price-cents');
      if (!(await planRepository.update(db.manager, code, given))) {
        console.error(`No plan "${code}"`);
        return 1;
      }
    }
    for (const plan of await planRepository.all(db.manager)) {
      console.log(
        `${plan.code}\t${plan.priceCents} ${plan.currency}\tmax projects: ${plan.maxProjects ?? 'unlimited'}`,
      );
    }
    return 0;
  } finally {
    await db.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      if (error instanceof Error && error.message) console.error(error.message);
      console.error(USAGE);
      process.exit(2);
    }
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
