import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { PlatformDataSource } from '../ormconfig';
import { loadBillingConfig, loadStorageConfig } from '../src/config';
import { billingAccountRepository } from '../src/repositories/billing-account.repository';
import { closePeriods } from '../src/services/billing-period.service';
import { parseNow } from './jobs-support';
import { runCommand } from './command';

const USAGE = 'usage: npm run billing:close-periods [-- --now <ISO time>] [--organization <slug>]';

/**
 * `npm run billing:close-periods`: closes every billing period that has ended (now, or as of
 * `--now`), issuing and charging its invoice and starting the next period. Safe to run at any
 * time, repeatedly or concurrently: a period is closed once. Exits 1 when an organization failed.
 */
async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { now: { type: 'string' }, organization: { type: 'string' } },
    strict: true,
  });
  const now = parseNow(values.now, USAGE);
  if (!loadBillingConfig().enabled) {
    console.log('Billing is turned off (BILLING_ENABLED=false): no period is closed');
    return 0;
  }
  const db = new PlatformDataSource({
    storage: loadStorageConfig(),
    applicationName: 'platform-api-billing',
    poolSize: 2,
  });
  await db.initialize();
  try {
    if (await db.showMigrations()) throw new Error('Migrations are pending: apply them before closing periods');
    let organizationId: string | undefined;
    if (values.organization !== undefined) {
      const id = await billingAccountRepository.idBySlug(db.manager, values.organization);
      if (!id) throw new Error(`No organization "${values.organization}"`);
      organizationId = id;
    }
    const { closed, failed } = await closePeriods(db, { now, organizationId });
    for (const period of closed) {
      const { invoice } = period;
      const billed = invoice
        ? `invoice ${invoice.number} ${invoice.status}, ${invoice.totalCents} ${invoice.currency} minor units` +
          (period.declined ? ` (charge declined: ${period.declined})` : '')
        : 'nothing to bill';
      console.log(
        `organization ${period.organizationId}: closed ${period.periodStart.toISOString()} to ${period.periodEnd.toISOString()}: ${billed}`,
      );
    }
    for (const failure of failed) {
      const message = failure.error instanceof Error ? failure.error.message : String(failure.error);
      console.error(`organization ${failure.organizationId}: failed, nothing of its period changed: ${message}`);
    }
    console.log(`Closed ${closed.length} period(s) as of ${now.toISOString()}; ${failed.length} failed`);
    return failed.length ? 1 : 0;
  } finally {
    await db.destroy();
  }
}

runCommand(main);
