import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** A room of `src/`: its top-level folder, or the file itself for a file at the top. */
function roomOf(srcDir: string, file: string): string {
  const [first] = path.relative(srcDir, file).split(path.sep);
  return first.replace(/\.ts$/, '');
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'(\.{1,2}\/[^']+)'/g;

/** Edges between the rooms of `src/`, each with the imports that make it. */
export function roomImports(srcDir: string): Map<string, Map<string, string[]>> {
  const edges = new Map<string, Map<string, string[]>>();
  const files = readdirSync(srcDir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => path.join(entry.parentPath, entry.name));
  for (const file of files) {
    const from = roomOf(srcDir, file);
    for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const target = path.resolve(path.dirname(file), match[1]);
      if (!target.startsWith(srcDir + path.sep)) continue;
      const to = roomOf(srcDir, target);
      if (to === from) continue;
      const targets = edges.get(from) ?? new Map<string, string[]>();
      targets.set(to, [...(targets.get(to) ?? []), `${path.relative(srcDir, file)} -> ${match[1]}`]);
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
