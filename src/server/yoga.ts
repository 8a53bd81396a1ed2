import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GraphQLError, NoSchemaIntrospectionCustomRule, execute, specifiedRules, subscribe, validate, type ExecutionResult, type ValidationRule } from 'graphql';
import { createYoga, type Plugin } from 'graphql-yoga';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { healthOf } from '../../schema/box.js';
import { formatClientError, toClientError } from '../../schema/errors.js';
import { buildSchema } from '../../schema/index.js';
import { LIMIT_RULES, checkTokens } from '../../schema/limits.js';
import type { Box } from '../box.js';
import { authorizationFromPayload, TokenAuthenticator } from './auth.js';
import { BAD_REQUEST, MAX_BODY_BYTES, checkJsonBody, readBody, writeRefusal } from './guard.js';
import { checkOptions, type GraphQLServer, type ServerOptions } from './options.js';
import { createPages } from './pages.js';
import { BrowserSessions, SESSION_PATH } from './browser-sessions.js';

export const GRAPHQL_PATH = '/graphql';

/** Refuses documents over the token limit before Yoga parses them, and adds `rules` to the standard validation. */
const extraValidation = (rules: readonly ValidationRule[], production: boolean): Plugin => ({
  onParse({ params }) {
    const tooMany = checkTokens(params.source);
    if (tooMany) throw tooMany;
  },
  onValidate({ addValidationRule }) {
    for (const rule of rules) addValidationRule(rule);
    // Yoga does not pass validation errors through maskError; strip suggestions here.
    return ({ valid, result, setResult }) => {
      if (!valid && production) setResult(result.map((e) => formatClientError(e, true)));
    };
  },
});

/** Writes the box health as JSON; 503 while a critical alarm is open. */
export function writeHealth(box: Box, res: ServerResponse): void {
  const health = healthOf(box);
  res.writeHead(health.ok ? 200 : 503, { 'content-type': 'application/json' });
  res.end(JSON.stringify(health));
}

/**
 * The default server: graphql-yoga on node:http at `/graphql` (queries, mutations, SSE
 * subscriptions), graphql-ws over WebSocket on the same path and port, and `/health`.
 */
export function createYogaServer(box: Box, options: ServerOptions): GraphQLServer {
  checkOptions(options, box.config.kiosks);
  const production = options.production ?? false;
  const log = options.logError;
  const schema = buildSchema(log);
  const extraRules = production ? [...LIMIT_RULES, NoSchemaIntrospectionCustomRule] : LIMIT_RULES;
  const auth = new TokenAuthenticator(options.tokens, box.config.kiosks[0]!, options.harness ?? false);

  const yoga = createYoga({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    graphiql: !production,
    landingPage: false,
    batching: false,
    logging: false,
    plugins: [extraValidation(extraRules, production)],
    context: ({ request }) => auth.context(box, request.headers.get('authorization')),
    maskedErrors: {
      maskError: (error) => (error instanceof GraphQLError ? formatClientError(error, production, log) : toClientError(error, log, 'yoga')),
    },
  });

  const pages = createPages({ kiosks: box.config.kiosks, ...(options.pagesDir ? { distDir: options.pagesDir } : {}) });

  const sessions = new BrowserSessions(auth);

  const http = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/health' && req.method === 'GET') return writeHealth(box, res);
    if (req.url?.split('?')[0] === SESSION_PATH) {
      // The pages' sign-in (browser-sessions.ts): the body is read bounded, as for GraphQL.
      const answer = (body: string | undefined) => {
        const page = sessions.handle(req, body)!;
        res.writeHead(page.status, page.headers);
        res.end(page.body);
      };
      if (req.method !== 'POST') return answer(undefined);
      return void readBody(req).then(
        (body) => (Buffer.isBuffer(body) ? answer(body.toString('utf8')) : writeRefusal(res, body)),
        () => writeRefusal(res, BAD_REQUEST),
      );
    }
    const page = pages.handle(req.method, req.url);
    if (page) {
      res.writeHead(page.status, page.headers);
      return res.end(req.method === 'HEAD' ? undefined : page.body);
    }
    if (req.method !== 'POST') return yoga(req, res);
    // The body is read here, bounded, and batches or malformed JSON are refused before Yoga sees
    // them (guard.ts): Yoga's own JSON error would echo the body's parser message to the client.
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

  const wss = new WebSocketServer({ server: http, path: GRAPHQL_PATH, maxPayload: MAX_BODY_BYTES });
  const rules = [...specifiedRules, ...extraRules];
  const formatResult = (result: ExecutionResult): ExecutionResult =>
    result.errors ? { ...result, errors: result.errors.map((e) => formatClientError(e, production, log)) } : result;
  const wsServer = useServer(
    {
      schema,
      validate: (s, document) => validate(s, document, rules),
      execute,
      subscribe,
      // The token limit, before graphql-ws parses the document.
      onSubscribe: (_ctx, _id, payload) => {
        const tooMany = checkTokens(payload.query);
        return tooMany ? [tooMany] : undefined;
      },
      // The token comes in connection_init ({ authorization: 'Bearer …' }), on the upgrade request,
      // or as a page's sign-in cookie (same origin only).
      context: (ctx) =>
        auth.context(
          box,
          authorizationFromPayload(ctx.connectionParams) ?? ctx.extra.request.headers.authorization ?? sessions.authorizationFor(ctx.extra.request.headers, ctx.extra.socket),
        ),
      onNext: (_ctx, _id, _payload, _args, result) => formatResult(result as ExecutionResult),
      onError: (_ctx, _id, _payload, errors) => errors.map((e) => formatClientError(e, production, log)),
    },
    wss,
  );

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
      sessions.clear();
      for (const client of wss.clients) client.terminate();
      await wsServer.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => (http.listening ? http.close(() => resolve()) : resolve()));
      await yoga.dispose?.();
    },
  };
}
