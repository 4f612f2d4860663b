import { Kind, visit, type DocumentNode } from 'graphql';

/** Per parsed document: Apollo's document cache hands back the same object for the same query text. */
const literals = new WeakMap<DocumentNode, readonly string[]>();

/**
 * The string literals written in a document (arguments, input objects, variable defaults),
 * walked once per parsed document for everything that asks: input hygiene checks them, and
 * compiled execution leaves documents that have any to graphql-js.
 */
export function stringLiterals(document: DocumentNode): readonly string[] {
  let found = literals.get(document);
  if (!found) {
    const values: string[] = [];
    visit(document, { [Kind.STRING]: (node) => void values.push(node.value) });
    literals.set(document, (found = values));
  }
  return found;
}
