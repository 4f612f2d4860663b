/**
 * `column = $n` for a batch of one key, `column = ANY($n)` for more. Reads are planned once per
 * connection, generically, and a generic plan for an array assumes ten elements: over small
 * tables it then hashes whole tables where one key is a unique-index lookup. Nearly every batch
 * of a request holds one key.
 */
export function matching(column: string, keys: readonly unknown[], add: (value: unknown) => string): string {
  return keys.length === 1 ? `${column} = ${add(keys[0])}` : `${column} = ANY(${add(keys)})`;
}

export function byKey<K, V>(keys: readonly K[], rows: readonly V[], keyOf: (row: V) => K): (V | null)[] {
  const map = new Map(rows.map((row) => [keyOf(row), row]));
  return keys.map((key) => map.get(key) ?? null);
}

export function groupBy<K, V>(keys: readonly K[], rows: readonly V[], keyOf: (row: V) => K): V[][] {
  const map = new Map<K, V[]>(keys.map((key) => [key, []]));
  for (const row of rows) map.get(keyOf(row))?.push(row);
  return keys.map((key) => map.get(key) ?? []);
}

/** `text` for a LIKE pattern, its wildcards and escape character matched literally. */
export function likeEscaped(text: string): string {
  return text.replace(/[\\%_]/g, (char) => `\\${char}`);
}

/** `(created_at, id) > cursor` of a keyset page over `alias`, or true for the first page. */
export function afterCursor(
  alias: string,
  after: { createdAt: Date; id: string } | null,
  add: (value: unknown) => string,
): string {
  if (!after) return 'true';
  return `(${alias}.created_at, ${alias}.id) > (${add(after.createdAt)}::timestamptz, ${add(after.id)}::uuid)`;
}
