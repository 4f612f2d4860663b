import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { generate } from '@graphql-codegen/cli';
import codegenConfig from '../../examples/studio/codegen';
import { REPOSITORY } from '../support/studio';

const GENERATED = path.join('examples', 'studio', 'generated');

interface GeneratedFile {
  filename: string;
  content: string;
}

describe("the studio's typed documents", () => {
  it('the generated files are what `npm run codegen` makes from schema.graphql and the documents now', async () => {
    const outputs = (await generate({ ...codegenConfig, cwd: REPOSITORY, silent: true }, false)) as GeneratedFile[];
    const committed = readdirSync(path.join(REPOSITORY, GENERATED)).sort();
    assert.deepEqual(outputs.map((output) => path.basename(output.filename)).sort(), committed);
    for (const output of outputs) {
      assert.equal(
        readFileSync(path.resolve(REPOSITORY, output.filename), 'utf8'),
        output.content,
        `${output.filename} is stale: run npm run codegen`,
      );
    }
  });

  it('a document that does not validate against schema.graphql fails the generation, naming the field', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'codegen-'));
    const broken = path.join(dir, 'broken.graphql');
    writeFileSync(broken, 'query Broken {\n  organizations {\n    nodes {\n      nothing\n    }\n  }\n}\n');
    const documents = [codegenConfig.documents as string, broken];
    const generates = { [path.join(dir, 'out/')]: Object.values(codegenConfig.generates)[0] };
    await assert.rejects(
      generate({ ...codegenConfig, documents, generates, cwd: REPOSITORY, silent: true }, false),
      /Cannot query field "nothing" on type "Organization"/,
    );
  });
});
