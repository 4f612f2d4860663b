import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Webhooks of an organization (the secret sealed: it signs every delivery, so it cannot be
 * hashed) and their deliveries, one per audit event that matches an enabled webhook, written by
 * the statement that writes the event.
 */
export class AddWebhooks1795700000001 implements MigrationInterface {
  name = 'AddWebhooks1795700000001';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "platform"."webhooks" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        "organization_id" uuid NOT NULL,
        "url" varchar(2048) NOT NULL,
        "events" text[] NOT NULL,
        "description" varchar(500),
        "secret" text NOT NULL,
        "enabled" boolean NOT NULL DEFAULT true,
        "consecutive_failures" integer NOT NULL DEFAULT 0,
        "disabled_at" timestamptz,
        CONSTRAINT "PK_webhooks" PRIMARY KEY ("id"),
        CONSTRAINT "CHK_webhooks_events" CHECK (cardinality("events") BETWEEN 1 AND 50),
        CONSTRAINT "FK_webhooks_organization_id" FOREIGN KEY ("organization_id")
          REFERENCES "platform"."organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_webhooks_organization_id" ON "platform"."webhooks" ("organization_id", "created_at", "id")`,
    );
    await queryRunner.query(
      `CREATE TABLE "platform"."webhook_deliveries" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        "webhook_id" uuid NOT NULL,
        "event_id" uuid NOT NULL,
        "action" varchar(100) NOT NULL,
        "status" varchar(20) NOT NULL DEFAULT 'PENDING',
        "attempts" integer NOT NULL DEFAULT 0,
        "last_response_status" integer,
        "last_error" varchar(500),
        "next_attempt_at" timestamptz DEFAULT now(),
        "delivered_at" timestamptz,
        CONSTRAINT "PK_webhook_deliveries" PRIMARY KEY ("id"),
        CONSTRAINT "CHK_webhook_deliveries_status" CHECK ("status" IN ('PENDING', 'DELIVERED', 'FAILED')),
        CONSTRAINT "FK_webhook_deliveries_webhook_id" FOREIGN KEY ("webhook_id")
          REFERENCES "platform"."webhooks"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_webhook_deliveries_webhook_id" ON "platform"."webhook_deliveries" ("webhook_id", "created_at" DESC, "id" DESC)`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_webhook_deliveries_pending" ON "platform"."webhook_deliveries" ("next_attempt_at") WHERE "status" = 'PENDING'`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "platform"."webhook_deliveries"`);
    await queryRunner.query(`DROP TABLE "platform"."webhooks"`);
  }
}
