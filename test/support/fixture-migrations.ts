import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Small migrations for tests of the deploy path; each name ends in its 13-digit timestamp. */
export class CreateWidgets1700000000001 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query('CREATE TABLE widgets (id serial CONSTRAINT "PK_widgets" PRIMARY KEY, label text NOT NULL)');
  }
  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE widgets');
  }
}

/** The same migration, edited after it was applied. */
export class CreateWidgetsEdited implements MigrationInterface {
  name = 'CreateWidgets1700000000001';
  async up(runner: QueryRunner): Promise<void> {
    await runner.query('CREATE TABLE widgets (id bigserial CONSTRAINT "PK_widgets" PRIMARY KEY, label text NOT NULL)');
  }
  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE widgets');
  }
}

/** A data migration: applied twice, it would insert twice. */
export class SeedWidgets1700000000002 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`INSERT INTO widgets (label) VALUES ('first')`);
  }
  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DELETE FROM widgets WHERE label = 'first'`);
  }
}

export class AddWidgetColor1700000000003 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE widgets ADD COLUMN color text');
  }
  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE widgets DROP COLUMN color');
  }
}

/** Non-transactional: CREATE INDEX CONCURRENTLY cannot run in a transaction. */
export class IndexWidgetLabels1700000000004 implements MigrationInterface {
  transaction = false as const;
  async up(runner: QueryRunner): Promise<void> {
    await runner.query('CREATE INDEX CONCURRENTLY "IDX_widgets_label" ON widgets (label)');
  }
  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX CONCURRENTLY "IDX_widgets_label"');
  }
}

/**
 * Several statements with a pause between them (when FIXTURE_PAUSE_SECONDS is set), so that a
 * test can kill the process in the middle.
 */
export class CreateGadgets1700000000005 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query('CREATE TABLE gadgets (id serial CONSTRAINT "PK_gadgets" PRIMARY KEY)');
    await runner.query('INSERT INTO gadgets DEFAULT VALUES');
    const pause = Number(process.env.FIXTURE_PAUSE_SECONDS ?? 0);
    if (pause > 0) await runner.query('SELECT pg_sleep($1)', [pause]);
    await runner.query('CREATE TABLE gadget_parts (id serial CONSTRAINT "PK_gadget_parts" PRIMARY KEY)');
  }
  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE gadget_parts');
    await runner.query('DROP TABLE gadgets');
  }
}
