import { ArrayMaxSize, ArrayMinSize, IsOptional, Matches, MaxLength } from 'class-validator';
import { Field, InputType } from 'type-graphql';

const EVENT_PATTERN = /^(\*|[a-z_]+(\.[a-z_]+)*(\.\*)?)$/;
const EVENTS_MESSAGE = 'events must be audit action names or prefixes such as project.*, or *';

@InputType()
export class CreateWebhookInput {
  @Field()
  organizationSlug: string;

  @Field({ description: 'https only (http where WEBHOOK_ALLOW_HTTP=true), never a private or loopback address.' })
  @MaxLength(2048)
  url: string;

  @Field(() => [String])
  @ArrayMinSize(1, { message: 'events must name at least one action, prefix or *' })
  @ArrayMaxSize(50)
  @Matches(EVENT_PATTERN, { each: true, message: EVENTS_MESSAGE })
  @MaxLength(100, { each: true })
  events: string[];

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(500)
  description?: string | null;
}

@InputType()
export class UpdateWebhookInput {
  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(2048)
  url?: string | null;

  @Field(() => [String], { nullable: true })
  @IsOptional()
  @ArrayMinSize(1, { message: 'events must name at least one action, prefix or *' })
  @ArrayMaxSize(50)
  @Matches(EVENT_PATTERN, { each: true, message: EVENTS_MESSAGE })
  @MaxLength(100, { each: true })
  events?: string[] | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(500)
  description?: string | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'true enables it again, and starts its count of failures afresh.',
  })
  @IsOptional()
  enabled?: boolean | null;
}
