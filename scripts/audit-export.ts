import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { platformRepository } from '../src/repositories/platform.repository';
import { exportAuditEvents } from '../src/services/audit-chain.service';
import { jobsRuntime } from './jobs-support';
import { runCommand } from './command';

const USAGE = 'usage: npm run audit:export -- --organization <slug> [--since <ISO time>] [--until <ISO time>]';

function instant(name: string, value: string | undefined): Date | null {
  if (value === undefined) return null;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new Error(`--${name} must be an ISO time (got "${value}")\n${USAGE}`);
  return date;
}

/**
 * `npm run audit:export -- --organization <slug>`: the organization's audit events in [since,
 * until), oldest first, one JSON object per line on standard output (NDJSON), for a SIEM. Each
 * line carries its seq, prevHash and hash, so the export can be checked against the chain.
 */
async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { organization: { type: 'string' }, since: { type: 'string' }, until: { type: 'string' } },
    strict: true,
  });
  if (!values.organization) throw new Error(`--organization is required\n${USAGE}`);
  const range = { since: instant('since', values.since), until: instant('until', values.until) };
  const { db } = await jobsRuntime('platform-api-audit-export');
  try {
    const row = await platformRepository.organizationBySlug(db, values.organization);
    if (!row) throw new Error(`No organization has the slug "${values.organization}"\n${USAGE}`);
    const count = await exportAuditEvents(db.manager, row.organization.id, range, (document) => {
      process.stdout.write(`${JSON.stringify(document)}\n`);
    });
    console.error(`${count} event(s) exported`);
    return 0;
  } finally {
    await db.destroy();
  }
}

runCommand(main);
