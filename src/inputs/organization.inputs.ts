import { IsEmail, IsIn, IsNotEmpty, IsOptional, IsUUID, Matches, MaxLength, MinLength } from 'class-validator';
import { Field, ID, InputType } from 'type-graphql';
import { SLUG_PATTERN } from '../entities/organization.entity';
import { OrganizationRole } from '../entities/user-role.entity';

const SLUG = new RegExp(SLUG_PATTERN);
/** Names are stored trimmed: one of only spaces would be stored empty. */
const NOT_BLANK = /\S/;
const SLUG_MESSAGE = 'slug must be 2-48 lowercase letters, digits and single hyphens, not starting or ending with one';

@InputType()
export class CreateOrganizationInput {
  @Field()
  @IsNotEmpty()
  @Matches(NOT_BLANK, { message: 'name must not be blank' })
  @MaxLength(120)
  name: string;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MinLength(2, { message: SLUG_MESSAGE })
  @MaxLength(48, { message: SLUG_MESSAGE })
  @Matches(SLUG, { message: SLUG_MESSAGE })
  slug?: string | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsEmail({}, { message: 'billingEmail must be a valid e-mail address' })
  @MaxLength(320)
  billingEmail?: string | null;
}

@InputType()
export class UpdateOrganizationInput {
  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsNotEmpty()
  @Matches(NOT_BLANK, { message: 'name must not be blank' })
  @MaxLength(120)
  name?: string | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MinLength(2, { message: SLUG_MESSAGE })
  @MaxLength(48, { message: SLUG_MESSAGE })
  @Matches(SLUG, { message: SLUG_MESSAGE })
  slug?: string | null;

  /** null clears it; absent leaves it as it is. */
  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsEmail({}, { message: 'billingEmail must be a valid e-mail address' })
  @MaxLength(320)
  billingEmail?: string | null;
}

@InputType()
export class InviteMemberInput {
  @Field()
  organizationSlug: string;

  /** Trimmed and lower-cased, then validated, by the service. */
  @Field()
  @MaxLength(320)
  email: string;

  @Field(() => OrganizationRole)
  @IsIn(Object.values(OrganizationRole))
  role: OrganizationRole;
}

@InputType()
export class UpdateMemberRoleInput {
  @Field()
  organizationSlug: string;

  @Field(() => ID)
  @IsUUID('all', { message: 'userId must be a user id' })
  userId: string;

  @Field(() => OrganizationRole)
  @IsIn(Object.values(OrganizationRole))
  role: OrganizationRole;
}
