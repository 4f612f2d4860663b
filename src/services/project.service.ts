import { organizationAccess, projectAccess } from '../auth/access';
import { refreshLoaders, requireViewer, type RequestContext } from '../request/context';
import { Permission, permissionsOfAccess, seesAllProjects } from '../permissions';
import { seal } from '../crypto/secret-box';
import { generateProjectKeys, generateProjectRef } from '../crypto/project-keys';
import { projectFromRow } from '../database/project-row';
import { translateDatabaseError } from '../database/transaction';
import { inTransaction } from '../request/transaction';
import { Credential } from '../entities/credential.entity';
import type { Organization } from '../entities/organization.entity';
import { AccessLevel, ProjectGrant } from '../entities/project-grant.entity';
import { Project, ProjectStatus } from '../entities/project.entity';
import { ConflictError, NotFoundError } from '../errors';
import type { CreateProjectInput, UpdateProjectInput } from '../inputs/project.inputs';
import type { Page } from '../types/connection.type';
import { assertWithinProjectLimit } from './billing-plan.service';
import { lockOrganization } from '../repositories/organization.repository';
import { pageRequest, toPage } from '../graphql/pagination';

export class ProjectService {
  /** The project, its keys and the creator's admin grant are written in one transaction, within the plan's limit. */
  async create(ctx: RequestContext, input: CreateProjectInput): Promise<Project> {
    const { userId } = requireViewer(ctx);
    const { organization } = await organizationAccess(ctx, { slug: input.organizationSlug }, Permission.ProjectCreate);
    const ref = generateProjectRef();
    const keys = await generateProjectKeys(ref);
    const project = await inTransaction(ctx, async (tx) => {
      await lockOrganization(tx, organization.id);
      const created = await tx.save(
        tx.create(Project, {
          name: input.name.trim(),
          ref,
          region: input.region,
          organizationId: organization.id,
          status: ProjectStatus.COMING_UP,
        }),
      );
      await assertWithinProjectLimit(tx, organization.id);
      await tx.insert(Credential, {
        projectId: created.id,
        anonKey: keys.anonKey,
        serviceRoleKey: seal(ctx.config.encryptionKey, keys.serviceRoleKey),
        jwtSecret: seal(ctx.config.encryptionKey, keys.jwtSecret),
      });
      await tx.insert(ProjectGrant, { userId, projectId: created.id, accessLevel: AccessLevel.ADMIN });
      return created;
    });
    ctx.provisioner.schedule(project.id, ProjectStatus.COMING_UP, ProjectStatus.ACTIVE_HEALTHY);
    return project;
  }

  async get(ctx: RequestContext, ref: string): Promise<Project> {
    return (await projectAccess(ctx, { ref }, Permission.ProjectRead)).project;
  }

  /** The organization's projects that the caller can see (all of them for owners and admins). */
  async listForOrganization(
    ctx: RequestContext,
    organization: Organization,
    first?: number | null,
    after?: string | null,
  ): Promise<Page<Project>> {
    const { role } = await organizationAccess(ctx, { id: organization.id }, Permission.OrganizationRead);
    const page = pageRequest(ctx, first, after);
    const { rows, totalCount } = await ctx.loaders.projectPages.load({
      organizationId: organization.id,
      seesAll: seesAllProjects(role),
      limit: page.limit,
      after: page.after,
    });
    return toPage(rows, page.limit, totalCount);
  }

  async organization(ctx: RequestContext, project: Project): Promise<Organization> {
    return (await organizationAccess(ctx, { id: project.organizationId }, Permission.OrganizationRead)).organization;
  }

  async myAccess(ctx: RequestContext, project: Project): Promise<AccessLevel> {
    return (await projectAccess(ctx, { id: project.id }, Permission.ProjectRead)).level;
  }

  async myPermissions(ctx: RequestContext, project: Project): Promise<string[]> {
    return permissionsOfAccess(await this.myAccess(ctx, project));
  }

  async update(ctx: RequestContext, ref: string, input: UpdateProjectInput): Promise<Project> {
    const { project } = await projectAccess(ctx, { ref }, Permission.ProjectUpdate);
    // One statement: atomic without a transaction of its own, and it returns the row it wrote.
    try {
      const result = await ctx.db
        .createQueryBuilder()
        .update(Project)
        .set({ name: input.name.trim() })
        .where('id = :id', { id: project.id })
        .returning(['id', 'createdAt', 'updatedAt', 'name', 'ref', 'organizationId', 'region', 'status'])
        .execute();
      const [row] = result.raw as Record<string, unknown>[];
      if (!row) throw new NotFoundError('Project', ref);
      return projectFromRow(row);
    } catch (error) {
      throw translateDatabaseError(error);
    } finally {
      refreshLoaders(ctx);
    }
  }

  async pause(ctx: RequestContext, ref: string): Promise<Project> {
    return this.transition(ctx, ref, ProjectStatus.ACTIVE_HEALTHY, ProjectStatus.PAUSED);
  }

  /** PAUSED -> RESTORING now, ACTIVE_HEALTHY once the provisioner has brought it back; within the plan's limit. */
  async restore(ctx: RequestContext, ref: string): Promise<Project> {
    const project = await this.transition(ctx, ref, ProjectStatus.PAUSED, ProjectStatus.RESTORING, {
      withinPlanLimit: true,
    });
    ctx.provisioner.schedule(project.id, ProjectStatus.RESTORING, ProjectStatus.ACTIVE_HEALTHY);
    return project;
  }

  /** Credentials and grants go with it (ON DELETE CASCADE). */
  async delete(ctx: RequestContext, ref: string): Promise<boolean> {
    const { project } = await projectAccess(ctx, { ref }, Permission.ProjectDelete);
    await inTransaction(ctx, (tx) => tx.delete(Project, { id: project.id }));
    return true;
  }

  /** A compare-and-set on the status, so that two racing requests cannot both move it. */
  private async transition(
    ctx: RequestContext,
    ref: string,
    from: ProjectStatus,
    to: ProjectStatus,
    options: { withinPlanLimit?: boolean } = {},
  ): Promise<Project> {
    const { project } = await projectAccess(ctx, { ref }, Permission.ProjectUpdate);
    return inTransaction(ctx, async (tx) => {
      if (options.withinPlanLimit) await lockOrganization(tx, project.organizationId);
      const result = await tx.update(Project, { id: project.id, status: from }, { status: to });
      if (!result.affected) {
        const current = await tx.findOneBy(Project, { id: project.id });
        if (!current) throw new NotFoundError('Project', ref);
        throw new ConflictError(`Project is ${current.status}; only a ${from} project can become ${to}`, 'status');
      }
      if (options.withinPlanLimit) await assertWithinProjectLimit(tx, project.organizationId);
      return tx.findOneByOrFail(Project, { id: project.id });
    });
  }
}

export const projectService = new ProjectService();
