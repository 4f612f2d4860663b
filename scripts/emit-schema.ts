import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { buildApiSchema } from '../src/schema';

/**
 * The `schema { … }` block, which graphql-js leaves out when the roots have their usual names.
 * Written out, it tells every tool that reads the file which roots exist: without it, a type
 * named `Subscription` would be taken for the subscription root.
 */
function schemaDefinition(schema: GraphQLSchema): string {
  const roots = [
    ['query', schema.getQueryType()],
    ['mutation', schema.getMutationType()],
    ['subscription', schema.getSubscriptionType()],
  ] as const;
  const lines = roots.flatMap(([operation, type]) => (type ? [`  ${operation}: ${type.name}`] : []));
  return `schema {\n${lines.join('\n')}\n}\n\n`;
}

/** The SDL of the API, built from the resolvers, sorted so that it diffs well (`npm run schema` writes it). */
export async function printApiSchema(): Promise<string> {
  const schema = lexicographicSortSchema(await buildApiSchema());
  return `${schemaDefinition(schema)}${printSchema(schema)}\n`;
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
