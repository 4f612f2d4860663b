/** `column IN ('A', 'B')` for a CHECK constraint over a TypeScript string enum's values. */
export function sqlIn(column: string, values: Record<string, string>): string {
  return `${column} IN (${Object.values(values)
    .map((value) => `'${value}'`)
    .join(', ')})`;
}
