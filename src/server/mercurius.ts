import { createServer as createHttpServer } from 'node:http';
import Fastify from 'fastify';
import { GraphQLError, type ExecutionResult } from 'graphql';
import mercurius from 'mercurius';
import type { Box } from '../box.js';
import type { Engine } from './http.js';
import type { GraphQLServer, ServerOptions } from './options.js';
import { sharedParts } from './shared.js';

/** Runs of a document after which mercurius compiles it with graphql-jit. */
const JIT_AFTER = 1;

/**
 * The alternative server: fastify + mercurius executing (its document cache and graphql-jit),
 * behind the same shared front (http.ts) at `/graphql` and the same graphql-ws (ws.ts) as the
 * Yoga server, so both answer alike. mercurius' own routes and WebSocket transport stay off: the
 * latter keeps sockets without `connection_init` open forever and acks unknown tokens. No SSE here
 * (mercurius has none); a subscription over HTTP is a 400 that names graphql-ws.
 */
export function createMercuriusServer(box: Box, options: ServerOptions): GraphQLServer {
  const parts = sharedParts(box, options);
  let handle: ReturnType<typeof parts.front> = () => {};
  const app = Fastify({ logger: false, serverFactory: () => createHttpServer((req, res) => handle(req, res)) });

  app.register(mercurius, {
    schema: parts.schema,
    routes: false,
    graphiql: false,
    jit: JIT_AFTER,
    // Errors stay GraphQLErrors: the shared front formats them for both servers.
    errorFormatter: (execution) => ({ statusCode: 200, response: execution }),
  });

  const engine: Engine = {
    async execute({ source, variables, operationName, context }) {
      try {
        // mercurius adds its own fields to the context object it is given.
        return (await app.graphql(source, { ...context } as never, variables, operationName)) as ExecutionResult;
      } catch (error) {
        // Variables that do not fit their types (the document itself was validated by the front).
        const errors = (error as { errors?: unknown }).errors;
        if (Array.isArray(errors) && errors.every((e) => e instanceof GraphQLError)) return { errors };
        throw error;
      }
    },
  };
  handle = parts.front(engine);
  const ws = parts.ws(app.server, engine);

  return {
    async listen(port, host = '127.0.0.1') {
      const address = await app.listen({ port, host });
      return { url: `${address}/graphql` };
    },
    async close() {
      await ws.close();
      parts.dispose();
      app.server.closeAllConnections();
      await app.close();
    },
  };
}
