import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { AREAS, ERD_FILE, renderErd } from '../../scripts/erd';
import { entities } from '../../src/entities';

describe('docs/schema.md', () => {
  it('holds the ER diagrams the entities make (run `npm run schema:erd` after changing them)', async () => {
    assert.equal(readFileSync(ERD_FILE, 'utf8'), await renderErd());
  });

  it('has one diagram of the whole schema and one per area, which together hold every table once', async () => {
    const text = await renderErd();
    assert.equal(text.match(/```mermaid\nerDiagram/g)?.length, 1 + Object.keys(AREAS).length);
    const tables = Object.values(AREAS).flatMap((area) => area.tables);
    assert.equal(new Set(tables).size, tables.length, 'no table in two areas');
    assert.equal(tables.length, entities.length);
  });
});
