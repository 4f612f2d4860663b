import { IsIn, IsNotEmpty, IsOptional, IsUUID, Matches, MaxLength } from 'class-validator';
import { Field, ID, InputType } from 'type-graphql';
import { AccessLevel } from '../entities/project-grant.entity';

/** Names are stored trimmed: one of only spaces would be stored empty. */
const NOT_BLANK = /\S/;

/** Regions a project can be placed in. */
export const REGIONS = [
  'us-east-1',
  'us-west-1',
  'eu-central-1',
  'eu-west-1',
  'ap-southeast-1',
  'ap-northeast-1',
  'sa-east-1',
] as const;

@InputType()
export class CreateProjectInput {
  @Field()
  organizationSlug: string;

  @Field()
  @IsNotEmpty()
  @Matches(NOT_BLANK, { message: 'name must not be blank' })
  @MaxLength(120)
  name: string;

  @Field()
  @IsIn(REGIONS, { message: `region must be one of: ${REGIONS.join(', ')}` })
  region: string;
}

@InputType()
export class UpdateProjectInput {
  @Field()
  @IsNotEmpty()
  @Matches(NOT_BLANK, { message: 'name must not be blank' })
  @MaxLength(120)
  name: string;
}

@InputType()
export class GrantProjectPermissionInput {
  @Field()
  projectRef: string;

  /** The member to grant: this or serviceAccountId. */
  @Field(() => ID, { nullable: true })
  @IsOptional()
  @IsUUID('all', { message: 'userId must be a user id' })
  userId?: string | null;

  /** The service account to grant: this or userId. */
  @Field(() => ID, { nullable: true })
  @IsOptional()
  @IsUUID('all', { message: 'serviceAccountId must be a service account id' })
  serviceAccountId?: string | null;

  @Field(() => AccessLevel)
  @IsIn(Object.values(AccessLevel))
  accessLevel: AccessLevel;
}
