import 'reflect-metadata';
import { PlatformDataSource } from '../ormconfig';
import { loadConfig } from '../src/config';
import { adoptLegacyDatabase, type AdoptionOptions, type AdoptionResult } from '../src/database/adoption/adopt';
import { addMapping, defaultMaps, LEGACY_SCHEMA } from '../src/database/adoption/legacy-shape';
import type { Survey } from '../src/database/adoption/survey';

const USAGE = `Usage (exit 0: adopted, or nothing to adopt; 1: refused or failed, nothing changed; 2: wrong usage):
  npm run db:adopt -- --dry-run                  what adoption would copy, map, leave and refuse; changes nothing
  npm run db:adopt                               adopt the legacy database, in one transaction
Options:
  --map <kind>:<legacy>=<ours>                   map a legacy value: role (owner|admin|member|viewer),
                                                 access_level (read|write|admin) or status (ACTIVE_HEALTHY, …)
  --plan <organization slug>=<plan code>         start that organization on that plan instead of free
  --lock-unknown-passwords                       copy users whose hash is neither bcrypt nor argon2, unable to log in`;

class UsageError extends Error {}

type Parsed = Omit<AdoptionOptions, 'encryptionKey' | 'lockTimeoutMs'>;

function parse(args: string[]): Parsed {
  const parsed: Parsed = { dryRun: false, maps: defaultMaps(), plans: {}, lockUnknownPasswords: false };
  for (let i = 0; i < args.length; i += 1) {
    const value = () => {
      const next = args[(i += 1)];
      if (next === undefined) throw new UsageError(`${args[i - 1]} needs a value\n${USAGE}`);
      return next;
    };
    if (args[i] === '--dry-run') parsed.dryRun = true;
    else if (args[i] === '--lock-unknown-passwords') parsed.lockUnknownPasswords = true;
    else if (args[i] === '--map') {
      try {
        addMapping(parsed.maps, value());
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
    } else if (args[i] === '--plan') {
      const [slug, code] = value().split('=');
      if (!slug || !code) throw new UsageError(`--plan takes <organization slug>=<plan code>\n${USAGE}`);
      parsed.plans[slug] = code;
    } else throw new UsageError(`Unknown option ${args[i]}\n${USAGE}`);
  }
  return parsed;
}

function table(rows: [string, string | number, string][]): string[] {
  return rows.map(([what, count, note]) => `  ${what.padEnd(34)} ${String(count).padStart(6)}  ${note}`);
}

function surveyLines(survey: Survey, plans: Record<string, string>): string[] {
  const c = survey.counts;
  const mapped = (kind: string) =>
    survey.mapped
      .filter((m) => m.kind === kind)
      .map((m) => `${m.from}→${m.to} ${m.rows}`)
      .join(', ');
  const planned = Object.entries(plans).map(([slug, code]) => `${slug}→${code}`);
  return [
    `Legacy history (platform.schema_migrations, kept in ${LEGACY_SCHEMA}): ${survey.legacyHistory.map((m) => m.name).join(', ') || 'empty'}`,
    'Copy into the current schema:',
    ...table([
      ['organizations', c.organizations, ''],
      ['projects', c.projects, `refs kept; status: ${mapped('status')}`],
      ['credentials', c.credentials, 'service_role_key and jwt_secret encrypted with ENCRYPTION_KEY'],
      [
        'users',
        c.users,
        `e-mails trimmed and lower-cased; ${survey.bcryptHashes} bcrypt hashes kept (argon2id from each first log-in)` +
          (survey.unusablePasswords ? `; ${survey.unusablePasswords} locked (unknown hashes)` : ''),
      ],
      ['user_roles (memberships)', c.user_roles, `role: ${mapped('role')}`],
      ['permissions (project grants)', c.permissions, `access level: ${mapped('access_level')}`],
      ['subscriptions (new)', c.organizations, `free plan${planned.length ? `, except ${planned.join(', ')}` : ''}`],
    ]),
    `Leave in ${LEGACY_SCHEMA}:`,
    ...table(survey.left.map((l) => [l.what, l.rows ?? '', l.why])),
    ...survey.warnings.map((w) => `Warning: ${w}`),
  ];
}

function refusalLines(survey: Survey): string[] {
  return [
    `Refused: ${survey.refusals.length} problem(s) must be solved first; nothing was changed.`,
    ...survey.refusals.flatMap((r) => [
      `  - ${r.problem}: ${r.rows} row(s)${r.examples.length ? `, e.g. ${r.examples.join(', ')}` : ''}`,
      ...(r.fix ? [`    fix: ${r.fix}`] : []),
    ]),
  ];
}

function report(result: AdoptionResult, parsed: Parsed): { lines: string[]; code: number } {
  switch (result.outcome) {
    case 'not-legacy':
      return {
        lines: ['No database in the legacy shape to adopt:', ...result.reasons.map((r) => `  - ${r}`)],
        code: 1,
      };
    case 'current':
      return {
        lines: [`Nothing to adopt: schema platform is this project's already${result.adopted ? ' (adopted)' : ''}.`],
        code: 0,
      };
    case 'refused':
      return { lines: [...surveyLines(result.survey, parsed.plans), ...refusalLines(result.survey)], code: 1 };
    case 'dry-run':
      return {
        lines: [
          ...surveyLines(result.survey, parsed.plans),
          'Dry run: nothing was changed. Run without --dry-run to adopt.',
        ],
        code: 0,
      };
    case 'adopted':
      return {
        lines: [
          ...surveyLines(result.survey, parsed.plans),
          `Migrations applied: ${result.migrations.join(', ')}`,
          `Copied: ${result.copied.map((c) => `${c.table} ${c.rows}`).join(', ')}`,
          `Verified against the legacy rows: ${result.verified.join(', ')}`,
          'Adopted.',
        ],
        code: 0,
      };
  }
}

async function main(args: string[]): Promise<number> {
  const parsed = parse(args);
  const config = loadConfig();
  const db = new PlatformDataSource({ storage: config, applicationName: 'platform-api-adopt', forMigrations: true });
  await db.initialize();
  try {
    const result = await adoptLegacyDatabase(
      { db, withMigrationLock: (work) => db.holdingMigrationLock(work) },
      { ...parsed, encryptionKey: config.encryptionKey, lockTimeoutMs: config.migrationLockTimeoutMs },
    ).catch((error: unknown) => {
      throw new Error(`Adoption failed, and was rolled back: nothing was changed.\n${(error as Error).message}`, {
        cause: error,
      });
    });
    const { lines, code } = report(result, parsed);
    for (const line of lines) console.log(line);
    if (result.outcome === 'adopted' && result.remaining.length) {
      const applied = await db.runMigrations({ transaction: 'each' });
      console.log(`Applied after the commit (outside a transaction): ${applied.map((m) => m.name).join(', ')}`);
    }
    return code;
  } finally {
    await db.destroy();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
