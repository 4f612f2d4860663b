import { DefaultNamingStrategy, type NamingStrategyInterface, type Table, type View } from 'typeorm';

export function snakeCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();
}

function bareTableName(tableOrName: Table | View | string): string {
  const name = typeof tableOrName === 'string' ? tableOrName : tableOrName.name;
  return name.split('.').pop() as string;
}

function limit(name: string): string {
  // PostgreSQL truncates identifiers at 63 bytes; a silently truncated name would not
  // match the one in the migrations, so refuse it at build time instead.
  if (name.length > 63) throw new Error(`Constraint name "${name}" is longer than 63 characters: name it explicitly`);
  return name;
}

/**
 * snake_case tables and columns, and readable, deterministic constraint names
 * (PK_table, FK_table_column, UQ_table_columns, IDX_table_columns) instead of TypeORM's
 * hashes: the names are part of the schema's contract and must be the same on every database.
 * Partial indexes are named explicitly in the entities; CHECK constraints must be.
 */
export class PlatformNamingStrategy extends DefaultNamingStrategy implements NamingStrategyInterface {
  override tableName(targetName: string, userSpecifiedName: string | undefined): string {
    return userSpecifiedName ?? `${snakeCase(targetName)}s`;
  }

  override columnName(propertyName: string, customName: string | undefined, embeddedPrefixes: string[]): string {
    return [...embeddedPrefixes.map(snakeCase), customName ?? snakeCase(propertyName)].join('_');
  }

  override joinColumnName(relationName: string, referencedColumnName: string): string {
    return `${snakeCase(relationName)}_${referencedColumnName}`;
  }

  override primaryKeyName(tableOrName: Table | string): string {
    return limit(`PK_${bareTableName(tableOrName)}`);
  }

  override foreignKeyName(tableOrName: Table | string, columnNames: string[]): string {
    return limit(`FK_${bareTableName(tableOrName)}_${columnNames.join('_')}`);
  }

  override uniqueConstraintName(tableOrName: Table | string, columnNames: string[]): string {
    return limit(`UQ_${bareTableName(tableOrName)}_${columnNames.join('_')}`);
  }

  override relationConstraintName(tableOrName: Table | string, columnNames: string[]): string {
    // The unique constraint a one-to-one relation implies: same name as any other unique.
    return this.uniqueConstraintName(tableOrName, columnNames);
  }

  override indexName(tableOrName: Table | View | string, columnNames: string[], where?: string): string {
    const suffix = where ? '_partial' : '';
    return limit(`IDX_${bareTableName(tableOrName)}_${columnNames.join('_')}${suffix}`);
  }

  override checkConstraintName(tableOrName: Table | string, expression: string, isEnum?: boolean): string {
    if (isEnum) return super.checkConstraintName(tableOrName, expression, isEnum);
    throw new Error(`CHECK (${expression}) on ${bareTableName(tableOrName)} needs an explicit name`);
  }

  override defaultConstraintName(tableOrName: Table | string, columnName: string): string {
    return limit(`DF_${bareTableName(tableOrName)}_${columnName}`);
  }
}
