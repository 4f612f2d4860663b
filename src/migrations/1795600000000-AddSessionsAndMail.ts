import { MigrationInterface, QueryRunner } from 'typeorm';

/** Sessions with rotated refresh tokens, e-mailed single-use tokens, and the outbox of mail to send. */
export class AddSessionsAndMail1795600000000 implements MigrationInterface {
  name = 'AddSessionsAndMail1795600000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "platform"."account_tokens" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "user_id" uuid NOT NULL, "purpose" character varying(24) NOT NULL, "token_hash" character(64) NOT NULL, "email" character varying(320) NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "used_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "UQ_account_tokens_token_hash" UNIQUE ("token_hash"), CONSTRAINT "CHK_account_tokens_token_hash" CHECK (token_hash ~ '^[0-9a-f]{64}$'), CONSTRAINT "CHK_account_tokens_purpose" CHECK (purpose IN ('email_verification', 'password_reset')), CONSTRAINT "PK_account_tokens" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_account_tokens_user_id" ON "platform"."account_tokens"  ("user_id")`);
    await queryRunner.query(
      `CREATE TABLE "platform"."mail_outbox" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "kind" character varying(32) NOT NULL, "recipient" character varying(320) NOT NULL, "sealed_message" text, "attempts" integer NOT NULL DEFAULT '0', "sent_at" TIMESTAMP WITH TIME ZONE, "last_error" text, CONSTRAINT "CHK_mail_outbox_sent_dropped" CHECK (sent_at IS NULL OR sealed_message IS NULL), CONSTRAINT "PK_mail_outbox" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "platform"."sessions" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "user_id" uuid NOT NULL, "refreshed_at" TIMESTAMP WITH TIME ZONE NOT NULL, "idle_expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "user_agent" character varying(512), "ip_address" character varying(64), "revoked_at" TIMESTAMP WITH TIME ZONE, "revoked_reason" character varying(32), CONSTRAINT "CHK_sessions_revocation" CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL)), CONSTRAINT "PK_sessions" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_sessions_user_id" ON "platform"."sessions"  ("user_id")`);
    await queryRunner.query(
      `CREATE TABLE "platform"."session_refresh_tokens" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "session_id" uuid NOT NULL, "token_hash" character(64) NOT NULL, "rotated_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "UQ_session_refresh_tokens_token_hash" UNIQUE ("token_hash"), CONSTRAINT "CHK_session_refresh_tokens_token_hash" CHECK (token_hash ~ '^[0-9a-f]{64}$'), CONSTRAINT "PK_session_refresh_tokens" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_session_refresh_tokens_session_id" ON "platform"."session_refresh_tokens"  ("session_id")`,
    );
    await queryRunner.query(
      `ALTER TABLE "platform"."account_tokens" ADD CONSTRAINT "FK_account_tokens_user_id" FOREIGN KEY ("user_id") REFERENCES "platform"."users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "platform"."sessions" ADD CONSTRAINT "FK_sessions_user_id" FOREIGN KEY ("user_id") REFERENCES "platform"."users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "platform"."session_refresh_tokens" ADD CONSTRAINT "FK_session_refresh_tokens_session_id" FOREIGN KEY ("session_id") REFERENCES "platform"."sessions"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "platform"."session_refresh_tokens" DROP CONSTRAINT "FK_session_refresh_tokens_session_id"`,
    );
    await queryRunner.query(`ALTER TABLE "platform"."sessions" DROP CONSTRAINT "FK_sessions_user_id"`);
    await queryRunner.query(`ALTER TABLE "platform"."account_tokens" DROP CONSTRAINT "FK_account_tokens_user_id"`);
    await queryRunner.query(`DROP INDEX "platform"."IDX_session_refresh_tokens_session_id"`);
    await queryRunner.query(`DROP TABLE "platform"."session_refresh_tokens"`);
    await queryRunner.query(`DROP INDEX "platform"."IDX_sessions_user_id"`);
    await queryRunner.query(`DROP TABLE "platform"."sessions"`);
    await queryRunner.query(`DROP TABLE "platform"."mail_outbox"`);
    await queryRunner.query(`DROP INDEX "platform"."IDX_account_tokens_user_id"`);
    await queryRunner.query(`DROP TABLE "platform"."account_tokens"`);
  }
}
