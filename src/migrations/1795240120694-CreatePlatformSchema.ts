import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreatePlatformSchema1795240120694 implements MigrationInterface {
  name = 'CreatePlatformSchema1795240120694';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "organizations" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "name" character varying(120) NOT NULL, "slug" character varying(48) NOT NULL, "billing_email" character varying(320), CONSTRAINT "UQ_organizations_slug" UNIQUE ("slug"), CONSTRAINT "CHK_organizations_slug_format" CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND char_length(slug) BETWEEN 2 AND 48), CONSTRAINT "PK_organizations" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "projects" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "name" character varying(120) NOT NULL, "ref" character(16) NOT NULL, "organization_id" uuid NOT NULL, "region" character varying(32) NOT NULL, "status" character varying(16) NOT NULL DEFAULT 'COMING_UP', CONSTRAINT "UQ_projects_ref" UNIQUE ("ref"), CONSTRAINT "CHK_projects_status" CHECK (status IN ('COMING_UP', 'ACTIVE_HEALTHY', 'PAUSING', 'PAUSED', 'RESTORING', 'REMOVED')), CONSTRAINT "CHK_projects_ref_format" CHECK (ref ~ '^[a-z0-9]{16}$'), CONSTRAINT "PK_projects" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_projects_organization_id" ON "projects"  ("organization_id") `);
    await queryRunner.query(
      `CREATE TABLE "credentials" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "project_id" uuid NOT NULL, "anon_key" text NOT NULL, "service_role_key" text NOT NULL, "jwt_secret" text NOT NULL, CONSTRAINT "UQ_credentials_project_id" UNIQUE ("project_id"), CONSTRAINT "CHK_credentials_service_role_key_encrypted" CHECK (service_role_key LIKE 'enc:%'), CONSTRAINT "CHK_credentials_jwt_secret_encrypted" CHECK (jwt_secret LIKE 'enc:%'), CONSTRAINT "PK_credentials" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `ALTER TABLE "projects" ADD CONSTRAINT "FK_projects_organization_id" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "credentials" ADD CONSTRAINT "FK_credentials_project_id" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "credentials" DROP CONSTRAINT "FK_credentials_project_id"`);
    await queryRunner.query(`ALTER TABLE "projects" DROP CONSTRAINT "FK_projects_organization_id"`);
    await queryRunner.query(`DROP TABLE "credentials"`);
    await queryRunner.query(`DROP INDEX "platform"."IDX_projects_organization_id"`);
    await queryRunner.query(`DROP TABLE "projects"`);
    await queryRunner.query(`DROP TABLE "organizations"`);
  }
}
