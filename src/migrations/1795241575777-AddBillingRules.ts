import { MigrationInterface, QueryRunner } from 'typeorm';

/** The plan catalog: prices in USD cents a month, and the number of active projects each allows (null: unlimited). */
const PLANS = `('free', 'Free', 0, 'USD', 2), ('pro', 'Pro', 2500, 'USD', 10), ('team', 'Team', 59900, 'USD', 50), ('enterprise', 'Enterprise', 249900, 'USD', NULL)`;
const PLAN_CODES = `'free', 'pro', 'team', 'enterprise'`;

export class AddBillingRules1795241575777 implements MigrationInterface {
  name = 'AddBillingRules1795241575777';

  /** Reasons this migration is exempt from squawk rules (`npm run lint:migrations`). */
  static squawkIgnore = {
    'require-concurrent-index-creation':
      'subscriptions has been empty since AddBilling created it: nothing wrote to it before this release',
    'constraint-missing-not-valid':
      'subscriptions and invoices have been empty since AddBilling created them: there are no rows to validate',
    'disallowed-unique-constraint':
      'invoices and payment_methods have been empty since AddBilling created them: the index builds on no rows',
  };

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX "IDX_subscriptions_current_period_end" ON "subscriptions"  ("current_period_end") WHERE status <> 'canceled'`,
    );
    await queryRunner.query(
      `ALTER TABLE "subscriptions" ADD CONSTRAINT "CHK_subscriptions_canceled_at" CHECK ((status = 'canceled') = (canceled_at IS NOT NULL))`,
    );
    await queryRunner.query(
      `ALTER TABLE "invoices" ADD CONSTRAINT "CHK_invoices_paid_at" CHECK ((status = 'paid') = (paid_at IS NOT NULL))`,
    );
    await queryRunner.query(
      `ALTER TABLE "invoices" ADD CONSTRAINT "CHK_invoices_issued_at" CHECK ((status = 'draft') = (issued_at IS NULL))`,
    );
    await queryRunner.query(
      `ALTER TABLE "invoices" ADD CONSTRAINT "UQ_invoices_subscription_id_period_start" UNIQUE ("subscription_id", "period_start")`,
    );
    await queryRunner.query(
      `ALTER TABLE "payment_methods" ADD CONSTRAINT "UQ_payment_methods_provider_provider_ref" UNIQUE ("provider", "provider_ref")`,
    );
    await queryRunner.query(
      `INSERT INTO "plans" ("code", "name", "price_cents", "currency", "max_projects") VALUES ${PLANS}`,
    );
    // Every organization has a current subscription: existing ones start on free, for the rest of this
    // calendar month (UTC), like a new organization.
    await queryRunner.query(
      `INSERT INTO "subscriptions" ("organization_id", "plan_id", "status", "current_period_start", "current_period_end")
             SELECT o."id", p."id", 'active', now(), (date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC'
             FROM "organizations" o CROSS JOIN "plans" p
             WHERE p."code" = 'free'
               AND NOT EXISTS (SELECT 1 FROM "subscriptions" s WHERE s."organization_id" = o."id" AND s."status" <> 'canceled')`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    // The catalog goes, and with it every subscription to it (invoices keep their rows, without a subscription).
    await queryRunner.query(
      `DELETE FROM "subscriptions" WHERE "plan_id" IN (SELECT "id" FROM "plans" WHERE "code" IN (${PLAN_CODES}))`,
    );
    await queryRunner.query(`DELETE FROM "plans" WHERE "code" IN (${PLAN_CODES})`);
    await queryRunner.query(`ALTER TABLE "payment_methods" DROP CONSTRAINT "UQ_payment_methods_provider_provider_ref"`);
    await queryRunner.query(`ALTER TABLE "invoices" DROP CONSTRAINT "UQ_invoices_subscription_id_period_start"`);
    await queryRunner.query(`ALTER TABLE "invoices" DROP CONSTRAINT "CHK_invoices_issued_at"`);
    await queryRunner.query(`ALTER TABLE "invoices" DROP CONSTRAINT "CHK_invoices_paid_at"`);
    await queryRunner.query(`ALTER TABLE "subscriptions" DROP CONSTRAINT "CHK_subscriptions_canceled_at"`);
    await queryRunner.query(`DROP INDEX "platform"."IDX_subscriptions_current_period_end"`);
  }
}
