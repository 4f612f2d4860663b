import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The counters of the authentication throttles (rate-limiter-flexible's PostgreSQL store), shared
 * by every API process. Unlogged: counts are worth no WAL, and a crash that empties them only
 * resets the windows; a deploy keeps them.
 */
export class AddAuthThrottle1795800000000 implements MigrationInterface {
  name = 'AddAuthThrottle1795800000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE UNLOGGED TABLE "auth_throttle" ("key" text NOT NULL, "points" integer NOT NULL DEFAULT 0, "expire" bigint, CONSTRAINT "PK_auth_throttle" PRIMARY KEY ("key"))`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "auth_throttle"`);
  }
}
