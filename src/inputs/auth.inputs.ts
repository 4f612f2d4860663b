import { IsNotEmpty, IsOptional, MaxLength, MinLength } from 'class-validator';
import { Field, InputType } from 'type-graphql';

export const PASSWORD_MIN_LENGTH = 10;

@InputType()
export class SignUpInput {
  /** Trimmed and lower-cased, then validated, by the service. */
  @Field()
  @MaxLength(320)
  email: string;

  /** At least 10 characters; at most 256, which bounds the cost of hashing it. */
  @Field()
  @MinLength(PASSWORD_MIN_LENGTH, { message: `password must be at least ${PASSWORD_MIN_LENGTH} characters long` })
  @MaxLength(256)
  password: string;

  @Field()
  @IsNotEmpty()
  @MaxLength(120)
  displayName: string;

  /**
   * An invitation's token (to an organization, or from invitePlatformUser): signing up accepts
   * it in the same transaction. Needed when SIGNUP_MODE is invite or closed.
   */
  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(200)
  invitationToken?: string | null;
}

@InputType()
export class LogInInput {
  @Field()
  @MaxLength(320)
  email: string;

  @Field()
  @MaxLength(256)
  password: string;
}

@InputType()
export class ChangePasswordInput {
  @Field()
  @MaxLength(256)
  currentPassword: string;

  @Field()
  @MinLength(PASSWORD_MIN_LENGTH, { message: `newPassword must be at least ${PASSWORD_MIN_LENGTH} characters long` })
  @MaxLength(256)
  newPassword: string;
}

@InputType()
export class ResetPasswordInput {
  /** From the link of the reset mail. */
  @Field()
  @MaxLength(200)
  token: string;

  @Field()
  @MinLength(PASSWORD_MIN_LENGTH, { message: `newPassword must be at least ${PASSWORD_MIN_LENGTH} characters long` })
  @MaxLength(256)
  newPassword: string;
}
