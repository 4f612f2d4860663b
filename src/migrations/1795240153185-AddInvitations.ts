import { MigrationInterface, QueryRunner } from 'typeorm';

export class AddInvitations1795240153185 implements MigrationInterface {
  name = 'AddInvitations1795240153185';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "invitations" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "organization_id" uuid NOT NULL, "email" character varying(320) NOT NULL, "role" character varying(16) NOT NULL, "token_hash" character(64) NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "invited_by_id" uuid, "accepted_at" TIMESTAMP WITH TIME ZONE, "accepted_by_id" uuid, CONSTRAINT "UQ_invitations_token_hash" UNIQUE ("token_hash"), CONSTRAINT "CHK_invitations_token_hash" CHECK (token_hash ~ '^[0-9a-f]{64}$'), CONSTRAINT "CHK_invitations_email_normalized" CHECK (email = lower(btrim(email))), CONSTRAINT "CHK_invitations_role" CHECK (role IN ('owner', 'admin', 'member', 'viewer')), CONSTRAINT "PK_invitations" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_invitations_organization_id" ON "invitations"  ("organization_id") `);
    await queryRunner.query(`CREATE INDEX "IDX_invitations_invited_by_id" ON "invitations"  ("invited_by_id") `);
    await queryRunner.query(`CREATE INDEX "IDX_invitations_accepted_by_id" ON "invitations"  ("accepted_by_id") `);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "UQ_invitations_pending_per_email" ON "invitations"  ("organization_id", "email") WHERE accepted_at IS NULL`,
    );
    await queryRunner.query(
      `ALTER TABLE "invitations" ADD CONSTRAINT "FK_invitations_organization_id" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "invitations" ADD CONSTRAINT "FK_invitations_invited_by_id" FOREIGN KEY ("invited_by_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "invitations" ADD CONSTRAINT "FK_invitations_accepted_by_id" FOREIGN KEY ("accepted_by_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "invitations" DROP CONSTRAINT "FK_invitations_accepted_by_id"`);
    await queryRunner.query(`ALTER TABLE "invitations" DROP CONSTRAINT "FK_invitations_invited_by_id"`);
    await queryRunner.query(`ALTER TABLE "invitations" DROP CONSTRAINT "FK_invitations_organization_id"`);
    await queryRunner.query(`DROP INDEX "platform"."UQ_invitations_pending_per_email"`);
    await queryRunner.query(`DROP INDEX "platform"."IDX_invitations_accepted_by_id"`);
    await queryRunner.query(`DROP INDEX "platform"."IDX_invitations_invited_by_id"`);
    await queryRunner.query(`DROP INDEX "platform"."IDX_invitations_organization_id"`);
    await queryRunner.query(`DROP TABLE "invitations"`);
  }
}
