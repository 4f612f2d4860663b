import { GraphQLJSON } from 'graphql-scalars';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { AuditActorType } from '../audit/actions';
import type { AuditEventRow } from '../repositories/audit.repository';

registerEnumType(AuditActorType, { name: 'AuditActorType' });

@ObjectType('AuditActor', {
  simpleResolvers: true,
  description: 'Who acted; the label is a snapshot taken when it happened.',
})
export class AuditActorView {
  @Field(() => AuditActorType)
  type: AuditActorType;

  @Field(() => ID, { nullable: true })
  id: string | null;

  @Field(() => String, { nullable: true })
  label: string | null;
}

@ObjectType('AuditTarget', { simpleResolvers: true, description: 'What was changed, as it was named then.' })
export class AuditTargetView {
  @Field()
  type: string;

  @Field(() => ID, { nullable: true })
  id: string | null;

  @Field(() => String, { nullable: true })
  label: string | null;
}

@ObjectType('AuditChange', {
  simpleResolvers: true,
  description: 'A field that changed; secrets and tokens read "[redacted]".',
})
export class AuditChangeView {
  @Field()
  field: string;

  @Field(() => GraphQLJSON, { nullable: true })
  before: unknown;

  @Field(() => GraphQLJSON, { nullable: true })
  after: unknown;
}

@ObjectType('AuditEventOrganization', { simpleResolvers: true })
export class AuditEventOrganization {
  @Field(() => ID)
  id: string;

  @Field(() => String, { nullable: true, description: 'Null once the organization was purged.' })
  slug: string | null;
}

@ObjectType('AuditEvent', {
  simpleResolvers: true,
  description: 'One change, recorded in the transaction that made it.',
})
export class AuditEventView {
  @Field(() => ID)
  id: string;

  @Field()
  occurredAt: Date;

  /** The page cursor's position. */
  createdAt: Date;

  @Field(() => AuditEventOrganization, { nullable: true, description: 'Null for account and platform-level events.' })
  organization: AuditEventOrganization | null;

  @Field(() => AuditActorView)
  actor: AuditActorView;

  @Field({ description: 'A stable dotted name, such as project.create or member.role.update.' })
  action: string;

  @Field(() => AuditTargetView)
  target: AuditTargetView;

  @Field(() => String, { nullable: true })
  projectRef: string | null;

  @Field(() => [AuditChangeView])
  changes: AuditChangeView[];

  @Field(() => String, { nullable: true })
  requestId: string | null;

  @Field(() => String, { nullable: true })
  ipAddress: string | null;

  @Field(() => String, { nullable: true })
  userAgent: string | null;

  static from(row: AuditEventRow): AuditEventView {
    return Object.assign(new AuditEventView(), {
      id: row.id,
      occurredAt: row.occurredAt,
      createdAt: row.occurredAt,
      organization: row.organizationId ? { id: row.organizationId, slug: row.organizationSlug } : null,
      actor: { type: row.actorType, id: row.actorId, label: row.actorLabel },
      action: row.action,
      target: { type: row.targetType, id: row.targetId, label: row.targetLabel },
      projectRef: row.projectRef,
      changes: row.changes,
      requestId: row.requestId,
      ipAddress: row.ipAddress,
      userAgent: row.userAgent,
    });
  }
}
