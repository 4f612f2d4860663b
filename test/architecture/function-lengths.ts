import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export interface FunctionLength {
  /** `file:line name`, the file relative to the folder walked. */
  where: string;
  lines: number;
}

/** What a function is called: its own name, the variable or property it is assigned to, or its class and method. */
function nameOf(node: ts.SignatureDeclaration): string {
  const own = node.name && ts.isIdentifier(node.name) ? node.name.text : undefined;
  const holder = node.parent;
  const assigned =
    (ts.isVariableDeclaration(holder) || ts.isPropertyAssignment(holder) || ts.isPropertyDeclaration(holder)) &&
    ts.isIdentifier(holder.name)
      ? holder.name.text
      : undefined;
  const name = own ?? assigned ?? (ts.isConstructorDeclaration(node) ? 'constructor' : '<anonymous>');
  const owner = ts.isClassLike(holder) && holder.name ? `${holder.name.text}.` : '';
  return owner + name;
}

/** Lines of every function body, from its opening line to its closing line (nested functions included). */
export function functionLengths(fileName: string, text: string): { line: number; name: string; lines: number }[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const lengths: { line: number; name: string; lines: number }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const line = (position: number) => source.getLineAndCharacterOfPosition(position).line;
      const first = line(node.body.getStart(source));
      lengths.push({
        line: line(node.getStart(source)) + 1,
        name: nameOf(node),
        lines: line(node.body.getEnd()) - first + 1,
      });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return lengths;
}

/** Every function under `dir` longer than `limit` lines, longest first. */
export function longFunctions(dir: string, limit: number): FunctionLength[] {
  const files = readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => path.join(entry.parentPath, entry.name));
  return files
    .flatMap((file) =>
      functionLengths(file, readFileSync(file, 'utf8'))
        .filter((fn) => fn.lines > limit)
        .map((fn) => ({ where: `${path.relative(dir, file)}:${fn.line} ${fn.name}`, lines: fn.lines })),
    )
    .sort((a, b) => b.lines - a.lines);
}
