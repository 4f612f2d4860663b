import { IsIn, IsNotEmpty, IsOptional, IsUUID, Matches, MaxLength } from 'class-validator';
import { Field, ID, InputType } from 'type-graphql';
import { SERVICE_ACCOUNT_ROLES } from '../entities/service-account.entity';
import { OrganizationRole } from '../entities/user-role.entity';

/** Names are stored trimmed: one of only spaces would be stored empty. */
const NOT_BLANK = /\S/;
const ROLE_MESSAGE = 'role must be ADMIN, MEMBER or VIEWER: a service account is never an owner';

@InputType()
export class CreateServiceAccountInput {
  @Field()
  organizationSlug: string;

  @Field()
  @IsNotEmpty()
  @Matches(NOT_BLANK, { message: 'name must not be blank' })
  @MaxLength(120)
  name: string;

  @Field(() => OrganizationRole)
  @IsIn(SERVICE_ACCOUNT_ROLES, { message: ROLE_MESSAGE })
  role: OrganizationRole;
}

@InputType()
export class UpdateServiceAccountInput {
  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsNotEmpty()
  @Matches(NOT_BLANK, { message: 'name must not be blank' })
  @MaxLength(120)
  name?: string | null;

  @Field(() => OrganizationRole, { nullable: true })
  @IsOptional()
  @IsIn(SERVICE_ACCOUNT_ROLES, { message: ROLE_MESSAGE })
  role?: OrganizationRole | null;
}

@InputType()
export class CreateApiKeyInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'serviceAccountId must be a service account id' })
  serviceAccountId: string;

  @Field()
  @IsNotEmpty()
  @Matches(NOT_BLANK, { message: 'name must not be blank' })
  @MaxLength(120)
  name: string;

  @Field(() => Date, { nullable: true, description: 'Absent or null: the key never expires (it can be revoked).' })
  @IsOptional()
  expiresAt?: Date | null;
}

@InputType()
export class CreatePersonalAccessTokenInput {
  @Field()
  @IsNotEmpty()
  @Matches(NOT_BLANK, { message: 'name must not be blank' })
  @MaxLength(120)
  name: string;

  @Field(() => Date, { nullable: true, description: 'Absent or null: the token never expires (it can be revoked).' })
  @IsOptional()
  expiresAt?: Date | null;
}
