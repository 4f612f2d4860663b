import type { CodegenConfig } from '@graphql-codegen/cli';
import { addTypenameSelectionDocumentTransform } from '@graphql-codegen/client-preset';

/**
 * `npm run codegen`: typed documents for the studio's operations, from the committed schema,
 * and the manifest of trusted documents (hash → document) that TRUSTED_DOCUMENTS loads.
 * Paths are from the repository's root, where npm runs it.
 */
const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: 'examples/studio/operations/*.graphql',
  // A document that does not validate against the schema fails the run.
  ignoreNoDocuments: false,
  generates: {
    'examples/studio/generated/': {
      preset: 'client',
      presetConfig: {
        fragmentMasking: false,
        persistedDocuments: { mode: 'embedHashInDocument', hashAlgorithm: 'sha256' },
      },
      // Normalized caches need __typename in every answer; added here, it is part of the trusted document.
      documentTransforms: [addTypenameSelectionDocumentTransform],
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        strictScalars: true,
        // An audit change's before and after: any JSON value.
        scalars: { DateTimeISO: 'string', JSON: 'unknown' },
      },
    },
  },
};

// graphql-codegen reads its configuration from the module's default export.
export default config;
