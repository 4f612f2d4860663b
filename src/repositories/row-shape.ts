import { snakeCase } from '../database/naming-strategy';

/**
 * Times inside JSON travel as epoch microseconds, an integer: cheaper to write than ISO text and,
 * unlike date_trunc, free of time-zone conversion. The float times 1e6 stays within 0.25 of the
 * exact count, so the cast to int8 is exact.
 */
export const epochMicros = (column: string) => `(date_part('epoch', ${column}) * 1000000)::int8`;

/** Builds an entity from a row (by column name) or a tuple (by index), on the entity's prototype. */
type Builder<T> = (values: unknown, prototype: object) => T;

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
  private readonly rowBuilders = new Map<string, Builder<T>>();
  private tupleBuilder?: Builder<T>;
  private readonly selectLists = new Map<string, string>();
  private readonly tuples = new Map<string, string>();

  constructor(
    readonly entity: abstract new () => T,
    readonly properties: readonly (keyof T & string)[],
    /** The timestamp properties: they travel as epoch microseconds inside JSON. */
    readonly times: readonly (keyof T & string)[],
    /** Columns of the entity that these reads leave out on purpose, each with why. */
    readonly omitted: Readonly<Record<string, string>> = {},
  ) {
    for (const property of properties) {
      if (!/^[A-Za-z_$][\w$]*$/.test(property)) throw new Error(`${property} is not a property name`);
    }
    this.columns = properties.map(snakeCase);
  }

  /** `a.id AS <prefix>id, a.created_at AS <prefix>created_at, …` for a SELECT list (built once per alias). */
  select(alias: string, prefix = ''): string {
    const key = `${alias}|${prefix}`;
    let list = this.selectLists.get(key);
    if (list === undefined) {
      list = this.columns.map((column) => `${alias}.${column}${prefix ? ` AS ${prefix}${column}` : ''}`).join(', ');
      this.selectLists.set(key, list);
    }
    return list;
  }

  /** The columns as one JSON array, times as epoch microseconds: cheap to build in SQL and to parse. */
  tuple(alias: string): string {
    let tuple = this.tuples.get(alias);
    if (tuple === undefined) {
      const values = this.columns.map((column, i) =>
        this.times.includes(this.properties[i]) ? epochMicros(`${alias}.${column}`) : `${alias}.${column}`,
      );
      tuple = `json_build_array(${values.join(', ')})`;
      this.tuples.set(alias, tuple);
    }
    return tuple;
  }

  fromRow(row: Record<string, unknown>, prefix = ''): T {
    let build = this.rowBuilders.get(prefix);
    if (!build)
      this.rowBuilders.set(prefix, (build = this.compile((i) => `v[${JSON.stringify(prefix + this.columns[i])}]`)));
    return build(row, this.entity.prototype as object);
  }

  /** Times come as epoch microseconds, floored, as a Date keeps whole milliseconds and pg's own parser truncates. */
  fromTuple(values: readonly unknown[]): T {
    this.tupleBuilder ??= this.compile((i) =>
      this.times.includes(this.properties[i])
        ? `(v[${i}] === null ? null : new Date(Math.floor(v[${i}] / 1000)))`
        : `v[${i}]`,
    );
    return this.tupleBuilder(values, this.entity.prototype as object);
  }

  /**
   * A builder that fills the properties in one fixed order with plain assignments. Generated once
   * per shape: a loop over property names would make every store a keyed lookup, on the read
   * path's hottest lines. Only the shape's own names and indexes go into the code.
   */
  private compile(valueOf: (index: number) => string): Builder<T> {
    const assignments = this.properties.map((property, i) => `e.${property} = ${valueOf(i)};`).join('\n');
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    return new Function(
      'v',
      'prototype',
      `const e = Object.create(prototype);\n${assignments}\nreturn e;`,
    ) as Builder<T>;
  }
}
