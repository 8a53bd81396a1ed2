import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GraphQLError, type ExecutionResult } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { formatClientError, toClientError } from '../../schema/errors.js';
import { GRAPHQL_PATH, type Engine } from './http.js';
import type { GraphQLServer, ServerOptions } from './options.js';
import { sharedParts } from './shared.js';
import type { Box } from '../box.js';

export { GRAPHQL_PATH } from './http.js';
export { writeHealth } from './routes.js';

/**
 * The default server: node:http with the shared front (http.ts) at `/graphql`, graphql-yoga's
 * envelop pipeline executing, Yoga's own handler streaming subscriptions over SSE, graphql-ws on
 * the same path and port, and `/health`.
 */
export function createYogaServer(box: Box, options: ServerOptions): GraphQLServer {
  const parts = sharedParts(box, options);
  const { production, log, schema } = parts;

  const yoga = createYoga({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    graphiql: false,
    landingPage: false,
    batching: false,
    logging: false,
    context: ({ request }) => parts.context(request.headers.get('authorization') ?? undefined),
    maskedErrors: {
      maskError: (error) => (error instanceof GraphQLError ? formatClientError(error, production, log) : toClientError(error, log, 'yoga')),
    },
  });

  const engine: Engine = {
    async execute({ document, variables, operationName, context }) {
      const enveloped = yoga.getEnveloped(context as never);
      return (await enveloped.execute({ schema: enveloped.schema, document, contextValue: context, variableValues: variables, operationName })) as ExecutionResult;
    },
    // The front has checked origin, method, body and document; Yoga streams the subscription.
    sse: (req, res) => void yoga(req, res),
  };

  const http = createHttpServer(parts.front(engine));
  const ws = parts.ws(http, engine);

  return {
    listen: (port, host = '127.0.0.1') =>
      new Promise((resolve, reject) => {
        http.once('error', reject);
        http.listen(port, host, () => {
          http.off('error', reject);
          const address = http.address() as AddressInfo;
          const hostText = address.family === 'IPv6' ? `[${address.address}]` : address.address;
          resolve({ url: `http://${hostText}:${address.port}${GRAPHQL_PATH}` });
        });
      }),
    async close() {
      await ws.close();
      parts.dispose();
      http.closeAllConnections();
      await new Promise<void>((resolve) => (http.listening ? http.close(() => resolve()) : resolve()));
      await yoga.dispose?.();
    },
  };
}
