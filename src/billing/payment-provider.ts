import { randomBytes } from 'node:crypto';
import { BadUserInputError } from '../errors';

/** What the provider keeps of a card; this API stores these and the reference, never the number. */
export interface AttachedCard {
  providerRef: string;
  brand: string;
  last4: string;
  expMonth: number;
  expYear: number;
}

export type ChargeOutcome = { status: 'succeeded'; chargeRef: string } | { status: 'declined'; reason: string };

export interface ChargeRequest {
  customerRef: string;
  paymentMethodRef: string;
  amountCents: number;
  currency: string;
  /** The invoice id: a retried charge of one invoice must not charge twice. */
  idempotencyKey: string;
  description: string;
}

/**
 * The payment provider, as this API needs it. Card details go from the client to the provider,
 * which hands back a single-use token; only the token ever reaches this API.
 */
export interface PaymentProvider {
  /** Stored with each payment method. */
  readonly name: string;
  /** Attaches the card behind `token` to the customer (a new customer when `customerRef` is null). */
  attachPaymentMethod(request: {
    customerRef: string | null;
    token: string;
  }): Promise<{ customerRef: string; card: AttachedCard }>;
  charge(request: ChargeRequest): Promise<ChargeOutcome>;
}

interface TestCard {
  brand: string;
  last4: string;
  declines: boolean;
}

/** The test tokens the built-in provider understands. */
export const TEST_TOKENS: Readonly<Record<string, TestCard>> = {
  tok_visa: { brand: 'visa', last4: '4242', declines: false },
  tok_mastercard: { brand: 'mastercard', last4: '4444', declines: false },
  tok_amex: { brand: 'amex', last4: '8431', declines: false },
  tok_chargeDeclined: { brand: 'visa', last4: '0002', declines: true },
};

const DECLINING_REF_PREFIX = 'pm_declines_';

/**
 * The default provider: it moves no money. It accepts the test tokens above, keeps nothing in
 * memory (the card's behaviour is carried by its reference, so that the period-closing job, a
 * separate process, charges it the same way) and declines charges on tok_chargeDeclined cards.
 */
export class BuiltInPaymentProvider implements PaymentProvider {
  readonly name = 'builtin';

  attachPaymentMethod(request: { customerRef: string | null; token: string }) {
    const card = Object.hasOwn(TEST_TOKENS, request.token) ? TEST_TOKENS[request.token] : undefined;
    if (!card) {
      return Promise.reject(
        BadUserInputError.field(
          'token',
          `token is not a payment token: use one of ${Object.keys(TEST_TOKENS).join(', ')}`,
        ),
      );
    }
    const id = randomBytes(12).toString('hex');
    return Promise.resolve({
      customerRef: request.customerRef ?? `cus_${randomBytes(12).toString('hex')}`,
      card: {
        providerRef: card.declines ? `${DECLINING_REF_PREFIX}${id}` : `pm_${id}`,
        brand: card.brand,
        last4: card.last4,
        expMonth: 12,
        expYear: new Date().getUTCFullYear() + 3,
      },
    });
  }

  charge(request: ChargeRequest): Promise<ChargeOutcome> {
    if (request.paymentMethodRef.startsWith(DECLINING_REF_PREFIX)) {
      return Promise.resolve({ status: 'declined', reason: 'Your card was declined.' });
    }
    return Promise.resolve({ status: 'succeeded', chargeRef: `ch_${request.idempotencyKey}` });
  }
}

export const paymentProvider: PaymentProvider = new BuiltInPaymentProvider();
