import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { GraphQLError, NoSchemaIntrospectionCustomRule, subscribe, type ExecutionResult, type ValidationRule } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { createYoga, type Plugin } from 'graphql-yoga';
import { formatClientError, toClientError, type ErrorLogger } from '../../schema/errors.js';
import { LIMIT_RULES, checkTokens } from '../../schema/limits.js';
import { authorizationFromPayload, TokenAuthenticator } from '../server/auth.js';
import { BAD_REQUEST, checkJsonBody, MAX_BODY_BYTES, readBody, writeRefusal } from '../server/guard.js';
import { Documents, formatResult } from '../server/http.js';
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
 * The central service's GraphQL server: graphql-yoga at `/graphql` (subscriptions over SSE, and
 * over graphql-ws on the same path), with the box's token roles (integration, monitor), body and
 * query limits; `/health` says whether any box is silent or a central alarm is open.
 */
export function createCentralServer(central: Central, options: CentralServerOptions) {
  const production = options.production ?? false;
  const auth = new TokenAuthenticator({ integration: options.tokens.integration, monitor: options.tokens.monitor }, 'none', false);
  const schema = buildCentralSchema(options.logError);
  const rules = production ? [...LIMIT_RULES, NoSchemaIntrospectionCustomRule] : LIMIT_RULES;
  const contextFor = (authorization: string | null | undefined): CentralContext => {
    const grant = auth.resolve(authorization ?? null);
    const role = grant?.role === 'integration' || grant?.role === 'monitor' ? grant.role : null;
    return { central, role };
  };
  const yoga = createYoga<{}, CentralContext>({
    schema,
    graphqlEndpoint: '/graphql',
    graphiql: !production,
    landingPage: false,
    batching: false,
    logging: false,
    plugins: [limits(rules)],
    context: ({ request }) => contextFor(request.headers.get('authorization')),
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

  // graphql-ws on /graphql: the same schema, roles and limits; subscriptions read the same
  // Redis-backed pub/sub, so a subscriber of this process sees what any central process applied.
  // Token limit, parse and validation (with the box server's error codes), cached per source text.
  const documents = new Documents(schema, rules, production);
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_BODY_BYTES });
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if ((req.url ?? '').split('?')[0] !== '/graphql') return void socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  type WsCtx = { connectionParams?: Readonly<Record<string, unknown>>; extra: { request: IncomingMessage } };
  const authorizationOf = (ctx: WsCtx) => authorizationFromPayload(ctx.connectionParams) ?? ctx.extra.request.headers.authorization;
  const ws = useServer(
    {
      schema,
      connectionInitWaitTimeout: 3_000,
      // A token that grants nothing closes the connection (4403); no token at all stays anonymous.
      onConnect: (ctx) => {
        const authorization = authorizationOf(ctx);
        return authorization === undefined || contextFor(authorization).role !== null;
      },
      onSubscribe: (ctx, _id, payload) => {
        const prepared = documents.get(payload.query);
        if (!prepared.document) return prepared.errors!;
        return { schema, document: prepared.document, variableValues: payload.variables ?? undefined, operationName: payload.operationName ?? undefined, contextValue: contextFor(authorizationOf(ctx)) };
      },
      subscribe: (args) => subscribe(args),
      onNext: (_ctx, _id, _payload, _args, result) => formatResult(result as ExecutionResult, production, options.logError),
      onError: (_ctx, _id, _payload, errors) => errors.map((e) => formatClientError(e, production, options.logError)),
    },
    wss,
  );

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
      for (const client of wss.clients) client.terminate();
      await ws.dispose();
      http.closeAllConnections();
      await new Promise<void>((resolve) => (http.listening ? http.close(() => resolve()) : resolve()));
      await yoga.dispose?.();
    },
  };
}
