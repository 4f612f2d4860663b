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
import type { OrganizationDetails } from '../repositories/organization-details';
import { pageRequest } from './pagination';

/** What the selection under an organization asks for besides its own columns. */
export interface OrganizationSelection {
  members: boolean;
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

/**
 * Looks ahead from the field being resolved, down `path` (e.g. `['nodes']` for a connection),
 * at what the query asks of the organizations there, so that one statement can read them with
 * their members and first project page. Null when nothing beyond the organization's own
 * columns is asked, or the projects are asked with different arguments in different places
 * (the field resolvers then read them as usual).
 */
export function organizationSelection(
  info: GraphQLResolveInfo,
  path: readonly string[] = [],
): OrganizationSelection | null {
  let nodes: readonly FieldNode[] = info.fieldNodes;
  for (const step of path) nodes = childFields(info, nodes, step);
  const members = childFields(info, nodes, 'members').length > 0;
  const projectNodes = childFields(info, nodes, 'projects');
  let projects: OrganizationSelection['projects'] = null;
  const organizationType = info.schema.getType('Organization');
  const projectsField = isObjectType(organizationType) ? organizationType.getFields().projects : undefined;
  if (projectNodes.length && projectsField) {
    const asked = projectNodes.map((node) => getArgumentValues(projectsField, node, info.variableValues));
    const same = asked.every((args) => args.first === asked[0].first && args.after === asked[0].after);
    if (same) projects = { first: asked[0].first as number | null, after: asked[0].after as string | null };
  }
  return members || projects ? { members, projects } : null;
}

/**
 * The details to read with the organizations at `path`, or null for none. A projects page
 * whose arguments are invalid is left to the field, which answers the error.
 */
export function organizationDetails(
  ctx: RequestContext,
  info: GraphQLResolveInfo,
  path: readonly string[] = [],
): OrganizationDetails | null {
  if (info.operation.operation !== OperationTypeNode.QUERY) return null;
  const selection = organizationSelection(info, path);
  if (!selection) return null;
  let projectPage: OrganizationDetails['projectPage'] = null;
  if (selection.projects) {
    try {
      projectPage = pageRequest(ctx, selection.projects.first, selection.projects.after);
    } catch {
      projectPage = null;
    }
  }
  return selection.members || projectPage ? { members: selection.members, projectPage } : null;
}
