import { readFileSync } from 'node:fs';
import path from 'node:path';
import { getOperationAST, parse } from 'graphql';

/** The repository's root, from dist/test/support. */
export const REPOSITORY = path.join(__dirname, '..', '..', '..');

/** The manifest of the studio's trusted documents that `npm run codegen` writes. */
export const STUDIO_MANIFEST = path.join(REPOSITORY, 'examples', 'studio', 'generated', 'persisted-documents.json');

export interface TrustedDocument {
  /** `sha256:<hex>`, as the manifest and GraphQL over HTTP's documentId name it. */
  id: string;
  /** The hex alone, as Apollo's persisted-query extension carries it. */
  sha256Hash: string;
  text: string;
}

/** The studio's trusted document that holds the operation `name`. */
export function studioDocument(name: string): TrustedDocument {
  const manifest = JSON.parse(readFileSync(STUDIO_MANIFEST, 'utf8')) as Record<string, string>;
  for (const [id, text] of Object.entries(manifest)) {
    if (getOperationAST(parse(text))?.name?.value === name) {
      return { id, sha256Hash: id.replace(/^sha256:/, ''), text };
    }
  }
  throw new Error(`No trusted document holds the operation ${name}`);
}
