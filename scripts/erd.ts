import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { DataSource, type EntityMetadata } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import { PlatformNamingStrategy } from '../src/database/naming-strategy';
import { entities } from '../src/entities';

export const ERD_FILE = path.join(__dirname, '..', '..', 'docs', 'schema.md');

/** Each table's area, with the heading of its diagram: every entity belongs to exactly one. */
export const AREAS: Record<string, { title: string; tables: string[] }> = {
  tenancy: {
    title: 'Tenancy: organizations, their projects and the projects’ keys',
    tables: ['organizations', 'projects', 'credentials'],
  },
  access: {
    title: 'Access: users, their memberships, project grants and invitations',
    tables: ['users', 'user_roles', 'permissions', 'invitations'],
  },
  machines: {
    title: 'Machine access: service accounts and the keys that authenticate as them or as users',
    tables: ['service_accounts', 'access_keys'],
  },
  accounts: {
    title: 'Accounts: sessions and their refresh tokens, e-mailed tokens, the mail outbox',
    tables: ['sessions', 'session_refresh_tokens', 'account_tokens', 'mail_outbox'],
  },
  billing: {
    title: 'Billing: plans, subscriptions, payment methods and invoices',
    tables: ['plans', 'subscriptions', 'payment_methods', 'invoices', 'invoice_line_items'],
  },
};

/** The entities' metadata as TypeORM builds it for the app (naming strategy included), without a connection. */
async function metadata(): Promise<EntityMetadata[]> {
  const source = new DataSource({ type: 'postgres', entities, namingStrategy: new PlatformNamingStrategy() });
  await (source as unknown as { buildMetadatas(): Promise<void> }).buildMetadatas();
  return [...source.entityMetadatas].sort((a, b) => a.tableName.localeCompare(b.tableName));
}

const TYPE_NAMES: Record<string, string> = { varchar: 'varchar', char: 'char', timestamptz: 'timestamptz' };

function typeOf(column: ColumnMetadata): string {
  const name = typeof column.type === 'string' ? (TYPE_NAMES[column.type] ?? column.type) : 'unknown';
  const size = column.length || (column.precision ?? '');
  return size ? `${name}(${size})` : name;
}

function keysOf(entity: EntityMetadata, column: ColumnMetadata): { keys: string[]; notes: string[] } {
  const keys: string[] = [];
  const notes: string[] = [];
  if (column.isPrimary) keys.push('PK');
  if (entity.foreignKeys.some((fk) => fk.columns.includes(column))) keys.push('FK');
  for (const unique of entity.uniques.filter((u) => u.columns.includes(column))) {
    if (unique.columns.length === 1) keys.push('UK');
    else
      notes.push(
        `unique with ${unique.columns
          .filter((c) => c !== column)
          .map((c) => c.databaseName)
          .join(', ')}`,
      );
  }
  for (const index of entity.indices.filter((i) => i.isUnique && i.columns.includes(column))) {
    notes.push(
      `unique${index.columns.length > 1 ? ' per ' + index.columns.map((c) => c.databaseName).join(', ') : ''} where ${index.where}`,
    );
  }
  if (column.isNullable) notes.push('nullable');
  return { keys: [...new Set(keys)], notes };
}

function entityBlock(entity: EntityMetadata): string[] {
  const lines = entity.columns.map((column) => {
    const { keys, notes } = keysOf(entity, column);
    const note = notes.length ? ` "${notes.join('; ')}"` : '';
    return `    ${typeOf(column)} ${column.databaseName}${keys.length ? ` ${keys.join(', ')}` : ''}${note}`;
  });
  return [`  ${entity.tableName} {`, ...lines, '  }'];
}

/** Parent to child, one line per foreign key: `||` a required parent, `|o` an optional one; `o|` one child at most. */
function relationLines(entity: EntityMetadata): string[] {
  return entity.foreignKeys.map((fk) => {
    const [column] = fk.columns;
    const oneChild = entity.uniques.some((u) => u.columns.length === 1 && u.columns[0] === column);
    const parent = column.isNullable ? '|o' : '||';
    const child = oneChild ? 'o|' : 'o{';
    return `  ${fk.referencedEntityMetadata.tableName} ${parent}--${child} ${entity.tableName} : "${column.databaseName}"`;
  });
}

function diagram(all: EntityMetadata[], tables: Set<string>): string[] {
  const shown = all.filter((e) => tables.has(e.tableName));
  const relations = all
    .flatMap((entity) => relationLines(entity).map((line) => ({ entity, line })))
    .filter(
      ({ entity, line }) => tables.has(entity.tableName) || shown.some((e) => line.startsWith(`  ${e.tableName} `)),
    )
    .map(({ line }) => line);
  return ['```mermaid', 'erDiagram', ...relations, ...shown.flatMap(entityBlock), '```'];
}

/** docs/schema.md: the whole schema, then one diagram per area, from the entities. */
export async function renderErd(): Promise<string> {
  const all = await metadata();
  const placed = Object.values(AREAS).flatMap((area) => area.tables);
  const unplaced = all.map((e) => e.tableName).filter((table) => !placed.includes(table));
  if (unplaced.length) throw new Error(`Tables with no area in scripts/erd.ts AREAS: ${unplaced.join(', ')}`);
  const sections = Object.values(AREAS).flatMap((area) => [
    '',
    `## ${area.title}`,
    '',
    ...diagram(all, new Set(area.tables)),
  ]);
  return [
    '# Database schema',
    '',
    'Generated from the entities (`src/entities/`) by `npm run schema:erd`: do not edit by hand; a test fails when it is',
    'stale. Every table lives in the schema `platform`. Each column shows its type, its name, its keys (PK primary, FK',
    'foreign, UK unique) and notes; a line between two tables is a foreign key, named by its column, from the parent',
    '(`||` required, `|o` optional) to its children (`o{` any number, `o|` at most one). CHECK constraints are in the',
    'migrations. The migration history (`migrations`, `migration_ledger`) is described in',
    '[deploying](deploying.md#migrations).',
    '',
    '## The whole schema',
    '',
    ...diagram(all, new Set(all.map((e) => e.tableName))),
    ...sections,
    '',
  ].join('\n');
}

if (require.main === module) {
  renderErd().then(
    (text) => writeFileSync(ERD_FILE, text),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
