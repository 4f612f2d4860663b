import { AUDIT_ACTIONS, diff } from '../audit/actions';
import { recordAudit } from './audit.service';
import { projectEvent } from './project.service';
import type { ProjectDecision } from '../auth/access';
import { generateProjectKeys } from '../crypto/project-keys';
import { open, seal } from '../crypto/secret-box';
import { NotFoundError } from '../errors';
import { projectRepository } from '../repositories/project.repository';
import type { RequestContext } from '../request/context';
import { inTransaction } from '../request/transaction';
import { ProjectCredentials } from '../types/project-credentials.type';
import { lockLiveOrganization } from './organization-lock';

type SecretColumn = 'jwtSecret' | 'serviceRoleKey';

export class CredentialService {
  credentialsOf(projectId: string): ProjectCredentials {
    return new ProjectCredentials(projectId);
  }

  async anonKey(ctx: RequestContext, access: ProjectDecision): Promise<string> {
    const { project } = await access.get();
    const row = await ctx.loaders.credentialByProject.load(project.id);
    if (!row) throw new NotFoundError('Credentials');
    return row.anonKey;
  }

  /** Decrypted only here, for a caller whose guard decided they hold the secrets permission. */
  async secret(ctx: RequestContext, access: ProjectDecision, column: SecretColumn): Promise<string> {
    const { project } = await access.get();
    const row = await ctx.loaders.credentialByProject.load(project.id);
    if (!row) throw new NotFoundError('Credentials');
    return open(ctx.config.encryptionKey, row[column]);
  }

  /** A new secret and both keys re-signed with it: keys signed with the old secret stop verifying. */
  async rotate(ctx: RequestContext, access: ProjectDecision): Promise<ProjectCredentials> {
    const { project } = await access.get();
    const keys = await generateProjectKeys(project.ref);
    await inTransaction(ctx, async (tx) => {
      const gone = () => new NotFoundError('Project', project.ref);
      await lockLiveOrganization(tx, project.organizationId, gone, { withdraws: true });
      const replaced = await projectRepository.replaceCredentials(tx, project.id, {
        anonKey: keys.anonKey,
        serviceRoleKey: seal(ctx.config.encryptionKey, keys.serviceRoleKey),
        jwtSecret: seal(ctx.config.encryptionKey, keys.jwtSecret),
      });
      if (!replaced) throw new NotFoundError('Project', project.ref);
      await recordAudit(ctx, tx, {
        ...projectEvent(AUDIT_ACTIONS.rotateProjectJwtSecret, project),
        changes: ROTATED,
      });
    });
    return new ProjectCredentials(project.id);
  }
}

/** Every key changes; none is shown. */
const ROTATED = diff({ jwtSecret: 1, serviceRoleKey: 1, anonKey: 1 }, { jwtSecret: 2, serviceRoleKey: 2, anonKey: 2 }, [
  'jwtSecret',
  'serviceRoleKey',
  'anonKey',
]);

export const credentialService = new CredentialService();
