import { Arg, Args, Authorized, Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { OrganizationDecision, PlatformDecision } from '../auth/access';
import { Granted } from '../auth/auth-checker';
import { Organization } from '../entities/organization.entity';
import { User } from '../entities/user.entity';
import { AuditEventFilter } from '../inputs/audit.inputs';
import { Permission } from '../permissions';
import type { RequestContext } from '../request/context';
import { auditService } from '../services/audit.service';
import { AuditEventView } from '../types/audit.types';
import { Connection, type Page } from '../types/connection.type';
import { Platform } from '../types/platform.types';
import { PageArgs } from './organization.resolver';

export const AuditEventConnection = Connection(AuditEventView, 'AuditEvent');

const NEWEST_FIRST = 'Newest first.';

@Resolver(() => Organization)
export class OrganizationAuditResolver {
  private readonly auditService = auditService;

  @Authorized(Permission.AuditRead)
  @FieldResolver(() => AuditEventConnection, { description: `The organization's audit log. ${NEWEST_FIRST}` })
  auditEvents(
    @Ctx() ctx: RequestContext,
    @Granted() access: OrganizationDecision,
    @Args(() => PageArgs) page: PageArgs,
    @Arg('filter', () => AuditEventFilter, { nullable: true }) filter: AuditEventFilter | null,
  ): Promise<Page<AuditEventView>> {
    return this.auditService.organizationEvents(ctx, access, filter, page.first, page.after);
  }
}

@Resolver(() => User)
export class UserAuditResolver {
  private readonly auditService = auditService;

  @Authorized()
  @FieldResolver(() => AuditEventConnection, {
    description: `The user's own account events (sign-up, log-ins, tokens), for that user alone. ${NEWEST_FIRST}`,
  })
  auditEvents(
    @Ctx() ctx: RequestContext,
    @Root() user: User,
    @Args(() => PageArgs) page: PageArgs,
    @Arg('filter', () => AuditEventFilter, { nullable: true }) filter: AuditEventFilter | null,
  ): Promise<Page<AuditEventView>> {
    return this.auditService.accountEvents(ctx, user, filter, page.first, page.after);
  }
}

@Resolver(() => Platform)
export class PlatformAuditResolver {
  private readonly auditService = auditService;

  @Authorized(Permission.PlatformRead)
  @FieldResolver(() => AuditEventConnection, { description: `Every audit event, of every chain. ${NEWEST_FIRST}` })
  auditEvents(
    @Ctx() ctx: RequestContext,
    @Granted() access: PlatformDecision,
    @Args(() => PageArgs) page: PageArgs,
    @Arg('filter', () => AuditEventFilter, { nullable: true }) filter: AuditEventFilter | null,
  ): Promise<Page<AuditEventView>> {
    return this.auditService.platformEvents(ctx, access, filter, page.first, page.after);
  }
}
