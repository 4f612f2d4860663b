import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer } from '@apollo/server';
import { PersistedQueryNotAllowedError } from '../errors';
import { admitRequest, type TrustedDocuments } from '../graphql/trusted-documents';
import type { RequestContext } from '../request/context';
import type { RequestScope } from '../database/request-database';

export class PayloadTooLargeError extends Error {}

export async function readBody(req: IncomingMessage, limitBytes: number): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limitBytes) throw new PayloadTooLargeError();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limitBytes) throw new PayloadTooLargeError();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function headerMap(req: IncomingMessage): HeaderMap {
  const headers = new HeaderMap();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
  }
  return headers;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(body));
}

export function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { errors: [{ message, extensions: { code } }] });
}

export interface GraphQLHandlerOptions {
  apollo: ApolloServer<RequestContext>;
  bodyLimitBytes: number;
  /** Report the statement count of each request in a response header (outside production). */
  exposeQueryCount: boolean;
  /** Name configured limits in error messages (outside production). */
  exposeLimits: boolean;
  context: (req: IncomingMessage, scope: RequestScope) => Promise<RequestContext>;
  /** The documents clients may name by hash (TRUSTED_DOCUMENTS); null: none. */
  trustedDocuments: TrustedDocuments | null;
}

/** A POST's body, parsed when it is JSON; null when the request was answered (too large, bad JSON). */
async function readGraphQLBody(
  req: IncomingMessage,
  res: ServerResponse,
  options: GraphQLHandlerOptions,
): Promise<{ body: unknown } | null> {
  let raw: string;
  try {
    raw = await readBody(req, options.bodyLimitBytes);
  } catch (error) {
    if (error instanceof PayloadTooLargeError) {
      const limit = options.exposeLimits ? ` of ${options.bodyLimitBytes} bytes` : '';
      // The rest of the body is not read: the connection cannot carry another request.
      res.setHeader('connection', 'close');
      sendError(res, 413, 'PAYLOAD_TOO_LARGE', `The request body exceeds the limit${limit}`);
      return null;
    }
    throw error;
  }
  const contentType = req.headers['content-type'] ?? '';
  if (!contentType.startsWith('application/json') && !contentType.startsWith('application/graphql-response+json')) {
    return { body: raw };
  }
  try {
    return { body: raw.length ? JSON.parse(raw) : undefined };
  } catch {
    sendError(res, 400, 'BAD_REQUEST', 'The request body is not valid JSON');
    return null;
  }
}

/** /graphql on node:http: body limit, JSON parsing, trusted documents, and Apollo's own HTTP handling (CSRF prevention included). */
export async function handleGraphQL(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  scope: RequestScope,
  options: GraphQLHandlerOptions,
): Promise<void> {
  let body: unknown = undefined;
  let search = url.search;
  if (req.method === 'POST') {
    const read = await readGraphQLBody(req, res, options);
    if (!read) return;
    body = read.body;
  }
  if (options.trustedDocuments) {
    const admission = admitRequest(options.trustedDocuments, { body, search: url.searchParams });
    if (!admission.admitted) {
      const refusal = new PersistedQueryNotAllowedError();
      return sendError(res, 400, refusal.code, refusal.message);
    }
    ({ body, search } = admission);
  }
  const response = await options.apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method: req.method ?? 'GET', headers: headerMap(req), search, body },
    context: () => options.context(req, scope),
  });
  for (const [key, value] of response.headers) res.setHeader(key, value);
  if (options.exposeQueryCount) res.setHeader('x-sql-statements', String(scope.statements));
  res.statusCode = response.status ?? 200;
  if (response.body.kind === 'complete') {
    res.end(response.body.string);
    return;
  }
  for await (const chunk of response.body.asyncIterator) res.write(chunk);
  res.end();
}
