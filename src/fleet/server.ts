import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GraphQLError, NoSchemaIntrospectionCustomRule, type ValidationRule } from 'graphql';
import { createYoga, type Plugin } from 'graphql-yoga';
import { formatClientError, toClientError, type ErrorLogger } from '../../schema/errors.js';
import { LIMIT_RULES, checkTokens } from '../../schema/limits.js';
import { TokenAuthenticator } from '../server/auth.js';
import { BAD_REQUEST, checkJsonBody, readBody, writeRefusal } from '../server/guard.js';
import type { Central } from './central.js';
import { buildCentralSchema, type CentralContext } from './schema.js';

export interface CentralServerOptions {
  tokens: { integration?: string; monitor?: string };
  production?: boolean;
  logError?: ErrorLogger;
}

const limits = (rules: readonly ValidationRule[]): Plugin => ({
  onParse({ params }) {
    const tooMany = checkTokens(params.source);
    if (tooMany) throw tooMany;
  },
  onValidate({ addValidationRule }) {
    for (const rule of rules) addValidationRule(rule);
  },
});

/**
 * The central service's GraphQL server: graphql-yoga at `/graphql` (subscriptions over SSE),
 * with the box's token roles (integration, monitor), body and query limits; `/health` says
 * whether any box is silent or a central alarm is open.
 */
export function createCentralServer(central: Central, options: CentralServerOptions) {
  const production = options.production ?? false;
  const auth = new TokenAuthenticator({ integration: options.tokens.integration, monitor: options.tokens.monitor }, 'none', false);
  const schema = buildCentralSchema(options.logError);
  const yoga = createYoga<{}, CentralContext>({
    schema,
    graphqlEndpoint: '/graphql',
    graphiql: !production,
    landingPage: false,
    batching: false,
    logging: false,
    plugins: [limits(production ? [...LIMIT_RULES, NoSchemaIntrospectionCustomRule] : LIMIT_RULES)],
    context: ({ request }) => {
      const grant = auth.resolve(request.headers.get('authorization'));
      const role = grant?.role === 'integration' || grant?.role === 'monitor' ? grant.role : null;
      return { central, role };
    },
    maskedErrors: { maskError: (error) => (error instanceof GraphQLError ? formatClientError(error, production, options.logError) : toClientError(error, options.logError, 'central')) },
  });

  const http = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/health' && req.method === 'GET') {
      void Promise.all([central.boxes(), central.alarms(true)]).then(
        ([boxes, alarms]) => {
          const silent = boxes.filter((b) => b.silent).map((b) => b.id);
          const status = silent.length || alarms.length ? 'warn' : 'pass';
          res.writeHead(200, { 'content-type': 'application/health+json' });
          res.end(JSON.stringify({ status, boxes: boxes.length, silent, alarms: alarms.map((a) => a.code) }));
        },
        () => {
          res.writeHead(503, { 'content-type': 'application/health+json' });
          res.end(JSON.stringify({ status: 'fail' }));
        },
      );
      return;
    }
    if (req.method !== 'POST') return yoga(req, res);
    readBody(req).then(
      (body) => {
        if (!Buffer.isBuffer(body)) return writeRefusal(res, body);
        const refusal = checkJsonBody(req.headers['content-type'], body);
        if (refusal) return writeRefusal(res, refusal);
        (req as IncomingMessage & { body?: Uint8Array }).body = body;
        return yoga(req, res);
      },
      () => writeRefusal(res, BAD_REQUEST),
    );
  });

  return {
    listen: (port: number, host = '127.0.0.1') =>
      new Promise<{ url: string }>((resolve, reject) => {
        http.once('error', reject);
        http.listen(port, host, () => {
          http.off('error', reject);
          const address = http.address() as AddressInfo;
          resolve({ url: `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}/graphql` });
        });
      }),
    async close() {
      http.closeAllConnections();
      await new Promise<void>((resolve) => (http.listening ? http.close(() => resolve()) : resolve()));
      await yoga.dispose?.();
    },
  };
}
