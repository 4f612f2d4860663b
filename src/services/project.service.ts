import type { OrganizationDecision, ProjectDecision } from '../auth/access';
import { seal } from '../crypto/secret-box';
import { generateProjectKeys, generateProjectRef } from '../crypto/project-keys';
import type { Organization } from '../entities/organization.entity';
import { AccessLevel } from '../entities/project-grant.entity';
import { ProjectStatus, type Project } from '../entities/project.entity';
import { ConflictError, NotFoundError } from '../errors';
import { pageRequest, toPage } from '../graphql/pagination';
import type { CreateProjectInput, UpdateProjectInput } from '../inputs/project.inputs';
import { permissionsOfAccess } from '../permissions';
import { lockOrganization } from '../repositories/organization.repository';
import { projectRepository } from '../repositories/project.repository';
import { requireViewer, type RequestContext } from '../request/context';
import { inTransaction } from '../request/transaction';
import type { Page } from '../types/connection.type';
import { assertWithinProjectLimit } from './billing-plan.service';

export class ProjectService {
  /** The project, its keys and the creator's admin grant are written in one transaction, within the plan's limit. */
  async create(ctx: RequestContext, access: OrganizationDecision, input: CreateProjectInput): Promise<Project> {
    const { userId } = requireViewer(ctx);
    const { organization } = await access.get();
    const ref = generateProjectRef();
    const keys = await generateProjectKeys(ref);
    const project = await inTransaction(ctx, async (tx) => {
      if (!(await lockOrganization(tx, organization.id))) throw new NotFoundError('Organization', organization.slug);
      const created = await projectRepository.insert(
        tx,
        {
          name: input.name.trim(),
          ref,
          region: input.region,
          organizationId: organization.id,
          status: ProjectStatus.COMING_UP,
        },
        {
          anonKey: keys.anonKey,
          serviceRoleKey: seal(ctx.config.encryptionKey, keys.serviceRoleKey),
          jwtSecret: seal(ctx.config.encryptionKey, keys.jwtSecret),
        },
        { userId, accessLevel: AccessLevel.ADMIN },
      );
      await assertWithinProjectLimit(tx, organization.id);
      return created;
    });
    ctx.provisioner.schedule(project.id, ProjectStatus.COMING_UP, ProjectStatus.ACTIVE_HEALTHY);
    return project;
  }

  async get(ctx: RequestContext, access: ProjectDecision): Promise<Project> {
    return (await access.get()).project;
  }

  /** The organization's projects that the caller can see (all of them for owners and admins). */
  async listForOrganization(
    ctx: RequestContext,
    organization: Organization,
    first?: number | null,
    after?: string | null,
  ): Promise<Page<Project>> {
    const window = pageRequest(ctx, first, after);
    const { rows, totalCount } = await ctx.loaders.projectPages.load({ ownerId: organization.id, window });
    return toPage(rows, window.limit, totalCount);
  }

  async organization(ctx: RequestContext, access: OrganizationDecision): Promise<Organization> {
    return (await access.get()).organization;
  }

  async myAccess(ctx: RequestContext, access: ProjectDecision): Promise<AccessLevel> {
    return (await access.get()).level;
  }

  async myPermissions(ctx: RequestContext, access: ProjectDecision): Promise<string[]> {
    return permissionsOfAccess((await access.get()).level);
  }

  /** One statement: the rename carries the permission check, so it is atomic and reads nothing first. */
  async update(ctx: RequestContext, access: ProjectDecision, input: UpdateProjectInput): Promise<Project> {
    const { userId } = requireViewer(ctx);
    try {
      const renamed = await projectRepository.renameAsCaller(
        ctx.db,
        { viewerId: userId, permission: access.permission },
        access.locator,
        input.name.trim(),
      );
      if (!renamed) throw await access.refusal();
      return renamed;
    } finally {
      ctx.refreshLoaders();
    }
  }

  async pause(ctx: RequestContext, access: ProjectDecision): Promise<Project> {
    return this.transition(ctx, access, ProjectStatus.ACTIVE_HEALTHY, ProjectStatus.PAUSED);
  }

  /** PAUSED -> RESTORING now, ACTIVE_HEALTHY once the provisioner has brought it back; within the plan's limit. */
  async restore(ctx: RequestContext, access: ProjectDecision): Promise<Project> {
    const project = await this.transition(ctx, access, ProjectStatus.PAUSED, ProjectStatus.RESTORING, {
      withinPlanLimit: true,
    });
    ctx.provisioner.schedule(project.id, ProjectStatus.RESTORING, ProjectStatus.ACTIVE_HEALTHY);
    return project;
  }

  /** Credentials and grants go with it. */
  async delete(ctx: RequestContext, access: ProjectDecision): Promise<boolean> {
    const { project } = await access.get();
    await inTransaction(ctx, async (tx) => {
      if (!(await lockOrganization(tx, project.organizationId))) throw new NotFoundError('Project', project.ref);
      if (!(await projectRepository.delete(tx, project.id))) throw new NotFoundError('Project', project.ref);
    });
    return true;
  }

  /** A compare-and-set on the status, so that two racing requests cannot both move it. */
  private async transition(
    ctx: RequestContext,
    access: ProjectDecision,
    from: ProjectStatus,
    to: ProjectStatus,
    options: { withinPlanLimit?: boolean } = {},
  ): Promise<Project> {
    const { project } = await access.get();
    return inTransaction(ctx, async (tx) => {
      if (options.withinPlanLimit && !(await lockOrganization(tx, project.organizationId))) {
        throw new NotFoundError('Project', project.ref);
      }
      const moved = await projectRepository.transition(tx, project.id, from, to);
      if (!moved) {
        const current = await projectRepository.byId(tx, project.id);
        if (!current) throw new NotFoundError('Project', project.ref);
        throw new ConflictError(`Project is ${current.status}; only a ${from} project can become ${to}`, 'status');
      }
      if (options.withinPlanLimit) await assertWithinProjectLimit(tx, project.organizationId);
      return moved;
    });
  }
}

export const projectService = new ProjectService();
