import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { InMemoryLRUCache, type KeyValueCache } from '@apollo/utils.keyvaluecache';
import {
  getOperationAST,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type GraphQLSchema,
  type ParseOptions,
  type ValidationRule,
} from 'graphql';
import { ConfigError } from '../config';

/** A document's identifier: the hex SHA-256 of its text, as Apollo's persisted queries send it. */
const SHA256_HEX = /^[0-9a-f]{64}$/;

/** GraphQL over HTTP's persisted documents name a SHA-256 identifier `sha256:<hex>`; Apollo sends the hex alone. */
function bareHash(id: string): string {
  return id.startsWith('sha256:') ? id.slice('sha256:'.length) : id;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export interface TrustedDocumentRules {
  schema: GraphQLSchema;
  parseOptions: ParseOptions;
  /** The server's own validation rules, run after graphql-js's. */
  validationRules: readonly ValidationRule[];
}

/**
 * The documents a client may name by hash (TRUSTED_DOCUMENTS: a JSON object of `sha256:<hex>` →
 * document, as graphql-codegen's client preset writes it). Each one is checked against its hash,
 * parsed and validated once, when the server starts: a manifest with a document that does not
 * hold stops the start, naming it.
 */
export class TrustedDocuments {
  /** Parsed and validated documents by the hex SHA-256 of their text. */
  private readonly documents = new Map<string, DocumentNode>();
  /** Texts by their hash, and hashes by their text. */
  private readonly texts = new Map<string, string>();
  private readonly hashes = new Map<string, string>();

  constructor(
    manifest: Record<string, unknown>,
    rules: TrustedDocumentRules,
    readonly only: boolean,
  ) {
    for (const [id, text] of Object.entries(manifest)) this.add(id, text, rules);
  }

  get size(): number {
    return this.texts.size;
  }

  private add(id: string, text: unknown, rules: TrustedDocumentRules): void {
    const hash = bareHash(id);
    const problem = (message: string) => new ConfigError('TRUSTED_DOCUMENTS', `document ${id}: ${message}`);
    if (!SHA256_HEX.test(hash)) throw problem('its key must be sha256:<64 hex digits>');
    if (typeof text !== 'string') throw problem('must be the text of a GraphQL document');
    if (sha256(text) !== hash) throw problem('its key is not the SHA-256 of its text');
    let document: DocumentNode;
    try {
      document = parse(text, rules.parseOptions);
    } catch (error) {
      throw problem(`does not parse: ${(error as Error).message}`);
    }
    const errors = validate(rules.schema, document, [...specifiedRules, ...rules.validationRules]);
    const name = getOperationAST(document)?.name?.value ?? 'anonymous';
    if (errors.length) throw problem(`${name} does not validate: ${errors.map((e) => e.message).join('; ')}`);
    this.documents.set(hash, document);
    this.texts.set(hash, text);
    this.hashes.set(text, hash);
  }

  /** Whether `text` is, word for word, one of the documents. */
  hasText(text: string): boolean {
    return this.hashes.has(text);
  }

  /**
   * Apollo's persisted-query cache: it answers the trusted hashes and keeps nothing a client
   * sends, so that no request can add a document to what may be named by hash.
   */
  persistedQueryCache(): KeyValueCache<string> {
    const texts = this.texts;
    return {
      // Apollo prefixes its keys ("apq:"); the hash is what follows the last colon.
      get: (key) => Promise.resolve(texts.get(key.slice(key.lastIndexOf(':') + 1))),
      set: () => Promise.resolve(),
      delete: () => Promise.resolve(false),
    };
  }

  /**
   * Apollo's store of parsed and validated documents, keyed by the hash of their text (after a
   * prefix of its own): the trusted documents are answered from what was validated at start,
   * so Apollo neither parses nor validates them again; other documents are kept as Apollo
   * keeps them by default.
   */
  documentStore(): KeyValueCache<DocumentNode> {
    const trusted = this.documents;
    const others = new InMemoryLRUCache<DocumentNode>();
    const hashOf = (key: string) => key.slice(key.lastIndexOf(':') + 1);
    return {
      get: (key) => {
        const document = trusted.get(hashOf(key));
        return document ? Promise.resolve(document) : others.get(key);
      },
      set: (key, value, options) => (trusted.has(hashOf(key)) ? Promise.resolve() : others.set(key, value, options)),
      delete: (key) => others.delete(key),
    };
  }
}

/** Reads and checks the manifest at `file` (see TrustedDocuments). */
export function loadTrustedDocuments(file: string, rules: TrustedDocumentRules, only: boolean): TrustedDocuments {
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError('TRUSTED_DOCUMENTS', `cannot be read as JSON from ${file}: ${(error as Error).message}`);
  }
  if (manifest === null || typeof manifest !== 'object' || Array.isArray(manifest)) {
    throw new ConfigError('TRUSTED_DOCUMENTS', `must hold a JSON object of hash → document (${file})`);
  }
  return new TrustedDocuments(manifest as Record<string, unknown>, rules, only);
}

/** Where a request names its document: the body of a POST, the search parameters of a GET. */
export interface GraphQLHttpRequest {
  body: unknown;
  search: URLSearchParams;
}

export type Admission = { admitted: true; body: unknown; search: string } | { admitted: false };

function persistedQuery(hash: string) {
  return { persistedQuery: { version: 1, sha256Hash: bareHash(hash) } };
}

type Fields = Record<string, unknown>;

/** A POST body: `documentId` becomes Apollo's persisted-query extension; a document sent as text drops its hash. */
function admitBody(body: Fields): Fields {
  const { documentId, ...rest } = body;
  const extensions = (rest.extensions ?? {}) as Fields;
  if (typeof rest.query === 'string') {
    // The text is what runs: a hash beside it is a hint, and Apollo would store the pair.
    if (!('persistedQuery' in extensions)) return rest;
    const others = { ...extensions };
    delete others.persistedQuery;
    return { ...rest, extensions: others };
  }
  if (typeof documentId !== 'string') return rest;
  return { ...rest, extensions: { ...extensions, ...persistedQuery(documentId) } };
}

/** The same for a GET's parameters. */
function admitSearch(search: URLSearchParams): URLSearchParams {
  const documentId = search.get('documentId');
  if (documentId === null || search.has('query')) return search;
  const next = new URLSearchParams(search);
  next.delete('documentId');
  next.set('extensions', JSON.stringify(persistedQuery(documentId)));
  return next;
}

function isFields(value: unknown): value is Fields {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * A request as Apollo will read it: a document named by `documentId` (GraphQL over HTTP) is
 * named as Apollo's clients name it; with TRUSTED_DOCUMENTS_ONLY, a document sent as text that
 * is not one of the trusted ones is not admitted.
 */
export function admitRequest(trusted: TrustedDocuments, request: GraphQLHttpRequest): Admission {
  const body = isFields(request.body) ? admitBody(request.body) : request.body;
  const search = admitSearch(request.search);
  if (trusted.only) {
    const text = isFields(body) ? body.query : search.get('query');
    if (typeof text === 'string' && !trusted.hasText(text)) return { admitted: false };
  }
  const query = search.toString();
  return { admitted: true, body, search: query ? `?${query}` : '' };
}
