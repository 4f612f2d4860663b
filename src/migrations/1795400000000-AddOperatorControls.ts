import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The operator's seat: platform roles and e-mail verification on users, suspension and trials on
 * organizations, complimentary plans on subscriptions, payment retries on invoices, and sign-up
 * invitations that belong to no organization.
 */
export class AddOperatorControls1795400000000 implements MigrationInterface {
  name = 'AddOperatorControls1795400000000';

  /** Reasons this migration is exempt from squawk rules (`npm run lint:migrations`). */
  static squawkIgnore = {
    'adding-not-nullable-field':
      'users.email_verified and invoices.payment_retries have constant defaults: PostgreSQL 11+ adds them without a rewrite',
    'ban-drop-not-null':
      'invitations.organization_id and role become null only for platform invitations, which no older release reads',
    'constraint-missing-not-valid':
      'users, organizations, subscriptions and invitations are control-plane tables of thousands of rows: validating them holds the lock for milliseconds',
    'require-concurrent-index-creation':
      'no invitation has a null organization before this release, and no subscription a complimentary plan: both indexes build on no rows',
    'adding-foreign-key-constraint':
      'subscriptions is a control-plane table of thousands of rows and plans a handful: the check takes milliseconds',
  };

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "users" ADD "platform_role" character varying(16)`);
    await queryRunner.query(`ALTER TABLE "users" ADD "email_verified" boolean NOT NULL DEFAULT false`);
    await queryRunner.query(
      `ALTER TABLE "users" ADD CONSTRAINT "CHK_users_platform_role" CHECK (platform_role IN ('platform_admin', 'platform_viewer'))`,
    );
    await queryRunner.query(`ALTER TABLE "organizations" ADD "suspended_at" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(`ALTER TABLE "organizations" ADD "suspension_reason" character varying(200)`);
    await queryRunner.query(`ALTER TABLE "organizations" ADD "suspension_kind" character varying(16)`);
    await queryRunner.query(`ALTER TABLE "organizations" ADD "trial_ends_at" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(
      `ALTER TABLE "organizations" ADD CONSTRAINT "CHK_organizations_suspension" CHECK ((suspended_at IS NULL) = (suspension_reason IS NULL) AND (suspended_at IS NULL) = (suspension_kind IS NULL) AND (suspension_kind IS NULL OR suspension_kind IN ('admin', 'past_due')))`,
    );
    await queryRunner.query(`ALTER TABLE "subscriptions" ADD "complimentary_until" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(`ALTER TABLE "subscriptions" ADD "plan_after_complimentary_id" uuid`);
    await queryRunner.query(
      `ALTER TABLE "subscriptions" ADD CONSTRAINT "FK_subscriptions_plan_after_complimentary_id" FOREIGN KEY ("plan_after_complimentary_id") REFERENCES "plans"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_subscriptions_plan_after_complimentary_id" ON "subscriptions" ("plan_after_complimentary_id")`,
    );
    await queryRunner.query(
      `ALTER TABLE "subscriptions" ADD CONSTRAINT "CHK_subscriptions_complimentary" CHECK ((complimentary_until IS NULL) = (plan_after_complimentary_id IS NULL))`,
    );
    await queryRunner.query(`ALTER TABLE "invoices" ADD "payment_retries" integer NOT NULL DEFAULT 0`);
    await queryRunner.query(
      `ALTER TABLE "invoices" ADD CONSTRAINT "CHK_invoices_payment_retries" CHECK (payment_retries >= 0)`,
    );
    await queryRunner.query(`ALTER TABLE "invitations" ALTER COLUMN "organization_id" DROP NOT NULL`);
    await queryRunner.query(`ALTER TABLE "invitations" ALTER COLUMN "role" DROP NOT NULL`);
    await queryRunner.query(
      `ALTER TABLE "invitations" ADD CONSTRAINT "CHK_invitations_scope" CHECK ((organization_id IS NULL) = (role IS NULL))`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "UQ_invitations_pending_platform_per_email" ON "invitations" ("email") WHERE organization_id IS NULL AND accepted_at IS NULL`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "platform"."UQ_invitations_pending_platform_per_email"`);
    await queryRunner.query(`ALTER TABLE "invitations" DROP CONSTRAINT "CHK_invitations_scope"`);
    await queryRunner.query(`DELETE FROM "invitations" WHERE "organization_id" IS NULL`);
    await queryRunner.query(`ALTER TABLE "invitations" ALTER COLUMN "role" SET NOT NULL`);
    await queryRunner.query(`ALTER TABLE "invitations" ALTER COLUMN "organization_id" SET NOT NULL`);
    await queryRunner.query(`ALTER TABLE "invoices" DROP CONSTRAINT "CHK_invoices_payment_retries"`);
    await queryRunner.query(`ALTER TABLE "invoices" DROP COLUMN "payment_retries"`);
    await queryRunner.query(`ALTER TABLE "subscriptions" DROP CONSTRAINT "CHK_subscriptions_complimentary"`);
    await queryRunner.query(
      `ALTER TABLE "subscriptions" DROP CONSTRAINT "FK_subscriptions_plan_after_complimentary_id"`,
    );
    await queryRunner.query(`DROP INDEX "platform"."IDX_subscriptions_plan_after_complimentary_id"`);
    await queryRunner.query(`ALTER TABLE "subscriptions" DROP COLUMN "plan_after_complimentary_id"`);
    await queryRunner.query(`ALTER TABLE "subscriptions" DROP COLUMN "complimentary_until"`);
    await queryRunner.query(`ALTER TABLE "organizations" DROP CONSTRAINT "CHK_organizations_suspension"`);
    await queryRunner.query(`ALTER TABLE "organizations" DROP COLUMN "trial_ends_at"`);
    await queryRunner.query(`ALTER TABLE "organizations" DROP COLUMN "suspension_kind"`);
    await queryRunner.query(`ALTER TABLE "organizations" DROP COLUMN "suspension_reason"`);
    await queryRunner.query(`ALTER TABLE "organizations" DROP COLUMN "suspended_at"`);
    await queryRunner.query(`ALTER TABLE "users" DROP CONSTRAINT "CHK_users_platform_role"`);
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "email_verified"`);
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "platform_role"`);
  }
}
