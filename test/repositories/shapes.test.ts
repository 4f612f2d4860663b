import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PlatformDataSource } from '../../ormconfig';
import { loadStorageConfig } from '../../src/config';
import { Project } from '../../src/entities/project.entity';
import { RowShape } from '../../src/repositories/row-shape';
import { SHAPES } from '../../src/repositories/shapes';
import { createDatabase, dropDatabase } from '../support/database';

/**
 * The repositories read some entities with hand-written SQL, through one column list and one row
 * mapper per entity. These tests hold each to the entity as TypeORM knows it, so that a column
 * added to an entity and missed by the reads fails here rather than reading as undefined.
 */
describe('hand-written reads and their entities', () => {
  let dataSource: PlatformDataSource;
  let url: string;
  before(async () => {
    url = await createDatabase({ migrated: true });
    dataSource = new PlatformDataSource({ storage: loadStorageConfig({ DATABASE_URL: url, NODE_ENV: 'test' }) });
    await dataSource.initialize();
  });
  after(async () => {
    await dataSource.destroy();
    await dropDatabase(url);
  });

  for (const shape of SHAPES) {
    const name = shape.entity.name;

    it(`${name}: the read columns are the entity's columns, but those left out with a reason`, () => {
      const metadata = dataSource.getMetadata(shape.entity);
      const entityColumns = metadata.columns.map((column) => column.databaseName).sort();
      const read = [...shape.columns, ...Object.keys(shape.omitted)].sort();
      assert.deepEqual(read, entityColumns);
      for (const [column, why] of Object.entries(shape.omitted)) assert.ok(why.trim(), `${column} needs a reason`);
    });

    it(`${name}: each column is read into the property TypeORM maps it to, and times are the timestamp columns`, () => {
      const metadata = dataSource.getMetadata(shape.entity);
      const row = Object.fromEntries(shape.columns.map((column) => [column, `value of ${column}`]));
      const entity = shape.fromRow(row) as Record<string, unknown>;
      assert.ok(entity instanceof shape.entity, 'built on the entity class');
      for (const column of shape.columns) {
        const property = metadata.findColumnsWithPropertyPath(
          metadata.columns.find((c) => c.databaseName === column)?.propertyName ?? '',
        )[0]?.propertyName;
        assert.equal(entity[property ?? '?'], `value of ${column}`, `${column} -> ${property}`);
      }
      const timestamps = metadata.columns
        .filter((column) => column.type === 'timestamptz' && !(column.databaseName in shape.omitted))
        .map((column) => column.propertyName)
        .sort();
      assert.deepEqual([...shape.times].sort(), timestamps);
    });
  }

  it('a shape that misses a column of its entity is caught', () => {
    const project = SHAPES.find((shape) => shape.entity === Project);
    assert.ok(project);
    const missing = new RowShape(
      Project,
      project.properties.filter((property) => property !== 'region') as (keyof Project)[],
      ['createdAt', 'updatedAt'],
    );
    const metadata = dataSource.getMetadata(Project);
    const read = [...missing.columns].sort();
    assert.notDeepEqual(read, metadata.columns.map((column) => column.databaseName).sort());
    assert.ok(!read.includes('region'));
  });
});
