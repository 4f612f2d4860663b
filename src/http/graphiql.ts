import type { IncomingMessage, ServerResponse } from 'node:http';

/** Where GraphiQL is served outside production (the landing page links to it). */
export const GRAPHIQL_PATH = '/graphiql';
const STATIC_PATH = `${GRAPHIQL_PATH}/static/`;

let page: string | undefined;

/**
 * Ruru, loaded on the first request for GraphiQL: it is a development dependency (GraphiQL is never
 * served in production), so a pruned production install does not carry it.
 */
let ruru: Promise<{ server: typeof import('ruru/server'); files: typeof import('ruru/static') }> | undefined;
const loadRuru = () =>
  (ruru ??= Promise.all([import('ruru/server'), import('ruru/static')]).then(([server, files]) => ({ server, files })));

/**
 * GraphiQL, as Ruru distributes it: the page and its bundled scripts (React, GraphiQL, the
 * editor's workers) come from the `ruru` package in the project's own dependencies, never from a CDN,
 * so it works where the internet is out of reach. The page is made once, on first use.
 */
async function graphiqlPage(): Promise<string> {
  const { server } = await loadRuru();
  page ??= server.ruruHTML({
    endpoint: '/graphql',
    staticPath: STATIC_PATH,
    htmlParts: { titleTag: '<title>GraphiQL · Platform API</title>' },
  });
  return page;
}

/** Answers GET /graphiql and its static files; false for any other request. */
export async function handleGraphiQL(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (url.pathname === GRAPHIQL_PATH) {
    res.statusCode = 200;
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(await graphiqlPage());
    return true;
  }
  if (!url.pathname.startsWith(STATIC_PATH)) return false;
  const { files } = await loadRuru();
  const file = await files.getStaticFile({
    staticPath: STATIC_PATH,
    urlPath: url.pathname,
    acceptEncoding: req.headers['accept-encoding'],
    disallowDevAssets: true,
  });
  if (!file) return false;
  res.statusCode = 200;
  for (const [name, value] of Object.entries(file.headers)) res.setHeader(name, value);
  res.end(file.content);
  return true;
}
