import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { buildApiSchema } from '../src/schema';

/** The SDL of the API, built from the resolvers, sorted so that it diffs well (`npm run schema` writes it). */
export async function printApiSchema(): Promise<string> {
  return `${printSchema(lexicographicSortSchema(await buildApiSchema()))}\n`;
}

export const SCHEMA_FILE = path.join(__dirname, '..', '..', 'schema.graphql');

if (require.main === module) {
  printApiSchema().then(
    (sdl) => writeFileSync(SCHEMA_FILE, sdl),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
