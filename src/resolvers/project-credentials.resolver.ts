import { Authorized, Ctx, FieldResolver, Resolver } from 'type-graphql';
import type { ProjectDecision } from '../auth/access';
import { Granted } from '../auth/auth-checker';
import type { RequestContext } from '../request/context';
import { Permission } from '../permissions';
import { credentialService } from '../services/credential.service';
import { ProjectCredentials } from '../types/project-credentials.type';

@Resolver(() => ProjectCredentials)
export class ProjectCredentialsResolver {
  private readonly credentialService = credentialService;

  @Authorized(Permission.ProjectRead)
  @FieldResolver(() => String, { description: 'The public key, for clients (role "anon").' })
  anonKey(@Ctx() ctx: RequestContext, @Granted() access: ProjectDecision): Promise<string> {
    return this.credentialService.anonKey(ctx, access);
  }

  @Authorized(Permission.ProjectSecretsManage)
  @FieldResolver(() => String, { description: 'Bypasses row-level security: admin access only.' })
  serviceRoleKey(@Ctx() ctx: RequestContext, @Granted() access: ProjectDecision): Promise<string> {
    return this.credentialService.secret(ctx, access, 'serviceRoleKey');
  }

  @Authorized(Permission.ProjectSecretsManage)
  @FieldResolver(() => String, { description: 'Signs and verifies the keys: admin access only.' })
  jwtSecret(@Ctx() ctx: RequestContext, @Granted() access: ProjectDecision): Promise<string> {
    return this.credentialService.secret(ctx, access, 'jwtSecret');
  }
}
