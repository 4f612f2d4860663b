import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** A room of `src/`: its top-level folder, or the file itself for a file at the top. */
function roomOf(srcDir: string, file: string): string {
  const [first] = path.relative(srcDir, file).split(path.sep);
  return first.replace(/\.[cm]?[jt]s$/, '');
}

function isModuleName(node: ts.Node | undefined): node is ts.StringLiteralLike {
  return node !== undefined && ts.isStringLiteralLike(node);
}

/** The module a node names, if it is an import of any kind: static, type-only, re-export, dynamic or `require`. */
function moduleNameOf(node: ts.Node): string | undefined {
  if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && isModuleName(node.moduleSpecifier)) {
    return node.moduleSpecifier.text;
  }
  if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
    const name = node.moduleReference.expression;
    return isModuleName(name) ? name.text : undefined;
  }
  if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && isModuleName(node.argument.literal)) {
    return node.argument.literal.text;
  }
  if (ts.isCallExpression(node) && isModuleName(node.arguments[0])) {
    const dynamic = node.expression.kind === ts.SyntaxKind.ImportKeyword;
    const required = ts.isIdentifier(node.expression) && node.expression.text === 'require';
    return dynamic || required ? node.arguments[0].text : undefined;
  }
  return undefined;
}

/** The relative module names a source file imports, in order of appearance. */
export function relativeImports(fileName: string, text: string): string[] {
  const names: string[] = [];
  const visit = (node: ts.Node): void => {
    const name = moduleNameOf(node);
    if (name?.startsWith('.')) names.push(name);
    ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS));
  return names;
}

/** Edges between the rooms of `src/`, each with the imports that make it. */
export function roomImports(srcDir: string): Map<string, Map<string, string[]>> {
  const edges = new Map<string, Map<string, string[]>>();
  const files = readdirSync(srcDir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => path.join(entry.parentPath, entry.name));
  for (const file of files) {
    const from = roomOf(srcDir, file);
    for (const name of relativeImports(file, readFileSync(file, 'utf8'))) {
      const target = path.resolve(path.dirname(file), name);
      if (!target.startsWith(srcDir + path.sep)) continue;
      const to = roomOf(srcDir, target);
      if (to === from) continue;
      const targets = edges.get(from) ?? new Map<string, string[]>();
      targets.set(to, [...(targets.get(to) ?? []), `${path.relative(srcDir, file)} -> ${name}`]);
      edges.set(from, targets);
    }
  }
  return edges;
}

/** Every cycle between rooms, each as the rooms it passes through (first repeated last). */
export function roomCycles(edges: Map<string, Map<string, string[]>>): string[][] {
  const cycles: string[][] = [];
  const seen = new Set<string>();
  const walk = (room: string, trail: string[]) => {
    const at = trail.indexOf(room);
    if (at >= 0) {
      const cycle = [...trail.slice(at), room];
      const key = [...cycle.slice(0, -1)].sort().join('|');
      if (!seen.has(key)) {
        seen.add(key);
        cycles.push(cycle);
      }
      return;
    }
    for (const next of edges.get(room)?.keys() ?? []) walk(next, [...trail, room]);
  };
  for (const room of edges.keys()) walk(room, []);
  return cycles;
}

/** A cycle as text: each step with the imports that make it. */
export function describeCycle(edges: Map<string, Map<string, string[]>>, cycle: string[]): string {
  const steps = cycle.slice(1).map((to, i) => {
    const from = cycle[i];
    const imports = edges.get(from)?.get(to) ?? [];
    return `  ${from} -> ${to}:\n${imports.map((line) => `    ${line}`).join('\n')}`;
  });
  return `${cycle.join(' -> ')}\n${steps.join('\n')}`;
}
