import 'reflect-metadata';
import { PlatformDataSource } from '../ormconfig';
import { hashPassword } from '../src/auth/passwords';
import { loadConfig } from '../src/config';
import { generateProjectKeys, generateProjectRef } from '../src/crypto/project-keys';
import { seal } from '../src/crypto/secret-box';
import { Credential } from '../src/entities/credential.entity';
import { Organization } from '../src/entities/organization.entity';
import { AccessLevel, ProjectGrant } from '../src/entities/project-grant.entity';
import { Project, ProjectStatus } from '../src/entities/project.entity';
import { OrganizationRole, UserRole } from '../src/entities/user-role.entity';
import { User } from '../src/entities/user.entity';
import { startFreeSubscription } from '../src/services/billing-plan.service';

export const DEMO_OWNER = { email: 'owner@lancio.dev', password: 'lancio-demo-password', displayName: 'Lancio Owner' };
const DEMO_ORGANIZATION = { slug: 'lancio', name: 'Lancio' };
const DEMO_PROJECTS = [
  { name: 'Lancio Production', region: 'eu-central-1' },
  { name: 'Lancio Staging', region: 'eu-west-1' },
];

/**
 * `npm run seed`: a demo organization "lancio" with an owner and two projects, for local use.
 * Idempotent: what exists is left alone, so running it twice changes nothing.
 */
async function seed(): Promise<void> {
  const config = loadConfig();
  if (config.nodeEnv === 'production') throw new Error('The demo seed is for development databases only');
  const db = new PlatformDataSource({ storage: config, applicationName: 'platform-api-seed', forMigrations: true });
  await db.initialize();
  try {
    await db.runMigrations({ transaction: 'each' });
    const created = await db.transaction(async (tx) => {
      // One seed at a time: concurrent runs would otherwise race on the demo rows.
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext('platform-api:seed'))`);
      const made: string[] = [];
      let owner = await tx.findOneBy(User, { email: DEMO_OWNER.email });
      if (!owner) {
        owner = await tx.save(
          tx.create(User, {
            email: DEMO_OWNER.email,
            displayName: DEMO_OWNER.displayName,
            hashedPassword: await hashPassword(DEMO_OWNER.password),
          }),
        );
        made.push(`user ${owner.email}`);
      }
      let organization = await tx.findOneBy(Organization, { slug: DEMO_ORGANIZATION.slug });
      if (!organization) {
        organization = await tx.save(tx.create(Organization, DEMO_ORGANIZATION));
        await startFreeSubscription(tx, organization.id, new Date());
        made.push(`organization ${organization.slug}`);
      }
      await tx
        .createQueryBuilder()
        .insert()
        .into(UserRole)
        .values({ userId: owner.id, organizationId: organization.id, role: OrganizationRole.OWNER })
        .orIgnore()
        .execute();
      for (const spec of DEMO_PROJECTS) {
        if (await tx.existsBy(Project, { organizationId: organization.id, name: spec.name })) continue;
        const ref = generateProjectRef();
        const keys = await generateProjectKeys(ref);
        const project = await tx.save(
          tx.create(Project, { ...spec, ref, organizationId: organization.id, status: ProjectStatus.ACTIVE_HEALTHY }),
        );
        await tx.insert(Credential, {
          projectId: project.id,
          anonKey: keys.anonKey,
          serviceRoleKey: seal(config.encryptionKey, keys.serviceRoleKey),
          jwtSecret: seal(config.encryptionKey, keys.jwtSecret),
        });
        await tx.insert(ProjectGrant, { userId: owner.id, projectId: project.id, accessLevel: AccessLevel.ADMIN });
        made.push(`project ${project.name} (${ref})`);
      }
      return made;
    });
    console.log(created.length ? `Seeded: ${created.join(', ')}` : 'Seed data already present: nothing to do');
    console.log(`Log in as ${DEMO_OWNER.email} / ${DEMO_OWNER.password}`);
  } finally {
    await db.destroy();
  }
}

seed().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
