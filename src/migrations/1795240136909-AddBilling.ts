import { MigrationInterface, QueryRunner } from 'typeorm';

export class AddBilling1795240136909 implements MigrationInterface {
  name = 'AddBilling1795240136909';

  /** Reasons this migration is exempt from squawk rules (`npm run lint:migrations`). */
  static squawkIgnore = {
    'prefer-bigint-over-smallint': 'card expiry month and year are CHECK-bounded to 1-12 and 2000-2200',
    'constraint-missing-not-valid':
      'ships in the first release with CreatePlatformSchema: organizations is empty when this CHECK is added',
  };

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "plans" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "code" character varying(32) NOT NULL, "name" character varying(64) NOT NULL, "price_cents" integer NOT NULL, "currency" character(3) NOT NULL, "max_projects" integer, CONSTRAINT "UQ_plans_code" UNIQUE ("code"), CONSTRAINT "CHK_plans_max_projects" CHECK (max_projects IS NULL OR max_projects >= 0), CONSTRAINT "CHK_plans_currency" CHECK (currency ~ '^[A-Z]{3}$'), CONSTRAINT "CHK_plans_price_cents" CHECK (price_cents >= 0), CONSTRAINT "PK_plans" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "subscriptions" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "organization_id" uuid NOT NULL, "plan_id" uuid NOT NULL, "status" character varying(16) NOT NULL, "current_period_start" TIMESTAMP WITH TIME ZONE NOT NULL, "current_period_end" TIMESTAMP WITH TIME ZONE NOT NULL, "cancel_at_period_end" boolean NOT NULL DEFAULT false, "canceled_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "CHK_subscriptions_period" CHECK (current_period_end > current_period_start), CONSTRAINT "CHK_subscriptions_status" CHECK (status IN ('trialing', 'active', 'past_due', 'canceled')), CONSTRAINT "PK_subscriptions" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_subscriptions_organization_id" ON "subscriptions"  ("organization_id") `,
    );
    await queryRunner.query(`CREATE INDEX "IDX_subscriptions_plan_id" ON "subscriptions"  ("plan_id") `);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "UQ_subscriptions_current_per_organization" ON "subscriptions"  ("organization_id") WHERE status <> 'canceled'`,
    );
    await queryRunner.query(
      `CREATE TABLE "invoices" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "organization_id" uuid NOT NULL, "subscription_id" uuid, "number" integer NOT NULL, "status" character varying(16) NOT NULL, "currency" character(3) NOT NULL, "subtotal_cents" integer NOT NULL, "tax_cents" integer NOT NULL DEFAULT '0', "total_cents" integer NOT NULL, "period_start" TIMESTAMP WITH TIME ZONE NOT NULL, "period_end" TIMESTAMP WITH TIME ZONE NOT NULL, "issued_at" TIMESTAMP WITH TIME ZONE, "paid_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "UQ_invoices_organization_id_number" UNIQUE ("organization_id", "number"), CONSTRAINT "CHK_invoices_period" CHECK (period_end >= period_start), CONSTRAINT "CHK_invoices_amounts" CHECK (tax_cents >= 0 AND total_cents = subtotal_cents + tax_cents), CONSTRAINT "CHK_invoices_number" CHECK (number > 0), CONSTRAINT "CHK_invoices_currency" CHECK (currency ~ '^[A-Z]{3}$'), CONSTRAINT "CHK_invoices_status" CHECK (status IN ('draft', 'open', 'paid', 'void', 'uncollectible')), CONSTRAINT "PK_invoices" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_invoices_subscription_id" ON "invoices"  ("subscription_id") `);
    await queryRunner.query(
      `CREATE TABLE "invoice_line_items" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "invoice_id" uuid NOT NULL, "description" character varying(255) NOT NULL, "quantity" integer NOT NULL DEFAULT '1', "unit_amount_cents" integer NOT NULL, "amount_cents" integer NOT NULL, "period_start" TIMESTAMP WITH TIME ZONE, "period_end" TIMESTAMP WITH TIME ZONE, CONSTRAINT "CHK_invoice_line_items_amount" CHECK (amount_cents = unit_amount_cents * quantity), CONSTRAINT "CHK_invoice_line_items_quantity" CHECK (quantity > 0), CONSTRAINT "PK_invoice_line_items" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_invoice_line_items_invoice_id" ON "invoice_line_items"  ("invoice_id") `,
    );
    await queryRunner.query(
      `CREATE TABLE "payment_methods" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "organization_id" uuid NOT NULL, "provider" character varying(32) NOT NULL, "provider_ref" character varying(255) NOT NULL, "brand" character varying(32) NOT NULL, "last4" character(4) NOT NULL, "exp_month" smallint NOT NULL, "exp_year" smallint NOT NULL, "is_default" boolean NOT NULL DEFAULT false, CONSTRAINT "CHK_payment_methods_exp_year" CHECK (exp_year BETWEEN 2000 AND 2200), CONSTRAINT "CHK_payment_methods_exp_month" CHECK (exp_month BETWEEN 1 AND 12), CONSTRAINT "CHK_payment_methods_last4" CHECK (last4 ~ '^[0-9]{4}$'), CONSTRAINT "PK_payment_methods" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_payment_methods_organization_id" ON "payment_methods"  ("organization_id") `,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "UQ_payment_methods_default_per_organization" ON "payment_methods"  ("organization_id") WHERE is_default`,
    );
    await queryRunner.query(`ALTER TABLE "organizations" ADD "payment_customer_ref" character varying(255)`);
    await queryRunner.query(`ALTER TABLE "organizations" ADD "tax_id" character varying(64)`);
    await queryRunner.query(`ALTER TABLE "organizations" ADD "billing_address" jsonb`);
    await queryRunner.query(`ALTER TABLE "organizations" ADD "last_invoice_number" integer NOT NULL DEFAULT '0'`);
    await queryRunner.query(
      `ALTER TABLE "organizations" ADD CONSTRAINT "CHK_organizations_last_invoice_number" CHECK (last_invoice_number >= 0)`,
    );
    await queryRunner.query(
      `ALTER TABLE "subscriptions" ADD CONSTRAINT "FK_subscriptions_organization_id" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "subscriptions" ADD CONSTRAINT "FK_subscriptions_plan_id" FOREIGN KEY ("plan_id") REFERENCES "plans"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "invoices" ADD CONSTRAINT "FK_invoices_organization_id" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "invoices" ADD CONSTRAINT "FK_invoices_subscription_id" FOREIGN KEY ("subscription_id") REFERENCES "subscriptions"("id") ON DELETE SET NULL ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "invoice_line_items" ADD CONSTRAINT "FK_invoice_line_items_invoice_id" FOREIGN KEY ("invoice_id") REFERENCES "invoices"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "payment_methods" ADD CONSTRAINT "FK_payment_methods_organization_id" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "payment_methods" DROP CONSTRAINT "FK_payment_methods_organization_id"`);
    await queryRunner.query(`ALTER TABLE "invoice_line_items" DROP CONSTRAINT "FK_invoice_line_items_invoice_id"`);
    await queryRunner.query(`ALTER TABLE "invoices" DROP CONSTRAINT "FK_invoices_subscription_id"`);
    await queryRunner.query(`ALTER TABLE "invoices" DROP CONSTRAINT "FK_invoices_organization_id"`);
    await queryRunner.query(`ALTER TABLE "subscriptions" DROP CONSTRAINT "FK_subscriptions_plan_id"`);
    await queryRunner.query(`ALTER TABLE "subscriptions" DROP CONSTRAINT "FK_subscriptions_organization_id"`);
    await queryRunner.query(`ALTER TABLE "organizations" DROP CONSTRAINT "CHK_organizations_last_invoice_number"`);
    await queryRunner.query(`ALTER TABLE "organizations" DROP COLUMN "last_invoice_number"`);
    await queryRunner.query(`ALTER TABLE "organizations" DROP COLUMN "billing_address"`);
    await queryRunner.query(`ALTER TABLE "organizations" DROP COLUMN "tax_id"`);
    await queryRunner.query(`ALTER TABLE "organizations" DROP COLUMN "payment_customer_ref"`);
    await queryRunner.query(`DROP INDEX "platform"."UQ_payment_methods_default_per_organization"`);
    await queryRunner.query(`DROP INDEX "platform"."IDX_payment_methods_organization_id"`);
    await queryRunner.query(`DROP TABLE "payment_methods"`);
    await queryRunner.query(`DROP INDEX "platform"."IDX_invoice_line_items_invoice_id"`);
    await queryRunner.query(`DROP TABLE "invoice_line_items"`);
    await queryRunner.query(`DROP INDEX "platform"."IDX_invoices_subscription_id"`);
    await queryRunner.query(`DROP TABLE "invoices"`);
    await queryRunner.query(`DROP INDEX "platform"."UQ_subscriptions_current_per_organization"`);
    await queryRunner.query(`DROP INDEX "platform"."IDX_subscriptions_plan_id"`);
    await queryRunner.query(`DROP INDEX "platform"."IDX_subscriptions_organization_id"`);
    await queryRunner.query(`DROP TABLE "subscriptions"`);
    await queryRunner.query(`DROP TABLE "plans"`);
  }
}
