import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { describeCycle, roomCycles, roomImports } from './folder-graph';

const SRC = path.join(__dirname, '..', '..', '..', 'src');

/** Cycles of a graph as a failure message: each cycle with the imports that make it. */
function cycleReport(srcDir: string): { cycles: string[][]; message: string } {
  const edges = roomImports(srcDir);
  const cycles = roomCycles(edges);
  const message = cycles.map((cycle) => describeCycle(edges, cycle)).join('\n\n');
  return { cycles, message };
}

describe('the folders of src/', () => {
  it('do not import each other in a loop', () => {
    const { cycles, message } = cycleReport(SRC);
    assert.equal(cycles.length, 0, `the rooms of src/ import each other in a loop:\n\n${message}`);
  });
});

describe('the folder-loop check', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'folder-cycles-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  /** A throwaway src/ tree from file contents keyed by path. */
  const tree = (name: string, files: Record<string, string>): string => {
    const src = path.join(tmp, name, 'src');
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(src, file)), { recursive: true });
      writeFileSync(path.join(src, file), text);
    }
    return src;
  };

  it('finds two folders that import each other, naming both imports', () => {
    const src = tree('plain', {
      'services/a.service.ts': "import { b } from '../repositories/b.repository';\nexport const a = b;\n",
      'repositories/b.repository.ts': "import { a } from '../services/a.service';\nexport const b = () => a;\n",
    });
    const { cycles, message } = cycleReport(src);
    assert.equal(cycles.length, 1);
    assert.deepEqual(new Set(cycles[0]), new Set(['repositories', 'services']));
    assert.match(message, /services\/a\.service\.ts -> \.\.\/repositories\/b\.repository/);
    assert.match(message, /repositories\/b\.repository\.ts -> \.\.\/services\/a\.service/);
  });

  const forms: Record<string, string> = {
    'a type-only import': "import type { A } from '../a/a';\nexport type B = A;\n",
    'an inline type import': "import { type A } from '../a/a';\nexport type B = A;\n",
    'a re-export': "export { a } from '../a/a';\n",
    'a re-export of everything': "export * from '../a/a';\n",
    'a dynamic import': "export const load = () => import('../a/a');\n",
    'an import for its side effects': "import '../a/a';\n",
    'a require': "export const a: unknown = require('../a/a');\n",
    'a type import in a type position': "export type A = typeof import('../a/a');\n",
  };
  for (const [form, text] of Object.entries(forms)) {
    it(`finds a loop made by ${form}`, () => {
      const src = tree(form.replace(/\W+/g, '-'), {
        'a/a.ts': "import { b } from '../b/b';\nexport const a = b;\n",
        'b/b.ts': text,
      });
      assert.equal(cycleReport(src).cycles.length, 1, `no loop found for ${form}`);
    });
  }

  it('finds a loop between a top-level file and a folder', () => {
    const src = tree('top-level', {
      'config.ts': "import { b } from './b/b';\nexport const config = b;\n",
      'b/b.ts': "import { config } from '../config';\nexport const b = () => config;\n",
    });
    assert.deepEqual(new Set(cycleReport(src).cycles[0]), new Set(['b', 'config']));
  });

  it('does not count imports within a folder, of packages, or named only in comments and strings', () => {
    const src = tree('none', {
      'a/a.ts': "import { x } from './x';\nimport { Pool } from 'pg';\nexport const a = [x, Pool];\n",
      'a/x.ts': "// import { b } from '../b/b';\nexport const x = \"from '../b/b'\";\n",
      'b/b.ts': "import { a } from '../a/a';\nexport const b = a;\n",
    });
    assert.deepEqual(cycleReport(src).cycles, []);
  });
});
