import { MigrationInterface, QueryRunner } from 'typeorm';

export class AddUsersRolesPermissions1795240145301 implements MigrationInterface {
  name = 'AddUsersRolesPermissions1795240145301';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "users" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "email" character varying(320) NOT NULL, "hashed_password" text NOT NULL, "display_name" character varying(120) NOT NULL, "last_login_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "UQ_users_email" UNIQUE ("email"), CONSTRAINT "CHK_users_email_normalized" CHECK (email = lower(btrim(email))), CONSTRAINT "PK_users" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "permissions" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "user_id" uuid NOT NULL, "project_id" uuid NOT NULL, "access_level" character varying(16) NOT NULL, CONSTRAINT "UQ_permissions_user_id_project_id" UNIQUE ("user_id", "project_id"), CONSTRAINT "CHK_permissions_access_level" CHECK (access_level IN ('read', 'write', 'admin')), CONSTRAINT "PK_permissions" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_permissions_project_id" ON "permissions"  ("project_id") `);
    await queryRunner.query(
      `CREATE TABLE "user_roles" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "user_id" uuid NOT NULL, "organization_id" uuid NOT NULL, "role" character varying(16) NOT NULL, CONSTRAINT "UQ_user_roles_user_id_organization_id" UNIQUE ("user_id", "organization_id"), CONSTRAINT "CHK_user_roles_role" CHECK (role IN ('owner', 'admin', 'member', 'viewer')), CONSTRAINT "PK_user_roles" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_user_roles_organization_id" ON "user_roles"  ("organization_id") `);
    await queryRunner.query(
      `ALTER TABLE "permissions" ADD CONSTRAINT "FK_permissions_user_id" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "permissions" ADD CONSTRAINT "FK_permissions_project_id" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "user_roles" ADD CONSTRAINT "FK_user_roles_user_id" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "user_roles" ADD CONSTRAINT "FK_user_roles_organization_id" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "user_roles" DROP CONSTRAINT "FK_user_roles_organization_id"`);
    await queryRunner.query(`ALTER TABLE "user_roles" DROP CONSTRAINT "FK_user_roles_user_id"`);
    await queryRunner.query(`ALTER TABLE "permissions" DROP CONSTRAINT "FK_permissions_project_id"`);
    await queryRunner.query(`ALTER TABLE "permissions" DROP CONSTRAINT "FK_permissions_user_id"`);
    await queryRunner.query(`DROP INDEX "platform"."IDX_user_roles_organization_id"`);
    await queryRunner.query(`DROP TABLE "user_roles"`);
    await queryRunner.query(`DROP INDEX "platform"."IDX_permissions_project_id"`);
    await queryRunner.query(`DROP TABLE "permissions"`);
    await queryRunner.query(`DROP TABLE "users"`);
  }
}
