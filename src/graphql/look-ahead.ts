import {
  getArgumentValues,
  getDirectiveValues,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  isObjectType,
  Kind,
  OperationTypeNode,
  type FieldNode,
  type GraphQLResolveInfo,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';
import type { RequestContext } from '../request/context';
import type { OrganizationDetails, PageWindow } from '../repositories/organization-details';
import { pageRequest } from './pagination';

/** What the selection under an organization asks for besides its own columns. */
export interface OrganizationSelection {
  /** The arguments of `members`, when selected (with one set of arguments). */
  members: { first?: number | null; after?: string | null } | null;
  /** The arguments of `projects`, when selected (with one set of arguments). */
  projects: { first?: number | null; after?: string | null } | null;
}

/** Whether `@skip` and `@include` leave a selection in, as execution will decide. */
function included(info: GraphQLResolveInfo, selection: SelectionNode): boolean {
  if (!selection.directives?.length) return true;
  if (getDirectiveValues(GraphQLSkipDirective, selection, info.variableValues)?.if === true) return false;
  return getDirectiveValues(GraphQLIncludeDirective, selection, info.variableValues)?.if !== false;
}

/**
 * The fields named `name` directly under `parents`, through fragments, leaving out what
 * `@skip`/`@include` leave out; aliases do not matter.
 */
function childFields(info: GraphQLResolveInfo, parents: readonly FieldNode[], name: string): FieldNode[] {
  const found: FieldNode[] = [];
  const walk = (set: SelectionSetNode | undefined) => {
    for (const selection of set?.selections ?? []) {
      if (!included(info, selection)) continue;
      if (selection.kind === Kind.FIELD) {
        if (selection.name.value === name) found.push(selection);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        walk(selection.selectionSet);
      } else {
        walk(info.fragments[selection.name.value]?.selectionSet);
      }
    }
  };
  for (const parent of parents) walk(parent.selectionSet);
  return found;
}

type PageArguments = { first?: number | null; after?: string | null };

/**
 * The arguments of the list field `name` of the organizations at `nodes`, when it is selected
 * with one set of arguments everywhere; null when it is not selected, or asked differently in
 * different places (its field resolver then reads it as usual).
 */
function listArguments(info: GraphQLResolveInfo, nodes: readonly FieldNode[], name: string): PageArguments | null {
  const fieldNodes = childFields(info, nodes, name);
  const organizationType = info.schema.getType('Organization');
  const field = isObjectType(organizationType) ? organizationType.getFields()[name] : undefined;
  if (!fieldNodes.length || !field) return null;
  const asked = fieldNodes.map((node) => getArgumentValues(field, node, info.variableValues));
  const same = asked.every((args) => args.first === asked[0].first && args.after === asked[0].after);
  return same ? { first: asked[0].first as number | null, after: asked[0].after as string | null } : null;
}

/**
 * Looks ahead from the field being resolved, down `path` (e.g. `['nodes']` for a connection),
 * at what the query asks of the organizations there, so that one statement can read them with
 * their first page of members and of projects. Null when nothing beyond the organization's own
 * columns is asked.
 */
export function organizationSelection(
  info: GraphQLResolveInfo,
  path: readonly string[] = [],
): OrganizationSelection | null {
  let nodes: readonly FieldNode[] = info.fieldNodes;
  for (const step of path) nodes = childFields(info, nodes, step);
  const members = listArguments(info, nodes, 'members');
  const projects = listArguments(info, nodes, 'projects');
  return members || projects ? { members, projects } : null;
}

/** A page window for these arguments, or null when they are invalid (the field answers that error). */
function windowOf(ctx: RequestContext, args: PageArguments | null): PageWindow | null {
  if (!args) return null;
  try {
    return pageRequest(ctx, args.first, args.after);
  } catch {
    return null;
  }
}

/** The details to read with the organizations at `path`, or null for none. */
export function organizationDetails(
  ctx: RequestContext,
  info: GraphQLResolveInfo,
  path: readonly string[] = [],
): OrganizationDetails | null {
  if (info.operation.operation !== OperationTypeNode.QUERY) return null;
  const selection = organizationSelection(info, path);
  if (!selection) return null;
  const memberPage = windowOf(ctx, selection.members);
  const projectPage = windowOf(ctx, selection.projects);
  return memberPage || projectPage ? { memberPage, projectPage } : null;
}
