import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  GraphQLError, getOperationAST, parse, specifiedRules, validate, type DocumentNode, type ExecutionResult, type GraphQLSchema, type OperationTypeNode, type ValidationRule,
} from 'graphql';
import { formatClientError, type ErrorLogger } from '../../schema/errors.js';
import type { Context } from '../../schema/index.js';
import { checkTokens } from '../../schema/limits.js';
import { ResponseCache } from './cache.js';
import { DOCUMENT_ID } from './persisted.js';
import type { Pages } from './pages.js';
import { BAD_REQUEST, BATCH, MAX_BODY_BYTES, TOO_LARGE, isRefusal, readBody, refusal, writeRefusal, type Refusal } from './guard.js';

/**
 * The HTTP side both servers share, so that they behave as one (GraphQL over HTTP, graphql-http's
 * audits): one route table, CORS, CSRF prevention, bounded bodies, request parsing, content
 * negotiation, parse/validate with a document cache, status codes and error codes. The engines
 * (graphql-yoga's envelop pipeline, mercurius with graphql-jit) only execute validated documents.
 *
 * CSRF: a browser sends a cross-site request without a preflight only as GET or as a POST with a
 * form, multipart or text/plain body. POST bodies must be `application/json` (415 otherwise), GET
 * never runs a mutation (405), and a request whose `Origin` is neither the box itself nor a
 * configured origin is refused (403) — so cookie-bound pages of the box cannot be driven from
 * another site, and cross-origin reads need `cors.origins`.
 */

export const GRAPHQL_PATH = '/graphql';
export const GRAPHIQL_PATH = '/graphiql';

/** The media type of GraphQL responses (GraphQL over HTTP); `application/json` for legacy clients. */
const GRAPHQL_RESPONSE = 'application/graphql-response+json';
const JSON_TYPE = 'application/json';

export interface CorsOptions {
  /** origins (`https://host[:port]`) whose pages may call the API from a browser; none by default */
  origins?: readonly string[];
}

export interface ExecuteArgs {
  document: DocumentNode;
  source: string;
  variables: Record<string, unknown> | undefined;
  operationName: string | undefined;
  context: Context;
}

/** What a server plugs into the shared front. */
export interface Engine {
  /** Runs a validated query or mutation. */
  execute(args: ExecuteArgs): Promise<ExecutionResult> | ExecutionResult;
  /** Streams a subscription as Server-Sent Events; absent where the engine does not serve SSE. */
  sse?(req: IncomingMessage & { body?: unknown }, res: ServerResponse): void;
}

export interface FrontOptions {
  documents: Documents;
  production: boolean;
  log?: ErrorLogger;
  cors?: CorsOptions;
  /** the GraphQL context for an `Authorization` value */
  context(authorization: string | undefined): Context;
  engine: Engine;
  /** extra routes (`GET /health` …), matched on method and path before GraphQL */
  routes?: readonly Route[];
  /** the box's own pages and their assets (pages.ts), tried first */
  pages?: Pages;
  /** answers of read-only queries, cleared by the box's committed changes (cache.ts) */
  cache?: ResponseCache;
}

export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  handle(req: IncomingMessage, res: ServerResponse): void | Promise<void>;
}

type Params = { query: string; variables: Record<string, unknown> | undefined; operationName: string | undefined };

export interface Prepared {
  document?: DocumentNode;
  errors?: readonly GraphQLError[];
  /** the client sent a persisted document's id (src/server/persisted.ts), not a query text */
  persisted?: boolean;
}

/**
 * Parsed and validated documents by source text, shared by HTTP and graphql-ws: the token limit,
 * parse, then graphql-js' rules plus `rules`; errors carry their codes. Bounded (oldest out first).
 * A persisted document's id (`sha256:…`) stands for the text the box holds for it.
 */
export class Documents {
  private readonly entries = new Map<string, Prepared>();
  private readonly sources = new WeakMap<DocumentNode, string>();
  private readonly rules: readonly ValidationRule[];

  constructor(
    private readonly schema: GraphQLSchema,
    rules: readonly ValidationRule[],
    private readonly production: boolean,
    private readonly max = 500,
    private readonly persisted: ReadonlyMap<string, string> = new Map(),
  ) {
    this.rules = [...specifiedRules, ...rules];
  }

  get(source: string): Prepared {
    let hit = this.entries.get(source);
    if (!hit) {
      hit = DOCUMENT_ID.test(source) ? this.preparePersisted(source) : this.prepare(source);
      if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(source, hit);
    }
    return hit;
  }

  private preparePersisted(id: string): Prepared {
    const text = this.persisted.get(id);
    if (text === undefined) return { errors: [new GraphQLError(`no persisted document has the id ${id}`, { extensions: { code: 'PERSISTED_DOCUMENT_NOT_FOUND' } })] };
    const prepared = this.prepare(text);
    return prepared.document ? { ...prepared, persisted: true } : prepared;
  }

  private prepare(source: string): Prepared {
    const tooMany = checkTokens(source);
    if (tooMany) return { errors: [tooMany] };
    let document: DocumentNode;
    try {
      document = parse(source);
    } catch (error) {
      const e = error as GraphQLError;
      return { errors: [new GraphQLError(e.message, { source: e.source, positions: e.positions, extensions: { code: 'GRAPHQL_PARSE_FAILED' } })] };
    }
    const errors = validate(this.schema, document, this.rules);
    if (errors.length) {
      const coded = errors.map((e) => (e.extensions?.code ? e : new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })));
      return { errors: coded.map((e) => formatClientError(e, this.production)) };
    }
    this.sources.set(document, source);
    return { document };
  }

  /** The source text a cached document was parsed from. */
  sourceOf(document: DocumentNode): string {
    return this.sources.get(document) ?? '';
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The media type to answer with, `null` when nothing acceptable is asked for, or 'sse'. */
export function negotiate(accept: string | undefined): typeof GRAPHQL_RESPONSE | typeof JSON_TYPE | 'sse' | null {
  if (!accept) return JSON_TYPE;
  const types = accept
    .split(',')
    .map((part) => {
      const [type = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
      const q = params.find((p) => p.startsWith('q='));
      return { type, q: q ? Number(q.slice(2)) : 1 };
    })
    .filter((t) => t.q > 0)
    .sort((a, b) => b.q - a.q);
  for (const { type } of types) {
    if (type === GRAPHQL_RESPONSE) return GRAPHQL_RESPONSE;
    if (type === JSON_TYPE || type === 'application/*' || type === '*/*') return JSON_TYPE;
    if (type === 'text/event-stream') return 'sse';
  }
  return null;
}

/** Whether a browser request from `origin` may use the API: same origin, or configured. */
export function originAllowed(origin: string | undefined, host: string | undefined, cors: CorsOptions | undefined): boolean {
  if (origin === undefined) return true; // not a browser, or a same-origin GET
  if (cors?.origins?.includes(origin)) return true;
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}

const FORBIDDEN_ORIGIN = refusal(403, 'ORIGIN_NOT_ALLOWED', 'requests from this origin are not allowed (configure cors.origins)');
const NOT_ACCEPTABLE = refusal(406, 'NOT_ACCEPTABLE', `accept ${GRAPHQL_RESPONSE} or ${JSON_TYPE}`);
const UNSUPPORTED_MEDIA = refusal(415, 'UNSUPPORTED_MEDIA_TYPE', 'send the request as application/json (form, multipart and text bodies are refused)');
const methodNotAllowed = (allow: string, message = `use ${allow.replace(', OPTIONS', '')}`): Refusal => ({ ...refusal(405, 'METHOD_NOT_ALLOWED', message), headers: { allow } });
const NOT_FOUND = refusal(404, 'NOT_FOUND', 'no such path; the API is at /graphql');

/**
 * Builds the request handler both servers use. It answers every request it is given: the route
 * table, CORS preflights, GraphiQL (when not in production) and GraphQL at `/graphql`.
 */
export function createFront(options: FrontOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { production, log, engine } = options;
  const documents = options.documents;
  const routes = options.routes ?? [];
  // Rendered once, kept as bytes: the page inlines GraphiQL's 9 MB bundle.
  let graphiqlPage: Promise<Buffer> | undefined;

  const cors = (req: IncomingMessage, res: ServerResponse): boolean => {
    const origin = req.headers.origin;
    if (!originAllowed(origin, req.headers.host, options.cors)) {
      writeRefusal(res, FORBIDDEN_ORIGIN);
      return false;
    }
    if (origin !== undefined) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('vary', 'origin');
    }
    return true;
  };

  const preflight = (req: IncomingMessage, res: ServerResponse) => {
    if (!cors(req, res)) return;
    res.writeHead(204, {
      allow: 'GET, POST, OPTIONS',
      'access-control-allow-methods': 'GET, POST',
      'access-control-allow-headers': 'authorization, content-type, accept',
      'access-control-max-age': '600',
    });
    res.end();
  };

  const serveGraphiql = async (res: ServerResponse) => {
    graphiqlPage ??= import('@graphql-yoga/render-graphiql').then(({ renderGraphiQL }) =>
      Buffer.from(renderGraphiQL({ title: 'ausgabebox GraphiQL', endpoint: GRAPHQL_PATH, subscriptionsProtocol: 'WS', headers: '{\n  "Authorization": "Bearer …"\n}' })),
    );
    const html = await graphiqlPage;
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': String(html.length), 'content-security-policy': "default-src 'self' 'unsafe-inline' 'unsafe-eval' blob: data:; connect-src 'self'" });
    res.end(html);
  };

  const writeResult = (res: ServerResponse, type: string, result: ExecutionResult) => {
    const answer = toAnswer(result, type, production, log);
    res.writeHead(answer.status, { 'content-type': answer.type });
    res.end(answer.body);
  };

  const requestErrors = (res: ServerResponse, type: string, errors: readonly GraphQLError[]) => writeResult(res, type, { errors });

  const graphql = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'OPTIONS') return preflight(req, res);
    if (req.method !== 'GET' && req.method !== 'POST') return writeRefusal(res, methodNotAllowed('GET, POST, OPTIONS'));
    if (!cors(req, res)) return;
    const accept = req.headers.accept;
    if (req.method === 'GET' && !production && /text\/html/.test(accept ?? '')) return serveGraphiql(res);

    let raw: Record<string, unknown>;
    let bodyBytes: Buffer | undefined;
    if (req.method === 'POST') {
      const mediaType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (mediaType !== JSON_TYPE) return writeRefusal(res, UNSUPPORTED_MEDIA);
      const body = await readBody(req);
      if (isRefusal(body)) return writeRefusal(res, body);
      bodyBytes = body;
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        return writeRefusal(res, BAD_REQUEST);
      }
      if (Array.isArray(parsed)) return writeRefusal(res, BATCH);
      if (!isObject(parsed)) return writeRefusal(res, BAD_REQUEST);
      raw = parsed;
    } else {
      const search = new URL(req.url ?? '/', 'http://box').searchParams;
      raw = {};
      for (const key of ['query', 'operationName', 'documentId']) if (search.has(key)) raw[key] = search.get(key);
      for (const key of ['variables', 'extensions']) {
        const text = search.get(key);
        if (text === null || text === '') continue;
        try {
          raw[key] = JSON.parse(text);
        } catch {
          return writeRefusal(res, refusal(400, 'BAD_REQUEST', `the ${key} parameter is not valid JSON`));
        }
      }
    }

    const params = checkParams(raw);
    if (isRefusal(params)) return writeRefusal(res, params);
    const type = negotiate(accept);
    if (type === null) return writeRefusal(res, NOT_ACCEPTABLE);

    const prepared = documents.get(params.query);
    const errorType = type === 'sse' ? JSON_TYPE : type;
    if (!prepared.document) return requestErrors(res, errorType, prepared.errors!);
    const operation = getOperationAST(prepared.document, params.operationName);
    if (!operation) {
      const message = params.operationName ? `no operation named "${params.operationName}"` : 'the document has several operations: name one with operationName';
      return requestErrors(res, errorType, [new GraphQLError(message, { extensions: { code: 'BAD_REQUEST' } })]);
    }
    const kind: OperationTypeNode = operation.operation;
    if (req.method === 'GET' && kind !== 'query') return writeRefusal(res, methodNotAllowed('POST', `a ${kind} must be sent with POST`));
    if (kind === 'subscription' || type === 'sse') {
      if (kind === 'subscription' && type === 'sse' && engine.sse) {
        (req as IncomingMessage & { body?: unknown }).body = bodyBytes;
        return engine.sse(req, res);
      }
      return writeRefusal(res, kind === 'subscription' ? SUBSCRIPTION_TRANSPORT(engine) : NOT_ACCEPTABLE);
    }
    const context = options.context(req.headers.authorization);
    const untrusted = refuseUntrusted(prepared, context, production);
    if (untrusted) return requestErrors(res, errorType, [untrusted]);
    const cache = options.cache && ResponseCache.cacheable(operation) ? options.cache : undefined;
    const key = cache ? ResponseCache.key(context, type, params.query, params.operationName, params.variables) : '';
    const hit = cache?.get(key);
    if (hit) {
      res.writeHead(hit.status, { 'content-type': hit.type });
      res.end(hit.body);
      return;
    }
    const generation = cache?.current ?? 0;
    const result = await engine.execute({ document: prepared.document, source: documents.sourceOf(prepared.document), variables: params.variables, operationName: params.operationName, context });
    const answer = toAnswer(result, type, production, log);
    if (cache && !result.errors) cache.set(key, answer, generation);
    res.writeHead(answer.status, { 'content-type': answer.type });
    res.end(answer.body);
  };

  return (req, res) => {
    const page = options.pages?.handle(req.method, req.url, req.socket.remoteAddress);
    if (page) {
      res.writeHead(page.status, page.headers);
      res.end(req.method === 'HEAD' ? undefined : page.body);
      return;
    }
    const path = (req.url ?? '/').split('?')[0]!;
    const route = routes.find((r) => r.path === path && r.method === req.method);
    let done: void | Promise<void>;
    try {
      if (route) done = route.handle(req, res);
      else if (path === GRAPHQL_PATH) done = graphql(req, res);
      else if (path === GRAPHIQL_PATH && req.method === 'GET' && !production) done = serveGraphiql(res);
      else if (routes.some((r) => r.path === path)) done = writeRefusal(res, methodNotAllowed([...new Set(routes.filter((r) => r.path === path).map((r) => r.method))].join(', ')));
      else done = writeRefusal(res, NOT_FOUND);
    } catch (error) {
      done = Promise.reject(error);
    }
    if (done instanceof Promise) {
      done.catch((error: unknown) => {
        log?.(error, 'http');
        if (!res.headersSent) writeRefusal(res, refusal(500, 'INTERNAL', 'Unexpected error'));
        else res.destroy();
      });
    }
  };
}

/**
 * In production the kiosk role runs persisted documents only (its page sends nothing else): any
 * other text from a kiosk is refused, whatever it asks for.
 */
export function refuseUntrusted(prepared: Prepared, context: Context | null | undefined, production: boolean): GraphQLError | null {
  if (!production || context?.role !== 'kiosk' || prepared.persisted) return null;
  return new GraphQLError('a panel runs only the documents its page was built with (send the persisted document id)', { extensions: { code: 'PERSISTED_DOCUMENT_REQUIRED' } });
}

/** Status, media type and body of a result; a result without `data` is a request error (400 for graphql-response+json). */
function toAnswer(result: ExecutionResult, type: string, production: boolean, log?: ErrorLogger): { status: number; type: string; body: string } {
  const requestError = !('data' in result) || result.data === undefined;
  return { status: requestError && type === GRAPHQL_RESPONSE ? 400 : 200, type: `${type}; charset=utf-8`, body: JSON.stringify(formatResult(result, production, log)) };
}

/**
 * A result as clients of both transports see it: errors masked (schema/errors.ts), and request
 * errors without a code (graphql-js' variable coercion) coded `BAD_USER_INPUT`.
 */
export function formatResult(result: ExecutionResult, production: boolean, log?: ErrorLogger): ExecutionResult {
  if (!result.errors) return result;
  const requestError = !('data' in result) || result.data === undefined;
  return {
    ...result,
    errors: result.errors.map((e) => {
      const out = formatClientError(e, production, log);
      return out.extensions?.code || !requestError ? out : new GraphQLError(out.message, { nodes: out.nodes, extensions: { ...out.extensions, code: 'BAD_USER_INPUT' } });
    }),
  };
}

const SUBSCRIPTION_TRANSPORT = (engine: Engine): Refusal =>
  refusal(
    engine.sse ? 406 : 400,
    engine.sse ? 'NOT_ACCEPTABLE' : 'BAD_REQUEST',
    engine.sse ? 'a subscription needs graphql-ws or Accept: text/event-stream' : 'a subscription needs graphql-ws (this server does not stream over HTTP)',
  );

/** The request parameters, checked for their types (GraphQL over HTTP). */
function checkParams(raw: Record<string, unknown>): Params | Refusal {
  const { variables, operationName, extensions, documentId } = raw;
  // A persisted document may come as `documentId` (GraphQL over HTTP's persisted documents) instead of `query`.
  if (documentId !== undefined && documentId !== null && (typeof documentId !== 'string' || !DOCUMENT_ID.test(documentId))) return refusal(400, 'BAD_REQUEST', 'documentId must be "sha256:" and 64 hex digits');
  if (documentId && raw.query !== undefined && raw.query !== null && raw.query !== documentId) return refusal(400, 'BAD_REQUEST', 'send either query or documentId');
  const query = documentId ?? raw.query;
  if (typeof query !== 'string' || query.trim() === '') return refusal(400, 'BAD_REQUEST', query === undefined || query === null ? 'the request has no query' : 'query must be a non-empty string');
  if (variables !== undefined && variables !== null && !isObject(variables)) return refusal(400, 'BAD_REQUEST', 'variables must be an object');
  if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') return refusal(400, 'BAD_REQUEST', 'operationName must be a string');
  if (extensions !== undefined && extensions !== null && !isObject(extensions)) return refusal(400, 'BAD_REQUEST', 'extensions must be an object');
  return { query, variables: (variables ?? undefined) as Record<string, unknown> | undefined, operationName: (operationName ?? undefined) as string | undefined };
}

export { MAX_BODY_BYTES, TOO_LARGE };
