import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * When a project's status last changed, kept by a trigger on every write that changes it: a
 * lifecycle step's idempotency key names the transition it belongs to, so a step enqueued again
 * (by the sweep, after its job was lost) sends the provisioner the key of its first attempt.
 */
export class AddProjectStatusChangedAt1795350000000 implements MigrationInterface {
  name = 'AddProjectStatusChangedAt1795350000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "projects" ADD "status_changed_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now()`,
    );
    await queryRunner.query(
      `CREATE FUNCTION "projects_status_changed"() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         NEW.status_changed_at := clock_timestamp();
         RETURN NEW;
       END $$`,
    );
    await queryRunner.query(
      `CREATE TRIGGER "TRG_projects_status_changed" BEFORE UPDATE OF "status" ON "projects"
       FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION "projects_status_changed"()`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER "TRG_projects_status_changed" ON "projects"`);
    await queryRunner.query(`DROP FUNCTION "projects_status_changed"()`);
    await queryRunner.query(`ALTER TABLE "projects" DROP COLUMN "status_changed_at"`);
  }
}
