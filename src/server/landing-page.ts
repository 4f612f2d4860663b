import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { GRAPHIQL_PATH } from '../http/graphiql';

const NOTE =
  `<p id="offline-explorer">Offline, or without access to Apollo's CDN? ` +
  `<a href="${GRAPHIQL_PATH}">GraphiQL</a> is served by this server and needs no internet.</p>`;

/** Apollo's words when Sandbox does not load (it comes from Apollo's CDN): the note goes right after them. */
const SANDBOX_FALLBACK = /(<p>Apollo Sandbox cannot be loaded[^<]*<\/p>)/;

/** Apollo's first style block (its nonce lets it through the page's CSP). */
const STYLE_BLOCK = /<style nonce=[^>\s]+>/;

/** Sandbox's container covers the page; while Sandbox has not loaded into it, it must not cover the note. */
const UNCOVER = '#embeddableSandbox:empty { display: none; }';

function withNote(html: string): string {
  const uncovered = html.replace(STYLE_BLOCK, (block) => `${block}\n${UNCOVER}`);
  if (SANDBOX_FALLBACK.test(uncovered)) return uncovered.replace(SANDBOX_FALLBACK, `$1\n${NOTE}`);
  return uncovered.includes('</body>') ? uncovered.replace('</body>', `${NOTE}</body>`) : `${uncovered}${NOTE}`;
}

/**
 * Apollo's development landing page (Sandbox), which also says where GraphiQL is: Sandbox
 * loads from Apollo's CDN, GraphiQL from this server, so it works where the CDN is out of reach.
 */
export function landingPageWithGraphiQL(): ApolloServerPlugin {
  const sandbox = ApolloServerPluginLandingPageLocalDefault({ embed: true });
  return {
    async serverWillStart(service) {
      const listener = await sandbox.serverWillStart?.(service);
      if (!listener?.renderLandingPage) return listener;
      const render = listener.renderLandingPage.bind(listener);
      return {
        ...listener,
        renderLandingPage: async () => {
          const page = await render();
          const html = typeof page.html === 'string' ? page.html : await page.html();
          return { ...page, html: withNote(html) };
        },
      };
    },
  };
}
