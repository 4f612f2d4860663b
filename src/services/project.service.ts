import type { OrganizationDecision, ProjectDecision } from '../auth/access';
import { seal } from '../crypto/secret-box';
import { generateProjectKeys, generateProjectRef } from '../crypto/project-keys';
import type { Organization } from '../entities/organization.entity';
import { AccessLevel } from '../entities/project-grant.entity';
import { ProjectStatus, type Project } from '../entities/project.entity';
import { JOB, STEP_OUT_OF, type ProvisionStep } from '../request/jobs';
import { ConflictError, NotFoundError } from '../errors';
import { pageRequest, toPage } from '../graphql/pagination';
import type { CreateProjectInput, UpdateProjectInput } from '../inputs/project.inputs';
import { permissionsOfAccess, PrincipalKind } from '../permissions';
import { graceStart } from './deletion-grace';
import { lockLiveOrganization } from './organization-lock';
import { projectRepository } from '../repositories/project.repository';
import type { EntityManager } from 'typeorm';
import { requireViewer, type RequestContext } from '../request/context';
import { announceWrite, inTransaction } from '../request/transaction';
import type { Page } from '../types/connection.type';
import { assertWithinProjectLimit } from './billing-plan.service';
import { AUDIT_ACTIONS, diff, type AuditAction } from '../audit/actions';
import { auditRecordOf, enqueueDeliveries, recordAudit } from './audit.service';

export class ProjectService {
  /** The project, its keys and the creator's admin grant are written in one transaction, within the plan's limit. */
  async create(ctx: RequestContext, access: OrganizationDecision, input: CreateProjectInput): Promise<Project> {
    const { principal } = requireViewer(ctx);
    const { organization } = await access.get();
    const ref = generateProjectRef();
    const keys = await generateProjectKeys(ref);
    const project = await inTransaction(ctx, async (tx) => {
      await lockLiveOrganization(tx, organization.id, () => new NotFoundError('Organization', organization.slug));
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
        // The creator keeps admin on what it made, a service account as much as a user.
        {
          userId: principal.kind === PrincipalKind.USER ? principal.id : null,
          serviceAccountId: principal.kind === PrincipalKind.SERVICE_ACCOUNT ? principal.id : null,
          accessLevel: AccessLevel.ADMIN,
        },
      );
      await assertWithinProjectLimit(ctx, tx, organization.id);
      await enqueueStep(ctx, tx, created.id, 'init');
      await recordAudit(ctx, tx, {
        ...projectEvent(AUDIT_ACTIONS.createProject, created),
        changes: diff(null, { name: created.name, region: created.region, status: created.status }),
      });
      return created;
    });
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
    const { level, authentication } = await access.get();
    return permissionsOfAccess(level, authentication);
  }

  /** One statement: the rename carries the permission check and writes its audit event, so it is atomic and reads nothing first. */
  async update(ctx: RequestContext, access: ProjectDecision, input: UpdateProjectInput): Promise<Project> {
    const { principal } = requireViewer(ctx);
    try {
      const renamed = await projectRepository.renameAsCaller(
        ctx.db,
        { viewer: principal, permission: access.permission },
        access.locator,
        input.name.trim(),
        // The statement fills in the project (organization, id, ref, name before and after).
        auditRecordOf(ctx, { action: AUDIT_ACTIONS.updateProject, organizationId: null, target: PROJECT_TARGET }),
      );
      if (!renamed) throw await access.refusal();
      await announceWrite(ctx);
      // Only for an organization with a webhook for it: its deliveries' jobs (the rename itself committed).
      if (renamed.deliveries.length) await inTransaction(ctx, (tx) => enqueueDeliveries(ctx, tx, renamed.deliveries));
      return renamed.project;
    } finally {
      ctx.refreshLoaders();
    }
  }

  /** ACTIVE_HEALTHY (or a pause that failed) -> PAUSING now, PAUSED once the provisioner has paused it. */
  async pause(ctx: RequestContext, access: ProjectDecision): Promise<Project> {
    return this.transition(ctx, access, PAUSABLE, ProjectStatus.PAUSING, {
      step: 'pause',
      action: AUDIT_ACTIONS.pauseProject,
    });
  }

  /**
   * PAUSED (or a restore that failed) -> RESTORING now, ACTIVE_HEALTHY once the provisioner has
   * brought it back; a start that failed (INIT_FAILED) is retried the same way, as COMING_UP.
   * Within the plan's limit.
   */
  async restore(ctx: RequestContext, access: ProjectDecision): Promise<Project> {
    const { project } = await access.get();
    if (project.status === ProjectStatus.INIT_FAILED) {
      return this.transition(ctx, access, [ProjectStatus.INIT_FAILED], ProjectStatus.COMING_UP, {
        step: 'init',
        action: AUDIT_ACTIONS.restoreProject,
      });
    }
    return this.transition(ctx, access, RESTORABLE, ProjectStatus.RESTORING, {
      step: 'restore',
      withinPlanLimit: true,
      action: AUDIT_ACTIONS.restoreProject,
    });
  }

  /** Marks it deleted (GOING_DOWN): hidden from all but the organization's owners, and purged after the grace period. */
  async delete(ctx: RequestContext, access: ProjectDecision): Promise<boolean> {
    const { project } = await access.get();
    await inTransaction(ctx, async (tx) => {
      await lockLiveOrganization(tx, project.organizationId, () => new NotFoundError('Project', project.ref));
      const deleted = await projectRepository.markDeleted(tx, project.id);
      if (!deleted) throw new NotFoundError('Project', project.ref);
      await recordAudit(ctx, tx, {
        ...projectEvent(AUDIT_ACTIONS.deleteProject, deleted),
        changes: diff({ status: project.status }, { status: deleted.status }),
      });
    });
    return true;
  }

  /** Back from deletion during the grace period, to the status it had, within the plan's limit. */
  async undelete(ctx: RequestContext, access: ProjectDecision): Promise<Project> {
    const { project } = await access.get();
    return inTransaction(ctx, async (tx) => {
      await lockLiveOrganization(tx, project.organizationId, () => new NotFoundError('Project', project.ref));
      const restored = await projectRepository.undelete(tx, project.id, graceStart(ctx));
      if (!restored)
        throw new ConflictError(`Project ${project.ref} is not deleted, or its grace period is over`, 'ref');
      await assertWithinProjectLimit(ctx, tx, project.organizationId);
      // Deleted mid-step: the step it was waiting for runs again.
      const step = STEP_OUT_OF[restored.status];
      if (step) await enqueueStep(ctx, tx, restored.id, step);
      await recordAudit(ctx, tx, {
        ...projectEvent(AUDIT_ACTIONS.undeleteProject, restored),
        changes: diff({ status: project.status }, { status: restored.status }),
      });
      return restored;
    });
  }

  /** The organization's deleted projects, for its owners, until they are purged. */
  async deletedOf(
    ctx: RequestContext,
    access: OrganizationDecision,
    first?: number | null,
    after?: string | null,
  ): Promise<Page<Project>> {
    const { organization } = await access.get();
    const window = pageRequest(ctx, first, after);
    const { rows, totalCount } = await projectRepository.deletedOf(ctx.db, organization.id, window);
    return toPage(rows, window.limit, totalCount);
  }

  /** A compare-and-set on the status, so that two racing requests cannot both move it; its step is enqueued with it. */
  private async transition(
    ctx: RequestContext,
    access: ProjectDecision,
    from: readonly ProjectStatus[],
    to: ProjectStatus,
    options: { step: ProvisionStep; withinPlanLimit?: boolean; action: AuditAction },
  ): Promise<Project> {
    const { project } = await access.get();
    return inTransaction(ctx, async (tx) => {
      await lockLiveOrganization(tx, project.organizationId, () => new NotFoundError('Project', project.ref));
      const moved = await projectRepository.transition(tx, project.id, from, to);
      if (!moved) {
        const current = await projectRepository.byId(tx, project.id);
        if (!current || current.deletedAt) throw new NotFoundError('Project', project.ref);
        throw new ConflictError(`Project is ${current.status}; only ${from.join(' or ')} can become ${to}`, 'status');
      }
      if (options.withinPlanLimit) await assertWithinProjectLimit(ctx, tx, project.organizationId);
      await enqueueStep(ctx, tx, project.id, options.step);
      const changes = [{ field: 'status', before: from.length === 1 ? from[0] : project.status, after: to }];
      await recordAudit(ctx, tx, { ...projectEvent(options.action, moved), changes });
      return moved;
    });
  }
}

const PAUSABLE = [ProjectStatus.ACTIVE_HEALTHY, ProjectStatus.PAUSE_FAILED];
const RESTORABLE = [ProjectStatus.PAUSED, ProjectStatus.RESTORE_FAILED];

/** A lifecycle step, enqueued in the transaction that moved the project into its transitional state. */
async function enqueueStep(ctx: RequestContext, tx: EntityManager, projectId: string, step: ProvisionStep) {
  const data = { projectId, step, requestId: ctx.scope.requestId };
  await ctx.jobs.enqueue(tx, JOB.projectStep, data, { singletonKey: projectId });
  ctx.afterCommit(() => ctx.jobs.nudge(JOB.projectStep));
}

const PROJECT_TARGET = { type: 'project', id: null };

/** A project's event: in its organization, about it. */
export function projectEvent(action: AuditAction, project: Project) {
  return {
    action,
    organizationId: project.organizationId,
    target: { type: 'project', id: project.id, label: project.name },
    projectRef: project.ref,
  };
}

export const projectService = new ProjectService();
