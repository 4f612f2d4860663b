import { MigrationInterface, QueryRunner } from 'typeorm';

const STATUSES_BEFORE = `'COMING_UP', 'ACTIVE_HEALTHY', 'PAUSING', 'PAUSED', 'RESTORING', 'REMOVED'`;
const STATUSES = `'COMING_UP', 'ACTIVE_HEALTHY', 'INIT_FAILED', 'PAUSING', 'PAUSED', 'PAUSE_FAILED', 'RESTORING', 'RESTORE_FAILED', 'GOING_DOWN', 'REMOVED'`;

/**
 * Project lifecycle with failure states, deletion with a grace period (deleted_at on organizations
 * and projects), and invoices that outlive their organization's purge.
 */
export class AddLifecycleAndDeletion1795300000000 implements MigrationInterface {
  name = 'AddLifecycleAndDeletion1795300000000';

  /** Reasons this migration is exempt from squawk rules (`npm run lint:migrations`). */
  static squawkIgnore = {
    'constraint-missing-not-valid':
      'projects and invoices are control-plane tables of thousands of rows: validating them holds the lock for milliseconds',
    'ban-drop-not-null':
      'invoices.organization_id becomes null only when its organization is purged; no client reads the column',
  };

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "projects" DROP CONSTRAINT "CHK_projects_status"`);
    await queryRunner.query(
      `ALTER TABLE "projects" ADD CONSTRAINT "CHK_projects_status" CHECK (status IN (${STATUSES})) NOT VALID`,
    );
    await queryRunner.query(`ALTER TABLE "projects" VALIDATE CONSTRAINT "CHK_projects_status"`);
    await queryRunner.query(`ALTER TABLE "projects" ADD "deleted_at" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(`ALTER TABLE "projects" ADD "status_before_deletion" character varying(16)`);
    await queryRunner.query(`ALTER TABLE "organizations" ADD "deleted_at" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(`ALTER TABLE "invoices" ALTER COLUMN "organization_id" DROP NOT NULL`);
    await queryRunner.query(`ALTER TABLE "invoices" DROP CONSTRAINT "FK_invoices_organization_id"`);
    await queryRunner.query(
      `ALTER TABLE "invoices" ADD CONSTRAINT "FK_invoices_organization_id" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE SET NULL ON UPDATE NO ACTION NOT VALID`,
    );
    await queryRunner.query(`ALTER TABLE "invoices" VALIDATE CONSTRAINT "FK_invoices_organization_id"`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "invoices" DROP CONSTRAINT "FK_invoices_organization_id"`);
    await queryRunner.query(`DELETE FROM "invoices" WHERE "organization_id" IS NULL`);
    await queryRunner.query(
      `ALTER TABLE "invoices" ADD CONSTRAINT "FK_invoices_organization_id" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(`ALTER TABLE "invoices" ALTER COLUMN "organization_id" SET NOT NULL`);
    await queryRunner.query(`ALTER TABLE "organizations" DROP COLUMN "deleted_at"`);
    await queryRunner.query(`ALTER TABLE "projects" DROP COLUMN "status_before_deletion"`);
    await queryRunner.query(`ALTER TABLE "projects" DROP COLUMN "deleted_at"`);
    await queryRunner.query(`ALTER TABLE "projects" DROP CONSTRAINT "CHK_projects_status"`);
    await queryRunner.query(
      `UPDATE "projects" SET "status" = CASE "status" WHEN 'INIT_FAILED' THEN 'COMING_UP' WHEN 'PAUSE_FAILED' THEN 'ACTIVE_HEALTHY' WHEN 'RESTORE_FAILED' THEN 'PAUSED' WHEN 'GOING_DOWN' THEN 'REMOVED' ELSE "status" END`,
    );
    await queryRunner.query(
      `ALTER TABLE "projects" ADD CONSTRAINT "CHK_projects_status" CHECK (status IN (${STATUSES_BEFORE}))`,
    );
  }
}
