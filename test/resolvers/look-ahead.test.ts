import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import {
  getOperationAST,
  Kind,
  parse,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLResolveInfo,
  type GraphQLSchema,
} from 'graphql';
import { organizationSelection } from '../../src/graphql/look-ahead';
import { buildApiSchema } from '../../src/schema';

/**
 * The look-ahead reads for the organizations what their selection asks; what `@skip` and
 * `@include` leave out is not asked, so it is not read.
 */
describe('look-ahead: what the selection under the organizations asks for', () => {
  let schema: GraphQLSchema;
  before(async () => {
    schema = await buildApiSchema();
  });

  /** The resolve info of the document's first root field, as graphql-js gives it. */
  function rootField(source: string, variableValues: Record<string, unknown> = {}): GraphQLResolveInfo {
    const document = parse(source);
    const operation = getOperationAST(document);
    assert.ok(operation);
    const fragments = Object.fromEntries(
      document.definitions
        .filter((definition): definition is FragmentDefinitionNode => definition.kind === Kind.FRAGMENT_DEFINITION)
        .map((fragment) => [fragment.name.value, fragment]),
    );
    const fieldNodes = [operation.selectionSet.selections[0] as FieldNode];
    return { fieldNodes, fragments, variableValues, schema, operation } as unknown as GraphQLResolveInfo;
  }

  it('members, and the projects page with its arguments, through fragments', () => {
    const selection = organizationSelection(
      rootField(
        `query ($first: Int) { organizations { nodes { ...O } } }
         fragment O on Organization { members { nodes { role } } ... on Organization { projects(first: $first) { totalCount } } }`,
        { first: 3 },
      ),
      ['nodes'],
    );
    assert.deepEqual(selection?.members, { first: undefined, after: undefined });
    assert.equal(selection?.projects?.first, 3);
  });

  it('leaves out what @skip and @include leave out, from literals and variables', () => {
    const source = `query ($withMembers: Boolean!, $skipProjects: Boolean!) { organization(slug: "s") {
      members @include(if: $withMembers) { nodes { role } }
      projects @skip(if: $skipProjects) { totalCount }
      ...Members @skip(if: true)
      ... @include(if: false) { projects(first: 1) { totalCount } }
    } }
    fragment Members on Organization { members { nodes { role } } }`;
    const without = organizationSelection(rootField(source, { withMembers: false, skipProjects: false }));
    assert.equal(without?.members, null);
    // One set of arguments: the skipped inline fragment's `projects(first: 1)` is not asked.
    assert.ok(without?.projects);
    assert.equal(without.projects.first, undefined);
    assert.equal(organizationSelection(rootField(source, { withMembers: false, skipProjects: true })), null);
    const all = organizationSelection(rootField(source, { withMembers: true, skipProjects: true }));
    assert.deepEqual([all?.members, all?.projects], [{ first: undefined, after: undefined }, null]);
  });

  it('a path under a skipped field asks for nothing', () => {
    const info = rootField('{ organizations { nodes @skip(if: true) { members { nodes { role } } } } }');
    assert.equal(organizationSelection(info, ['nodes']), null);
  });
});
