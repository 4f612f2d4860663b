import { MigrationInterface, QueryRunner } from 'typeorm';

/** Project grants to service accounts, beside the users' ones: each grant names exactly one grantee. */
export class AddServiceAccountGrants1795500000001 implements MigrationInterface {
  name = 'AddServiceAccountGrants1795500000001';

  /** Reasons this migration is exempt from squawk rules (`npm run lint:migrations`). */
  static squawkIgnore = {
    'ban-drop-not-null':
      'permissions.user_id is null only on the new service-account grants; CHK_permissions_grantee keeps one grantee per row',
    'constraint-missing-not-valid':
      'permissions is a control-plane table of thousands of rows: validating it (and building the unique index) holds the lock for milliseconds',
    'disallowed-unique-constraint':
      'the new column is null on every existing row: the constraint builds over a control-plane table of thousands of rows',
  };

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "permissions" ADD "service_account_id" uuid`);
    await queryRunner.query(`ALTER TABLE "permissions" ALTER COLUMN "user_id" DROP NOT NULL`);
    await queryRunner.query(
      `ALTER TABLE "permissions" ADD CONSTRAINT "UQ_permissions_service_account_id_project_id" UNIQUE ("service_account_id", "project_id")`,
    );
    await queryRunner.query(
      `ALTER TABLE "permissions" ADD CONSTRAINT "CHK_permissions_grantee" CHECK (num_nonnulls(user_id, service_account_id) = 1) NOT VALID`,
    );
    await queryRunner.query(`ALTER TABLE "permissions" VALIDATE CONSTRAINT "CHK_permissions_grantee"`);
    await queryRunner.query(
      `ALTER TABLE "permissions" ADD CONSTRAINT "FK_permissions_service_account_id" FOREIGN KEY ("service_account_id") REFERENCES "service_accounts"("id") ON DELETE CASCADE ON UPDATE NO ACTION NOT VALID`,
    );
    await queryRunner.query(`ALTER TABLE "permissions" VALIDATE CONSTRAINT "FK_permissions_service_account_id"`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "permissions" DROP CONSTRAINT "FK_permissions_service_account_id"`);
    await queryRunner.query(`ALTER TABLE "permissions" DROP CONSTRAINT "CHK_permissions_grantee"`);
    await queryRunner.query(`ALTER TABLE "permissions" DROP CONSTRAINT "UQ_permissions_service_account_id_project_id"`);
    await queryRunner.query(`DELETE FROM "permissions" WHERE "user_id" IS NULL`);
    await queryRunner.query(`ALTER TABLE "permissions" ALTER COLUMN "user_id" SET NOT NULL`);
    await queryRunner.query(`ALTER TABLE "permissions" DROP COLUMN "service_account_id"`);
  }
}
