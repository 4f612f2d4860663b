import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit log: one row per change, chained per organization (per account for account events,
 * one platform chain for the rest) by a trigger that takes the chain's head row and sets each
 * event's sequence number and hash, sha256(previous hash || canonical content). The canonical
 * content is a jsonb object's text, which PostgreSQL normalizes; `npm run audit:verify` rebuilds
 * it with the same expression (src/repositories/audit.repository.ts, AUDIT_CONTENT).
 */
export class AddAuditEvents1795700000000 implements MigrationInterface {
  name = 'AddAuditEvents1795700000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "platform"."audit_chains" (
        "chain_key" text NOT NULL,
        "seq" bigint NOT NULL,
        "last_hash" char(64) NOT NULL,
        "checkpoint_seq" bigint NOT NULL DEFAULT 0,
        "checkpoint_hash" char(64) NOT NULL DEFAULT repeat('0', 64),
        "checkpoint_at" timestamptz,
        CONSTRAINT "PK_audit_chains" PRIMARY KEY ("chain_key"),
        CONSTRAINT "CHK_audit_chains_checkpoint" CHECK ("checkpoint_seq" <= "seq")
      )`,
    );
    await queryRunner.query(
      `CREATE TABLE "platform"."audit_events" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "chain_key" text NOT NULL,
        "seq" bigint NOT NULL,
        "occurred_at" timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
        "organization_id" uuid,
        "account_id" uuid,
        "actor_type" varchar(20) NOT NULL,
        "actor_id" uuid,
        "actor_label" varchar(320),
        "action" varchar(100) NOT NULL,
        "target_type" varchar(40) NOT NULL,
        "target_id" varchar(100),
        "target_label" varchar(320),
        "project_ref" varchar(40),
        "changes" jsonb NOT NULL DEFAULT '[]',
        "request_id" varchar(100),
        "ip_address" varchar(100),
        "user_agent" varchar(512),
        "prev_hash" char(64) NOT NULL,
        "hash" char(64) NOT NULL,
        CONSTRAINT "PK_audit_events" PRIMARY KEY ("id"),
        CONSTRAINT "UQ_audit_events_chain_key_seq" UNIQUE ("chain_key", "seq"),
        CONSTRAINT "CHK_audit_events_actor_type" CHECK ("actor_type" IN ('USER', 'SERVICE_ACCOUNT', 'PLATFORM_ADMIN', 'SYSTEM')),
        CONSTRAINT "CHK_audit_events_changes" CHECK (jsonb_typeof("changes") = 'array')
      )`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_audit_events_organization" ON "platform"."audit_events" ("organization_id", "occurred_at" DESC, "id" DESC)`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_audit_events_organization_actor" ON "platform"."audit_events" ("organization_id", "actor_id", "occurred_at" DESC)`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_audit_events_organization_project" ON "platform"."audit_events" ("organization_id", "project_ref", "occurred_at" DESC) WHERE "project_ref" IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_audit_events_account" ON "platform"."audit_events" ("account_id", "occurred_at" DESC, "id" DESC) WHERE "account_id" IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_audit_events_occurred_at" ON "platform"."audit_events" ("occurred_at" DESC, "id" DESC)`,
    );
    await queryRunner.query(
      `CREATE FUNCTION "platform"."audit_event_content"(e "platform"."audit_events") RETURNS text
       LANGUAGE sql IMMUTABLE AS $$
         SELECT jsonb_build_object(
           'id', e.id, 'chain', e.chain_key, 'seq', e.seq,
           'occurredAt', to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
           'organizationId', e.organization_id, 'accountId', e.account_id,
           'actor', jsonb_build_array(e.actor_type, e.actor_id, e.actor_label),
           'action', e.action, 'target', jsonb_build_array(e.target_type, e.target_id, e.target_label),
           'projectRef', e.project_ref, 'changes', e.changes,
           'requestId', e.request_id, 'ipAddress', e.ip_address, 'userAgent', e.user_agent)::text
       $$`,
    );
    await queryRunner.query(
      `CREATE FUNCTION "platform"."audit_events_chain"() RETURNS trigger LANGUAGE plpgsql AS $$
       DECLARE
         head record;
       BEGIN
         NEW.chain_key := coalesce(NEW.organization_id::text, 'account:' || NEW.account_id::text, 'platform');
         INSERT INTO platform.audit_chains (chain_key, seq, last_hash) VALUES (NEW.chain_key, 0, repeat('0', 64))
           ON CONFLICT (chain_key) DO NOTHING;
         SELECT seq, last_hash INTO head FROM platform.audit_chains WHERE chain_key = NEW.chain_key FOR UPDATE;
         NEW.seq := head.seq + 1;
         NEW.prev_hash := head.last_hash;
         NEW.hash := encode(sha256(convert_to(NEW.prev_hash || platform.audit_event_content(NEW), 'UTF8')), 'hex');
         UPDATE platform.audit_chains SET seq = NEW.seq, last_hash = NEW.hash WHERE chain_key = NEW.chain_key;
         RETURN NEW;
       END
       $$`,
    );
    await queryRunner.query(
      `CREATE TRIGGER "TRG_audit_events_chain" BEFORE INSERT ON "platform"."audit_events"
       FOR EACH ROW EXECUTE FUNCTION "platform"."audit_events_chain"()`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER "TRG_audit_events_chain" ON "platform"."audit_events"`);
    await queryRunner.query(`DROP FUNCTION "platform"."audit_events_chain"()`);
    await queryRunner.query(`DROP FUNCTION "platform"."audit_event_content"("platform"."audit_events")`);
    await queryRunner.query(`DROP TABLE "platform"."audit_events"`);
    await queryRunner.query(`DROP TABLE "platform"."audit_chains"`);
  }
}
