import type { Server as HttpServer, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { subscribe, type ExecutionArgs, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { formatClientError, type ErrorLogger } from '../../schema/errors.js';
import type { Context } from '../../schema/index.js';
import { authorizationFromPayload } from './auth.js';
import { ResponseCache } from './cache.js';
import { SharedSubscriptions, type Member } from './fanout.js';
import { MAX_BODY_BYTES } from './guard.js';
import { GRAPHQL_PATH, formatResult, originAllowed, refuseUntrusted, type CorsOptions, type Documents, type Engine } from './http.js';

/** How long a WebSocket may stay open without `connection_init` before it is closed with 4408. */
export const DEFAULT_WS_INIT_TIMEOUT_MS = 3_000;

export interface WsOptions {
  schema: GraphQLSchema;
  documents: Documents;
  engine: Engine;
  production: boolean;
  log?: ErrorLogger;
  cors?: CorsOptions;
  initTimeoutMs?: number;
  /** the `Authorization` a page's sign-in cookie stands for (same origin only), or null */
  cookieAuthorization?(request: IncomingMessage, socket: { close(code?: number, reason?: string): void }): string | null;
  /** the context of a panel page bound by its kiosk cookie (kiosk-binding.ts), used when no authorization came */
  kioskContext?(request: IncomingMessage): Context | null;
  /** counts a client joining a shared subscription; returns what to call when it leaves (fanout.ts) */
  subscriberJoined?(): () => void;
  /** the context for an `Authorization` value; `null` when a value was given but grants nothing */
  context(authorization: string | undefined): Context | null;
}

/**
 * graphql-ws (`graphql-transport-ws`) on `/graphql`, the same on both servers: queries and
 * mutations through the server's engine, subscriptions through graphql-js. Close codes: 4400 for
 * garbage, 4408 when `connection_init` does not come within `initTimeoutMs`, 4403 for a token
 * that grants nothing, 1009 for a message over MAX_BODY_BYTES; a foreign `Origin` is refused at
 * the upgrade (403), like on HTTP.
 */
export function attachGraphqlWs(http: HttpServer, options: WsOptions): { close(): Promise<void> } {
  const { documents, engine, production, log, schema } = options;
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_BODY_BYTES });
  const refuse = (socket: Duplex, status: string) => {
    socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
  };
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if ((req.url ?? '').split('?')[0] !== GRAPHQL_PATH) return refuse(socket, '404 Not Found');
    if (!originAllowed(req.headers.origin, req.headers.host, options.cors)) return refuse(socket, '403 Forbidden');
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  };
  http.on('upgrade', onUpgrade);

  type Ctx = { connectionParams?: Readonly<Record<string, unknown>>; extra: { request: IncomingMessage; socket: { close(code?: number, reason?: string): void } } };
  // connection_init's payload, else the upgrade's header, else a page's sign-in cookie.
  const authorizationOf = (ctx: Ctx) =>
    authorizationFromPayload(ctx.connectionParams) ?? ctx.extra.request.headers.authorization ?? options.cookieAuthorization?.(ctx.extra.request, ctx.extra.socket) ?? undefined;

  const contextOf = (ctx: Ctx): Context | undefined => {
    const authorization = authorizationOf(ctx);
    return (authorization === undefined ? options.kioskContext?.(ctx.extra.request) : null) ?? options.context(authorization) ?? undefined;
  };

  // Subscribers of the same document, variables and grant share one execution per event (fanout.ts).
  const shared = new SharedSubscriptions((result) => formatResult(result, production, log), options.subscriberJoined);
  const members = new WeakMap<object, Member & { source: string }>();

  const server = useServer(
    {
      schema,
      connectionInitWaitTimeout: options.initTimeoutMs ?? DEFAULT_WS_INIT_TIMEOUT_MS,
      // A token that grants nothing closes the connection (4403); no token at all stays anonymous.
      onConnect: (ctx) => {
        const authorization = authorizationOf(ctx);
        return authorization === undefined || options.context(authorization) !== null;
      },
      onSubscribe: (ctx, _id, payload) => {
        const prepared = documents.get(payload.query);
        if (!prepared.document) return prepared.errors!;
        const contextValue = contextOf(ctx);
        const untrusted = refuseUntrusted(prepared, contextValue, production);
        if (untrusted) return [untrusted];
        const args = {
          schema,
          document: prepared.document,
          variableValues: payload.variables ?? undefined,
          operationName: payload.operationName ?? undefined,
          contextValue,
        };
        const socket = ctx.extra.socket;
        members.set(args, { id: _id, source: payload.query, send: (frame) => socket.readyState === socket.OPEN && socket.send(frame) });
        return args;
      },
      execute: (args) =>
        engine.execute({
          document: args.document,
          source: documents.sourceOf(args.document),
          variables: (args.variableValues ?? undefined) as Record<string, unknown> | undefined,
          operationName: args.operationName ?? undefined,
          context: args.contextValue as Context,
        }),
      subscribe: (args: ExecutionArgs) => {
        const member = members.get(args);
        const context = args.contextValue as Context | undefined;
        if (!member || !context) return subscribe(args);
        const variables = (args.variableValues ?? undefined) as Record<string, unknown> | undefined;
        return shared.join(ResponseCache.key(context, 'subscription', member.source, args.operationName ?? undefined, variables), args, member);
      },
      onNext: (_ctx, _id, _payload, _args, result) => formatResult(result as ExecutionResult, production, log),
      onError: (_ctx, _id, _payload, errors) => errors.map((e) => formatClientError(e, production, log)),
    },
    wss,
  );

  return {
    async close() {
      http.off('upgrade', onUpgrade);
      for (const client of wss.clients) client.terminate();
      await server.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
