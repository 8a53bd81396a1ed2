import Fastify from 'fastify';
import { GraphQLError, NoSchemaIntrospectionCustomRule } from 'graphql';
import mercurius from 'mercurius';
import { healthOf } from '../../schema/box.js';
import { formatClientError } from '../../schema/errors.js';
import { buildSchema } from '../../schema/index.js';
import { LIMIT_RULES } from '../../schema/limits.js';
import type { Box } from '../box.js';
import { authorizationFromPayload, TokenAuthenticator } from './auth.js';
import { checkOptions, type GraphQLServer, type ServerOptions } from './options.js';

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
  const app = Fastify({ logger: false });

  app.register(mercurius, {
    schema,
    path: '/graphql',
    graphiql: !production,
    allowBatchedQueries: false,
    validationRules: production ? [...LIMIT_RULES, NoSchemaIntrospectionCustomRule] : [...LIMIT_RULES],
    context: (request) => auth.context(box, request.headers.authorization),
    subscription: {
      context: (_socket, request) => auth.context(box, request.headers.authorization),
      // A token in connection_init replaces whatever the upgrade request carried.
      onConnect: ({ payload }) => {
        const authorization = authorizationFromPayload(payload);
        return authorization ? auth.context(box, authorization) : true;
      },
    },
    errorFormatter: (execution, context) => {
      // Mercurius wraps validation failures into one error that carries the graphql-js errors.
      const errors = execution.errors.flatMap((e) => {
        const inner = (e.originalError as { errors?: unknown } | undefined)?.errors;
        return Array.isArray(inner) && inner.every((i) => i instanceof GraphQLError) ? (inner as GraphQLError[]) : [e];
      });
      return mercurius.defaultErrorFormatter({ ...execution, errors: errors.map((e) => formatClientError(e, production, log)) }, context);
    },
  });
  app.get('/health', async (_request, reply) => {
    const health = healthOf(box);
    return reply.code(health.ok ? 200 : 503).send(health);
  });

  return {
    async listen(port, host = '127.0.0.1') {
      const address = await app.listen({ port, host });
      return { url: `${address}/graphql` };
    },
    async close() {
      await app.close();
    },
  };
}
