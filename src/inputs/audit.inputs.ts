import { ArrayMaxSize, IsOptional, IsUUID, Matches, MaxLength } from 'class-validator';
import { Field, ID, InputType } from 'type-graphql';

const ACTION_PATTERN = /^(\*|[a-z_]+(\.[a-z_]+)*(\.\*)?)$/;

@InputType({ description: 'Events matching all that is given.' })
export class AuditEventFilter {
  @Field(() => [String], { nullable: true, description: 'Action names, or prefixes such as project.*' })
  @IsOptional()
  @ArrayMaxSize(50)
  @Matches(ACTION_PATTERN, { each: true, message: 'actions must be action names or prefixes such as project.*' })
  @MaxLength(100, { each: true })
  actions?: string[] | null;

  @Field(() => ID, { nullable: true })
  @IsOptional()
  @IsUUID('all', { message: 'actorId must be a UUID' })
  actorId?: string | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(40)
  projectRef?: string | null;

  @Field(() => Date, { nullable: true, description: 'Events at or after this instant.' })
  @IsOptional()
  since?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Events before this instant.' })
  @IsOptional()
  until?: Date | null;
}
