import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { accessRules, unintendedPublicOperations } from '../src/resolvers/access-rules';
import { printApiSchema, SCHEMA_FILE } from '../scripts/emit-schema';

const SNAPSHOT = path.join(__dirname, '..', '..', 'test', 'access-rules.snapshot.txt');

describe('the published contract', () => {
  let sdl: string;
  before(async () => {
    sdl = await printApiSchema();
  });

  it('schema.graphql is the SDL the resolvers build (run `npm run schema` after changing them)', () => {
    assert.equal(readFileSync(SCHEMA_FILE, 'utf8'), sdl);
  });

  it('every query and mutation requires a signed-in caller, except the public ones', () => {
    assert.deepEqual(unintendedPublicOperations(), []);
  });

  it('who can reach each operation and field is what the reviewed snapshot says', () => {
    const current = accessRules()
      .map((rule) => `${rule.field.padEnd(48)} ${rule.requires}`)
      .join('\n')
      .concat('\n');
    if (process.env.UPDATE_SNAPSHOTS === '1') writeFileSync(SNAPSHOT, current);
    assert.equal(
      current,
      readFileSync(SNAPSHOT, 'utf8'),
      'a change of who can do what: review it, then UPDATE_SNAPSHOTS=1 npm test',
    );
  });

  it('secrets are never plain fields of an entity', () => {
    assert.doesNotMatch(sdl, /hashedPassword|tokenHash/);
  });
});
