import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { platformRepository } from '../src/repositories/platform.repository';
import { verifyAuditChains } from '../src/services/audit-chain.service';
import { jobsRuntime } from './jobs-support';
import { runCommand } from './command';

const USAGE = 'usage: npm run audit:verify [-- --organization <slug>] [--json]';

/**
 * `npm run audit:verify`: walks every audit chain (or one organization's) from its checkpoint to
 * its head and exits 1 naming the first event that was altered, deleted or inserted out of place.
 * Prints each chain's head hash: kept outside the database, it anchors the chain.
 */
async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { organization: { type: 'string' }, json: { type: 'boolean' } },
    strict: true,
  });
  const { db } = await jobsRuntime('platform-api-audit-verify');
  try {
    let organizationId: string | null = null;
    if (values.organization !== undefined) {
      const row = await platformRepository.organizationBySlug(db, values.organization);
      if (!row) throw new Error(`No organization has the slug "${values.organization}"\n${USAGE}`);
      organizationId = row.organization.id;
    }
    const reports = await verifyAuditChains(db.manager, organizationId);
    if (values.json) console.log(JSON.stringify(reports, null, 2));
    else {
      for (const report of reports) {
        const state = report.problem ? `BROKEN: ${report.problem.message}` : `ok, head ${report.head}`;
        console.log(`chain ${report.chainKey}: ${report.events} event(s) verified, ${state}`);
      }
    }
    const broken = reports.filter((report) => report.problem);
    if (broken.length) console.error(`${broken.length} chain(s) broken; first: ${broken[0].problem?.message}`);
    else console.log(`${reports.length} chain(s) intact`);
    return broken.length ? 1 : 0;
  } finally {
    await db.destroy();
  }
}

runCommand(main);
