import { getMetadataStorage, validateOrReject, type ValidatorOptions } from 'class-validator';
import { ArgumentValidationError } from 'type-graphql';

/** type-graphql's own defaults for class-validator, which the schema keeps. */
const OPTIONS: ValidatorOptions = { skipMissingProperties: true, forbidUnknownValues: false };

/** Whether a class declares any class-validator rule (its own or inherited); asked once per class. */
const declaresRules = new WeakMap<object, boolean>();

function hasRules(value: object): boolean {
  const type = value.constructor;
  let rules = declaresRules.get(type);
  if (rules === undefined) {
    rules = getMetadataStorage().getTargetValidationMetadatas(type, '', true, false).length > 0;
    declaresRules.set(type, rules);
  }
  return rules;
}

const isObject = (value: unknown): value is object => value !== null && typeof value === 'object';

/**
 * Validates an argument as type-graphql does (input classes by their class-validator rules, an
 * array item by item, failures as ArgumentValidationError), with class-validator imported once:
 * type-graphql's own validation requires it anew for every argument it checks, and asks
 * class-validator for the rules of classes that declare none (page arguments).
 */
export async function validateArgument(value: unknown): Promise<void> {
  if (!isObject(value)) return;
  const items = (Array.isArray(value) ? (value as unknown[]) : [value]).filter(isObject).filter(hasRules);
  if (!items.length) return;
  try {
    await Promise.all(items.map((item) => validateOrReject(item, OPTIONS)));
  } catch (error) {
    throw new ArgumentValidationError(error as never);
  }
}
