import type { Server as HttpServer } from 'node:http';
import { NoSchemaIntrospectionCustomRule, type GraphQLSchema } from 'graphql';
import { buildSchema } from '../../schema/index.js';
import { LIMIT_RULES } from '../../schema/limits.js';
import type { Box } from '../box.js';
import { metricsFor } from '../metrics.js';
import { TokenAuthenticator } from './auth.js';
import { createFront, Documents, type Engine, type Route } from './http.js';
import { checkOptions, type ServerOptions } from './options.js';
import { BrowserSessions, SESSION_PATH } from './browser-sessions.js';
import { isRefusal, readBody, writeRefusal } from './guard.js';
import { ResponseCache } from './cache.js';
import { createPages, defaultDistDir } from './pages.js';
import { loadPersistedDocuments } from './persisted.js';
import { boxRoutes } from './routes.js';
import { attachGraphqlWs } from './ws.js';
import { KioskBinding, kioskClientsOf } from './kiosk-binding.js';
import { speechRoutes } from './speech.js';

/** What both servers share: schema, documents, tokens; then the front and graphql-ws for an engine. */
export function sharedParts(box: Box, options: ServerOptions) {
  // The after-hours room's outside panel is a kiosk too, for its token (it runs no sessions).
  const doorPanel = box.config.layout?.devices?.roomDoor?.panel;
  checkOptions(options, doorPanel ? [...box.config.kiosks, doorPanel] : box.config.kiosks);
  const production = options.production ?? false;
  const log = options.logError;
  const schema: GraphQLSchema = buildSchema(log);
  const rules = production ? [...LIMIT_RULES, NoSchemaIntrospectionCustomRule] : LIMIT_RULES;
  // The pages' persisted documents (web/build.mjs hashes them): in production the only ones a kiosk may run.
  const documents = new Documents(schema, rules, production, undefined, loadPersistedDocuments(options.pagesDir ?? defaultDistDir()));
  const auth = new TokenAuthenticator(options.tokens, box.config.kiosks[0]!, options.harness ?? false);
  const context = (authorization: string | undefined) => auth.context(box, authorization);
  const sessions = new BrowserSessions(auth);
  const cache = new ResponseCache();
  const unlisten = box.supervisor.changes.listen(() => cache.invalidate());
  const binding = new KioskBinding(kioskClientsOf(options.kioskClients, box.config.kiosks, production), box.config.pinKey);
  const pages = createPages({ kiosks: box.config.kiosks, binding, ...(options.pagesDir ? { distDir: options.pagesDir } : {}) });

  return {
    schema,
    production,
    log,
    documents,
    auth,
    context,
    cache,
    /** Stops listening to the box and signs every page out (the server is closing). */
    dispose: () => {
      unlisten();
      sessions.clear();
    },
    /** The request handler of every HTTP request. */
    front: (engine: Engine) =>
      createFront({ documents, production, log, cors: options.cors, context, engine, routes: [...boxRoutes(box, options.tokens), ...signInRoutes(sessions), ...speechRoutes()], pages, cache }),
    /** graphql-ws on the server's `/graphql`. */
    ws: (http: HttpServer, engine: Engine) =>
      attachGraphqlWs(http, {
        schema,
        documents,
        engine,
        production,
        log,
        cors: options.cors,
        initTimeoutMs: options.wsInitTimeoutMs,
        subscriberJoined: () => metricsFor(box).subscriberJoined(),
        cookieAuthorization: (request, socket) => sessions.authorizationFor(request.headers, socket),
        // A panel page carries no token: its kiosk cookie binds it (kiosk-binding.ts).
        kioskContext: (request) => binding.context(box, { remoteAddress: request.socket.remoteAddress, headers: request.headers }),
        context: (authorization) => (authorization === undefined || auth.resolve(authorization) ? context(authorization) : null),
      }),
  };
}

/** The pages' sign-in at `/graphql/session` (browser-sessions.ts); a POST body is read bounded. */
function signInRoutes(sessions: BrowserSessions): Route[] {
  const answer = (req: Parameters<Route['handle']>[0], res: Parameters<Route['handle']>[1], body: string | undefined) => {
    const page = sessions.handle(req, body)!;
    res.writeHead(page.status, page.headers);
    res.end(page.body);
  };
  return [
    { method: 'GET', path: SESSION_PATH, handle: (req, res) => answer(req, res, undefined) },
    { method: 'DELETE', path: SESSION_PATH, handle: (req, res) => answer(req, res, undefined) },
    {
      method: 'POST',
      path: SESSION_PATH,
      handle: async (req, res) => {
        const body = await readBody(req);
        if (isRefusal(body)) return writeRefusal(res, body);
        answer(req, res, body.toString('utf8'));
      },
    },
  ];
}
