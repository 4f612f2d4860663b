import { projectAccess } from '../auth/access';
import type { RequestContext } from '../request/context';
import { Permission } from '../permissions';
import { generateProjectKeys } from '../crypto/project-keys';
import { open, seal } from '../crypto/secret-box';
import { inTransaction } from '../request/transaction';
import { Credential } from '../entities/credential.entity';
import { NotFoundError } from '../errors';
import { ProjectCredentials } from '../types/project-credentials.type';

type SecretColumn = 'jwtSecret' | 'serviceRoleKey';

export class CredentialService {
  credentialsOf(projectId: string): ProjectCredentials {
    return new ProjectCredentials(projectId);
  }

  async anonKey(ctx: RequestContext, credentials: ProjectCredentials): Promise<string> {
    await projectAccess(ctx, { id: credentials.projectId }, Permission.ProjectRead);
    const row = await ctx.loaders.credentialByProject.load(credentials.projectId);
    if (!row) throw new NotFoundError('Credentials');
    return row.anonKey;
  }

  /** Decrypted only here, for a caller with admin access to the project. */
  async secret(ctx: RequestContext, credentials: ProjectCredentials, column: SecretColumn): Promise<string> {
    await projectAccess(ctx, { id: credentials.projectId }, Permission.ProjectSecretsManage);
    const row = await ctx.loaders.credentialByProject.load(credentials.projectId);
    if (!row) throw new NotFoundError('Credentials');
    return open(ctx.config.encryptionKey, row[column]);
  }

  /** A new secret and both keys re-signed with it: keys signed with the old secret stop verifying. */
  async rotate(ctx: RequestContext, ref: string): Promise<ProjectCredentials> {
    const { project } = await projectAccess(ctx, { ref }, Permission.ProjectSecretsManage);
    const keys = await generateProjectKeys(project.ref);
    await inTransaction(ctx, async (tx) => {
      const result = await tx.update(
        Credential,
        { projectId: project.id },
        {
          anonKey: keys.anonKey,
          serviceRoleKey: seal(ctx.config.encryptionKey, keys.serviceRoleKey),
          jwtSecret: seal(ctx.config.encryptionKey, keys.jwtSecret),
        },
      );
      if (!result.affected) throw new NotFoundError('Credentials');
    });
    return new ProjectCredentials(project.id);
  }
}

export const credentialService = new CredentialService();
