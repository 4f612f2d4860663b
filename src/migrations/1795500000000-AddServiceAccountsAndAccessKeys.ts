import { MigrationInterface, QueryRunner } from 'typeorm';

/** Service accounts (machine principals of one organization) and the keys that authenticate as them or as users. */
export class AddServiceAccountsAndAccessKeys1795500000000 implements MigrationInterface {
  name = 'AddServiceAccountsAndAccessKeys1795500000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "service_accounts" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "organization_id" uuid NOT NULL, "name" character varying(120) NOT NULL, "role" character varying(16) NOT NULL, "created_by_id" uuid, CONSTRAINT "UQ_service_accounts_organization_id_name" UNIQUE ("organization_id", "name"), CONSTRAINT "CHK_service_accounts_role" CHECK (role IN ('admin', 'member', 'viewer')), CONSTRAINT "PK_service_accounts" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_service_accounts_organization_id" ON "service_accounts"  ("organization_id") `,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_service_accounts_created_by_id" ON "service_accounts"  ("created_by_id") `,
    );
    await queryRunner.query(
      `CREATE TABLE "access_keys" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "lookup_id" character varying(32) NOT NULL, "secret_hash" character(64) NOT NULL, "name" character varying(120) NOT NULL, "service_account_id" uuid, "user_id" uuid, "expires_at" TIMESTAMP WITH TIME ZONE, "last_used_at" TIMESTAMP WITH TIME ZONE, "revoked_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "UQ_access_keys_lookup_id" UNIQUE ("lookup_id"), CONSTRAINT "CHK_access_keys_owner" CHECK (num_nonnulls(service_account_id, user_id) = 1), CONSTRAINT "CHK_access_keys_secret_hash" CHECK (secret_hash ~ '^[0-9a-f]{64}$'), CONSTRAINT "PK_access_keys" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_access_keys_service_account_id" ON "access_keys"  ("service_account_id") `,
    );
    await queryRunner.query(`CREATE INDEX "IDX_access_keys_user_id" ON "access_keys"  ("user_id") `);
    await queryRunner.query(
      `ALTER TABLE "service_accounts" ADD CONSTRAINT "FK_service_accounts_organization_id" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "service_accounts" ADD CONSTRAINT "FK_service_accounts_created_by_id" FOREIGN KEY ("created_by_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "access_keys" ADD CONSTRAINT "FK_access_keys_service_account_id" FOREIGN KEY ("service_account_id") REFERENCES "service_accounts"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "access_keys" ADD CONSTRAINT "FK_access_keys_user_id" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "access_keys" DROP CONSTRAINT "FK_access_keys_user_id"`);
    await queryRunner.query(`ALTER TABLE "access_keys" DROP CONSTRAINT "FK_access_keys_service_account_id"`);
    await queryRunner.query(`ALTER TABLE "service_accounts" DROP CONSTRAINT "FK_service_accounts_created_by_id"`);
    await queryRunner.query(`ALTER TABLE "service_accounts" DROP CONSTRAINT "FK_service_accounts_organization_id"`);
    await queryRunner.query(`DROP INDEX "platform"."IDX_access_keys_user_id"`);
    await queryRunner.query(`DROP INDEX "platform"."IDX_access_keys_service_account_id"`);
    await queryRunner.query(`DROP TABLE "access_keys"`);
    await queryRunner.query(`DROP INDEX "platform"."IDX_service_accounts_created_by_id"`);
    await queryRunner.query(`DROP INDEX "platform"."IDX_service_accounts_organization_id"`);
    await queryRunner.query(`DROP TABLE "service_accounts"`);
  }
}
