import Fastify from 'fastify';
import { GraphQLError, NoSchemaIntrospectionCustomRule } from 'graphql';
import mercurius from 'mercurius';
import { healthOf } from '../../schema/box.js';
import { formatClientError } from '../../schema/errors.js';
import { buildSchema } from '../../schema/index.js';
import { LIMIT_RULES, checkTokens } from '../../schema/limits.js';
import type { Box } from '../box.js';
import { authorizationFromPayload, TokenAuthenticator } from './auth.js';
import { BATCH, MAX_BODY_BYTES, TOO_LARGE, checkDocument, declaredTooLarge, isBatch, refusalBody, transportRefusal } from './guard.js';
import { checkOptions, type GraphQLServer, type ServerOptions } from './options.js';
import { createPages } from './pages.js';
import { BrowserSessions, SESSION_PATH } from './browser-sessions.js';

/**
 * The alternative server: fastify + mercurius at `/graphql`, subscriptions over WebSocket on the
 * same path (graphql-ws protocol `graphql-transport-ws`), and `/health`. Same schema and context.
 */
export function createMercuriusServer(box: Box, options: ServerOptions): GraphQLServer {
  checkOptions(options, box.config.kiosks);
  const production = options.production ?? false;
  const log = options.logError;
  const schema = buildSchema(log);
  const auth = new TokenAuthenticator(options.tokens, box.config.kiosks[0]!, options.harness ?? false);
  const rules = production ? [...LIMIT_RULES, NoSchemaIntrospectionCustomRule] : [...LIMIT_RULES];
  // fastify enforces the body limit on chunked bodies too; guard.ts maps its error to REQUEST_TOO_LARGE.
  const app = Fastify({ logger: false, bodyLimit: MAX_BODY_BYTES });

  // Every plugin context, to find the WebSocket server mercurius creates in one of them.
  const contexts: object[] = [];
  app.addHook('onRegister', (instance) => void contexts.push(instance));

  // The same transport guard as the Yoga server (guard.ts): a declared oversized body is refused
  // before it is read, and a batch before mercurius sees it.
  // The box's own pages (kiosk, staff, monitor) and their assets, as on the Yoga server.
  const pages = createPages({ kiosks: box.config.kiosks, ...(options.pagesDir ? { distDir: options.pagesDir } : {}) });
  const sessions = new BrowserSessions(auth);
  // The pages' sign-in (browser-sessions.ts); fastify reads and bounds the body.
  app.route({
    method: ['GET', 'POST', 'DELETE'],
    url: SESSION_PATH,
    handler: async (request, reply) => {
      const body = request.body === undefined ? undefined : typeof request.body === 'string' ? request.body : JSON.stringify(request.body);
      const page = sessions.handle(request.raw, body)!;
      return reply.code(page.status).headers(page.headers).send(page.body);
    },
  });
  app.addHook('onRequest', async (request, reply) => {
    const page = pages.handle(request.method, request.url);
    if (page) return reply.code(page.status).headers(page.headers).send(page.body);
    if (request.method === 'POST' && declaredTooLarge(request.headers['content-length'])) {
      return reply.code(TOO_LARGE.status).header('connection', 'close').send(refusalBody(TOO_LARGE));
    }
  });
  app.addHook('preValidation', async (request, reply) => {
    if (request.method === 'POST' && isBatch(request.body)) return reply.code(BATCH.status).send(refusalBody(BATCH));
  });

  app.register(mercurius, {
    schema,
    path: '/graphql',
    graphiql: !production,
    allowBatchedQueries: false,
    validationRules: rules,
    context: (request) => auth.context(box, request.headers.authorization),
    subscription: {
      // The box's pages run queries and mutations over their one WebSocket too.
      fullWsTransport: true,
      // The token on the upgrade request, or a page's sign-in cookie (same origin only).
      context: (socket, request) => auth.context(box, request.headers.authorization ?? sessions.authorizationFor(request.headers, socket)),
      // A token in connection_init replaces whatever the upgrade request carried.
      onConnect: ({ payload }) => {
        const authorization = authorizationFromPayload(payload);
        return authorization ? auth.context(box, authorization) : true;
      },
    },
    errorFormatter: (execution, context) => {
      // Errors of the transport (body limit, unparsable body) become refusals with their codes.
      for (const e of execution.errors) {
        const refusal = transportRefusal(e.originalError ?? e);
        if (refusal) return { statusCode: refusal.status, response: refusalBody(refusal) };
      }
      // Mercurius wraps validation failures into one error that carries the graphql-js errors.
      // Parse and validation errors get the codes Yoga gives them, so clients see one contract.
      const withCode = (e: GraphQLError): GraphQLError =>
        e.extensions?.code !== undefined
          ? e
          : new GraphQLError(e.message, {
              nodes: e.nodes,
              source: e.source,
              positions: e.positions,
              path: e.path,
              extensions: { ...e.extensions, code: e.message.startsWith('Syntax Error') ? 'GRAPHQL_PARSE_FAILED' : 'GRAPHQL_VALIDATION_FAILED' },
            });
      const coded = execution.errors.flatMap((e) => {
        const inner = (e.originalError as { errors?: unknown } | undefined)?.errors;
        return Array.isArray(inner) && inner.every((i) => i instanceof GraphQLError) ? (inner as GraphQLError[]).map(withCode) : [e];
      });
      return mercurius.defaultErrorFormatter({ ...execution, errors: coded.map((e) => formatClientError(e, production, log)) }, context);
    },
  });
  // mercurius hooks: the token limit before it parses (HTTP), and the full checks for WebSocket
  // subscriptions, which mercurius would otherwise parse and run without any validation.
  app.register(async (instance) => {
    instance.graphql.addHook('preParsing', async (_schema, source) => {
      const tooMany = checkTokens(source);
      if (tooMany) throw tooMany;
    });
    instance.graphql.addHook('preSubscriptionParsing', async (s, source) => {
      const errors = checkDocument(s, source, rules);
      if (errors) throw formatClientError(errors[0]!, production, log);
    });
  });
  app.get('/health', async (_request, reply) => {
    const health = healthOf(box);
    return reply.code(health.ok ? 200 : 503).send(health);
  });

  return {
    async listen(port, host = '127.0.0.1') {
      await app.ready();
      // mercurius registers @fastify/websocket in its own encapsulated context with 1 MiB messages;
      // bound them like bodies (ws reads `options.maxPayload` at each upgrade).
      for (const instance of contexts) {
        const wss = (instance as unknown as { websocketServer?: { options: { maxPayload?: number } } }).websocketServer;
        if (wss) wss.options.maxPayload = MAX_BODY_BYTES;
      }
      const address = await app.listen({ port, host });
      return { url: `${address}/graphql` };
    },
    async close() {
      sessions.clear();
      await app.close();
    },
  };
}
