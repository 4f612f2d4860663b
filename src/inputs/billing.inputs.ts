import {
  IsBoolean,
  IsEmail,
  IsNotEmpty,
  IsOptional,
  Matches,
  MaxLength,
  ValidateBy,
  ValidateNested,
} from 'class-validator';
import { Field, InputType } from 'type-graphql';

/** Names are stored trimmed: one of only spaces would be stored empty. */
const NOT_BLANK = /\S/;

/** 13 to 19 digits, spaces or dashes between them allowed: the shape of a card number. */
const CARD_NUMBER = /\d(?:[\s-]*\d){12}/;

/**
 * Card numbers never enter this API: clients send them to the payment provider, which returns a
 * token. One sent here by mistake is refused before it reaches the provider, the database or a log
 * (the message never repeats the value).
 */
function NotACardNumber(): PropertyDecorator {
  return ValidateBy({
    name: 'notACardNumber',
    validator: {
      validate: (value: unknown) => typeof value !== 'string' || !CARD_NUMBER.test(value),
      defaultMessage: () =>
        'token must be a token from the payment provider, never a card number: send card details to the provider only',
    },
  });
}

@InputType()
export class ChangePlanInput {
  @Field()
  organizationSlug: string;

  @Field({ description: 'free, pro, team or enterprise (see Query.plans).' })
  @MaxLength(32)
  planCode: string;
}

@InputType()
export class AddPaymentMethodInput {
  @Field()
  organizationSlug: string;

  @Field({ description: "The payment provider's token for the card; never the card number." })
  @NotACardNumber()
  @IsNotEmpty()
  @MaxLength(255)
  token: string;

  @Field({ defaultValue: false, description: "An organization's first payment method is its default anyway." })
  @IsBoolean()
  makeDefault: boolean;
}

@InputType()
export class BillingAddressInput {
  @Field()
  @Matches(NOT_BLANK, { message: 'line1 must not be blank' })
  @MaxLength(200)
  line1: string;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(200)
  line2?: string | null;

  @Field()
  @Matches(NOT_BLANK, { message: 'city must not be blank' })
  @MaxLength(100)
  city: string;

  @Field()
  @Matches(NOT_BLANK, { message: 'postalCode must not be blank' })
  @MaxLength(20)
  postalCode: string;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(100)
  region?: string | null;

  @Field({ description: 'ISO 3166-1 alpha-2, upper case: DE, US…' })
  @Matches(/^[A-Z]{2}$/, { message: 'country must be an ISO 3166-1 alpha-2 code such as DE or US' })
  country: string;
}

/** Absent fields stay as they are; null clears one. */
@InputType()
export class UpdateBillingDetailsInput {
  @Field()
  organizationSlug: string;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsEmail({}, { message: 'email must be a valid e-mail address' })
  @MaxLength(320)
  email?: string | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @Matches(/^\s*[A-Za-z0-9][A-Za-z0-9 ./-]*$/, {
    message: 'taxId must be letters, digits, spaces, dots, slashes and dashes',
  })
  @MaxLength(64)
  taxId?: string | null;

  @Field(() => BillingAddressInput, { nullable: true })
  @IsOptional()
  @ValidateNested()
  address?: BillingAddressInput | null;
}
