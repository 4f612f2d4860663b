import { snakeCase } from '../database/naming-strategy';

/**
 * Times inside JSON travel as epoch microseconds, an integer: cheaper to write than ISO text and,
 * unlike date_trunc, free of time-zone conversion. The float times 1e6 stays within 0.25 of the
 * exact count, so the cast to int8 is exact.
 */
export const epochMicros = (column: string) => `(date_part('epoch', ${column}) * 1000000)::int8`;

/** Floor, as a Date keeps whole milliseconds and pg's own parser truncates. */
const fromMicros = (micros: number | null): Date | null =>
  micros === null ? null : new Date(Math.floor(micros / 1000));

/** What a shape says of its entity, for checks against the entity's metadata. */
export interface ShapeOutline {
  readonly entity: abstract new () => object;
  readonly properties: readonly string[];
  readonly columns: readonly string[];
  readonly times: readonly string[];
  readonly omitted: Readonly<Record<string, string>>;
  fromRow(row: Record<string, unknown>): object;
}

/**
 * The columns that hand-written reads take of one entity, written once, and the one way their
 * rows become entity objects. Objects are made on the class's prototype without running its
 * constructor (ES2022 class fields would first define every column as undefined) and filled in
 * one fixed order, so all of them share one hidden class.
 */
export class RowShape<T extends object> implements ShapeOutline {
  /** Column names, snake_case, in `properties` order. */
  readonly columns: readonly string[];
  private readonly prefixed = new Map<string, readonly string[]>();

  constructor(
    readonly entity: abstract new () => T,
    readonly properties: readonly (keyof T & string)[],
    /** The timestamp properties: they travel as epoch microseconds inside JSON. */
    readonly times: readonly (keyof T & string)[],
    /** Columns of the entity that these reads leave out on purpose, each with why. */
    readonly omitted: Readonly<Record<string, string>> = {},
  ) {
    this.columns = properties.map(snakeCase);
  }

  /** `a.id AS <prefix>id, a.created_at AS <prefix>created_at, …` for a SELECT list. */
  select(alias: string, prefix = ''): string {
    return this.columns.map((column) => `${alias}.${column}${prefix ? ` AS ${prefix}${column}` : ''}`).join(', ');
  }

  /** The columns as one JSON array, times as epoch microseconds: cheap to build in SQL and to parse. */
  tuple(alias: string): string {
    const values = this.columns.map((column, i) =>
      this.times.includes(this.properties[i]) ? epochMicros(`${alias}.${column}`) : `${alias}.${column}`,
    );
    return `json_build_array(${values.join(', ')})`;
  }

  fromRow(row: Record<string, unknown>, prefix = ''): T {
    const keys = this.keys(prefix);
    const entity = Object.create(this.entity.prototype as object) as Record<string, unknown>;
    for (let i = 0; i < keys.length; i += 1) entity[this.properties[i]] = row[keys[i]];
    return entity as T;
  }

  fromTuple(values: readonly unknown[]): T {
    const entity = Object.create(this.entity.prototype as object) as Record<string, unknown>;
    for (let i = 0; i < this.properties.length; i += 1) {
      const property = this.properties[i];
      entity[property] = this.times.includes(property) ? fromMicros(values[i] as number | null) : values[i];
    }
    return entity as T;
  }

  private keys(prefix: string): readonly string[] {
    let keys = this.prefixed.get(prefix);
    if (!keys) this.prefixed.set(prefix, (keys = this.columns.map((column) => prefix + column)));
    return keys;
  }
}
