import 'reflect-metadata';
import { PlatformDataSource } from '../ormconfig';
import { loadStorageConfig } from '../src/config';
import { PlatformRole } from '../src/entities/user.entity';
import { userRepository } from '../src/repositories/user.repository';
import { createPlatformInvitation } from '../src/services/platform-admin.service';

const USAGE = `usage: npm run platform:admin -- grant <email> [--viewer]
       npm run platform:admin -- revoke <email>
       npm run platform:admin -- list
       npm run platform:admin -- invite <email>   (a sign-up token: the first account when SIGNUP_MODE is not open)`;

type Command =
  | { name: 'grant'; email: string; role: PlatformRole }
  | { name: 'revoke' | 'invite'; email: string }
  | { name: 'list' };

/** The command line, or null when it is not one of the four forms. */
export function parseCommand(args: string[]): Command | null {
  const [name, ...rest] = args;
  const viewer = rest.includes('--viewer');
  const positional = rest.filter((arg) => arg !== '--viewer');
  const unknown = positional.some((arg) => arg.startsWith('--'));
  if (unknown) return null;
  if (name === 'list' && !rest.length) return { name };
  const email = positional.length === 1 ? positional[0].trim().toLowerCase() : '';
  if (!email) return null;
  if (name === 'grant')
    return { name, email, role: viewer ? PlatformRole.PLATFORM_VIEWER : PlatformRole.PLATFORM_ADMIN };
  if ((name === 'revoke' || name === 'invite') && !viewer) return { name, email };
  return null;
}

const LABEL: Record<PlatformRole, string> = {
  [PlatformRole.PLATFORM_ADMIN]: 'PLATFORM_ADMIN',
  [PlatformRole.PLATFORM_VIEWER]: 'PLATFORM_VIEWER',
};

async function run(db: PlatformDataSource, command: Command): Promise<number> {
  if (command.name === 'list') {
    const users = await userRepository.platformUsers(db.manager);
    for (const user of users) console.log(`${user.email}\t${user.platformRole ? LABEL[user.platformRole] : ''}`);
    console.log(`${users.length} platform user(s)`);
    return 0;
  }
  if (command.name === 'invite') {
    const { token, invitation } = await db.transaction((tx) => createPlatformInvitation(tx, command.email, null));
    console.log(`Invitation for ${invitation.email}, until ${invitation.expiresAt.toISOString()}; sign up with`);
    console.log(`  invitationToken: ${token}`);
    return 0;
  }
  const role = command.name === 'grant' ? command.role : null;
  if (!(await userRepository.setPlatformRole(db.manager, command.email, role))) {
    console.error(`No account with the e-mail ${command.email}: they sign up first`);
    return 1;
  }
  console.log(role ? `${command.email} is now ${LABEL[role]}` : `${command.email} holds no platform role now`);
  return 0;
}

/**
 * `npm run platform:admin`: the operator grants and revokes platform roles, from the command
 * line only (never through the API), on DATABASE_URL or the embedded database. Exit codes: 0 done,
 * 1 refused (no such account, migrations pending), 2 wrong arguments.
 */
async function main(): Promise<number> {
  const command = parseCommand(process.argv.slice(2));
  if (!command) {
    console.error(USAGE);
    return 2;
  }
  const db = new PlatformDataSource({
    storage: loadStorageConfig(),
    applicationName: 'platform-api-admin',
    poolSize: 1,
  });
  await db.initialize();
  try {
    if (await db.showMigrations())
      throw new Error('Migrations are pending: apply them first (npm run typeorm migration:run)');
    return await run(db, command);
  } finally {
    await db.destroy();
  }
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
