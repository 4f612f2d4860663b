import type { DataSource } from 'typeorm';

/** A comparable description of the `platform` schema: tables, columns, constraints and indexes. */
export async function dumpSchema(db: DataSource): Promise<string> {
  const parts = await Promise.all([
    db.query(
      `SELECT table_name, column_name, data_type, character_maximum_length, is_nullable, column_default
       FROM information_schema.columns WHERE table_schema = 'platform' ORDER BY table_name, column_name`,
    ),
    db.query(
      `SELECT conrelid::regclass::text AS table_name, conname, pg_get_constraintdef(oid) AS definition
       FROM pg_constraint WHERE connamespace = 'platform'::regnamespace ORDER BY 1, 2`,
    ),
    db.query(`SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'platform' ORDER BY 1, 2`),
  ]);
  return JSON.stringify(parts, null, 1);
}
