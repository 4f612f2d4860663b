import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { IsNotEmpty, MaxLength } from 'class-validator';
import { OrganizationStatus, type Organization } from '../entities/organization.entity';
import type { Project } from '../entities/project.entity';
import { ProjectStatus } from '../entities/project.entity';
import { OrganizationRole } from '../entities/user-role.entity';
import { PlatformRole, type User } from '../entities/user.entity';

/**
 * The operator's view of the platform. Its fields are resolved, and guarded by the platform
 * permissions, one by one; none of them makes the caller a member of anything.
 */
@ObjectType({ description: "The operator's part of the schema: platform admins and viewers only." })
export class Platform {
  @Field(() => ID, { description: 'Always "platform": one per installation.' })
  readonly id = 'platform';
}

@ObjectType({ simpleResolvers: true, description: 'An account, as the operator sees it.' })
export class PlatformUser {
  @Field(() => ID)
  id: string;

  @Field()
  email: string;

  @Field()
  displayName: string;

  @Field()
  createdAt: Date;

  @Field(() => Date, { nullable: true })
  lastLoginAt: Date | null;

  @Field({ description: 'Nothing verifies addresses yet: false until e-mail verification lands.' })
  emailVerified: boolean;

  @Field(() => PlatformRole, { nullable: true })
  platformRole: PlatformRole | null;

  static from(user: User): PlatformUser {
    return Object.assign(new PlatformUser(), {
      id: user.id,
      email: user.email,
      displayName: user.displayName,
      createdAt: user.createdAt,
      lastLoginAt: user.lastLoginAt,
      emailVerified: user.emailVerified,
      platformRole: user.platformRole,
    });
  }
}

/** An organization with what an operator asks about it first; its members, projects and billing are resolved. */
@ObjectType({ simpleResolvers: true })
export class PlatformOrganization {
  @Field(() => ID)
  id: string;

  @Field()
  slug: string;

  @Field()
  name: string;

  @Field()
  createdAt: Date;

  @Field(() => Date, { nullable: true, description: 'Deleted, and purged after the grace period.' })
  deletedAt: Date | null;

  @Field({ description: "The current plan's code." })
  plan: string;

  @Field(() => Date, { nullable: true, description: 'Set while a complimentary plan (setOrganizationPlan) runs.' })
  complimentaryUntil: Date | null;

  @Field(() => OrganizationStatus)
  status: OrganizationStatus;

  @Field(() => Date, { nullable: true })
  suspendedAt: Date | null;

  @Field(() => String, { nullable: true })
  suspensionReason: string | null;

  @Field(() => Date, { nullable: true })
  trialEndsAt: Date | null;

  @Field(() => Int)
  memberCount: number;

  @Field(() => Int, { description: 'Projects not deleted, in any state.' })
  projectCount: number;

  static from(
    organization: Organization,
    counts: { plan: string; complimentaryUntil: Date | null; memberCount: number; projectCount: number },
  ): PlatformOrganization {
    return Object.assign(new PlatformOrganization(), {
      id: organization.id,
      slug: organization.slug,
      name: organization.name,
      createdAt: organization.createdAt,
      deletedAt: organization.deletedAt,
      status: organization.suspendedAt ? OrganizationStatus.SUSPENDED : OrganizationStatus.ACTIVE,
      suspendedAt: organization.suspendedAt,
      suspensionReason: organization.suspensionReason,
      trialEndsAt: organization.trialEndsAt,
      ...counts,
    });
  }
}

@ObjectType({ simpleResolvers: true })
export class PlatformMember {
  @Field(() => ID, { description: "The membership's id." })
  id: string;

  @Field(() => OrganizationRole)
  role: OrganizationRole;

  @Field()
  createdAt: Date;

  @Field(() => PlatformUser)
  user: PlatformUser;
}

@ObjectType({ simpleResolvers: true })
export class PlatformProject {
  @Field(() => ID)
  id: string;

  @Field()
  ref: string;

  @Field()
  name: string;

  @Field()
  region: string;

  @Field(() => ProjectStatus)
  status: ProjectStatus;

  @Field()
  createdAt: Date;

  @Field(() => Date, { nullable: true })
  deletedAt: Date | null;

  static from(project: Project): PlatformProject {
    return Object.assign(new PlatformProject(), {
      id: project.id,
      ref: project.ref,
      name: project.name,
      region: project.region,
      status: project.status,
      createdAt: project.createdAt,
      deletedAt: project.deletedAt,
    });
  }
}

/** An organization's billing as the operator sees it; its fields are resolved. */
@ObjectType()
export class PlatformBilling {
  @Field(() => ID, { description: "The organization's id." })
  readonly id: string;

  constructor(readonly organizationId: string) {
    this.id = organizationId;
  }
}

@ObjectType({ description: 'A sign-up invitation from the operator: it joins no organization.' })
export class PlatformInvitation {
  @Field(() => ID)
  id: string;

  @Field()
  email: string;

  @Field()
  expiresAt: Date;
}

@ObjectType()
export class PlatformInvitationPayload {
  @Field(() => PlatformInvitation)
  invitation: PlatformInvitation;

  /** The single-use token, shown this once: only its hash is stored. */
  @Field({ description: 'Shown this once: the invitee gives it to signUp as invitationToken.' })
  token: string;
}

@InputType()
export class SetOrganizationPlanInput {
  @Field()
  @MaxLength(48)
  slug: string;

  @Field({ description: 'The code of the plan to give, without a payment method.' })
  @IsNotEmpty()
  @MaxLength(32)
  plan: string;

  @Field({
    description:
      'Then the organization goes back to the plan it had (the free plan if that one is paid and it has no card).',
  })
  until: Date;
}
