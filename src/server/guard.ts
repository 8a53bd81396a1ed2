import type { IncomingMessage, ServerResponse } from 'node:http';
import { GraphQLError, parse, specifiedRules, validate, type GraphQLSchema, type ValidationRule } from 'graphql';
import { checkTokens } from '../../schema/limits.js';

/**
 * The transport-level guard both servers share: bounded request bodies, no batches, and the
 * document checks (token limit, then the standard and limit validation rules) for paths where a
 * server would otherwise skip them. Refusals carry stable codes in `errors[0].extensions.code`:
 *
 * - `REQUEST_TOO_LARGE` (HTTP 413): the body is over MAX_BODY_BYTES;
 * - `BATCH_NOT_SUPPORTED` (HTTP 400): the body is a JSON array of operations;
 * - `BAD_REQUEST` (HTTP 400): the body is not a GraphQL request at all;
 * - `QUERY_TOO_COMPLEX`: token, depth, alias, cost or panel-input limit (schema/limits.ts).
 */

/** Largest accepted request body (and WebSocket message). */
export const MAX_BODY_BYTES = 64 * 1024;

export interface Refusal {
  status: number;
  code: 'REQUEST_TOO_LARGE' | 'BATCH_NOT_SUPPORTED' | 'BAD_REQUEST';
  message: string;
}

export const TOO_LARGE: Refusal = { status: 413, code: 'REQUEST_TOO_LARGE', message: `a request body may have at most ${MAX_BODY_BYTES} bytes` };
export const BATCH: Refusal = { status: 400, code: 'BATCH_NOT_SUPPORTED', message: 'send one operation per request; batches are not accepted' };
export const BAD_REQUEST: Refusal = { status: 400, code: 'BAD_REQUEST', message: 'the request body is not a GraphQL request' };

/** The JSON body of a refusal, in the GraphQL response shape. */
export const refusalBody = (r: Refusal) => ({ data: null, errors: [{ message: r.message, extensions: { code: r.code } }] });

/** Writes a refusal to a plain node response; the connection closes so an unread body is dropped. */
export function writeRefusal(res: ServerResponse, r: Refusal): void {
  res.writeHead(r.status, { 'content-type': 'application/json; charset=utf-8', connection: 'close' });
  res.end(JSON.stringify(refusalBody(r)));
}

/** A declared body length over the limit (checked before anything is read). */
export function declaredTooLarge(contentLength: string | undefined): boolean {
  if (contentLength === undefined) return false;
  const n = Number(contentLength);
  return !Number.isFinite(n) || n > MAX_BODY_BYTES;
}

/** A parsed or raw body that is a batch: a JSON array (raw: the first non-blank character is `[`). */
export function isBatch(body: unknown): boolean {
  if (Array.isArray(body)) return true;
  if (typeof body === 'string') return /^\s*\[/.test(body);
  if (body instanceof Uint8Array) {
    for (const byte of body) {
      if (byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d || byte === 0xef || byte === 0xbb || byte === 0xbf) continue;
      return byte === 0x5b;
    }
  }
  return false;
}

/**
 * Checks a JSON body the way both servers must: parseable, one operation (not an array), an
 * object. Non-JSON bodies (e.g. `application/graphql`) are left to the server.
 */
export function checkJsonBody(contentType: string | undefined, body: Buffer): Refusal | null {
  if (body.length === 0) return BAD_REQUEST;
  if (!/json/i.test(contentType ?? '')) return isBatch(body) ? BATCH : null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return BAD_REQUEST;
  }
  if (Array.isArray(parsed)) return BATCH;
  if (parsed === null || typeof parsed !== 'object' || Object.keys(parsed).length === 0) return BAD_REQUEST;
  return null;
}

/**
 * Reads a request body up to MAX_BODY_BYTES (chunked bodies too). Resolves the bytes, or a refusal
 * when the body is (declared or turns out) larger; the rest is then not read.
 */
export function readBody(req: IncomingMessage): Promise<Buffer | Refusal> {
  if (declaredTooLarge(req.headers['content-length'])) return Promise.resolve(TOO_LARGE);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        done = true;
        req.off('data', onData);
        req.pause();
        resolve(TOO_LARGE);
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => {
      if (!done) resolve(Buffer.concat(chunks, size));
    });
    req.once('error', (error) => {
      if (!done) reject(error);
    });
  });
}

/**
 * Transport errors a server raised before GraphQL ran (fastify's body limit, body parsing, body
 * schema), as refusals; anything else is null and goes through the normal error formatting.
 */
export function transportRefusal(error: unknown): Refusal | null {
  const e = error as { code?: unknown; statusCode?: unknown; errors?: unknown } | null;
  if (!e || typeof e !== 'object') return null;
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return TOO_LARGE;
  if (typeof e.code === 'string' && e.code.startsWith('FST_ERR_CTP_')) return BAD_REQUEST;
  // mercurius: a body that fails its JSON schema (not a GraphQL request) carries non-GraphQL errors.
  if (e.code === 'MER_ERR_GQL_VALIDATION' && Array.isArray(e.errors) && e.errors.some((i) => !(i instanceof GraphQLError))) return BAD_REQUEST;
  if (e.code === 'FST_ERR_VALIDATION') return BAD_REQUEST;
  return null;
}

/**
 * Checks one document the way HTTP requests are checked, for transports that would skip it
 * (mercurius runs no validation on WebSocket subscriptions): token limit, then parse, then the
 * standard rules plus `rules`. Returns the errors to send, or null.
 */
export function checkDocument(schema: GraphQLSchema, source: string, rules: readonly ValidationRule[]): GraphQLError[] | null {
  const tokens = checkTokens(source);
  if (tokens) return [tokens];
  let document;
  try {
    document = parse(source);
  } catch (error) {
    return [error instanceof GraphQLError ? error : new GraphQLError('Syntax Error', { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })];
  }
  const errors = validate(schema, document, [...specifiedRules, ...rules]);
  return errors.length ? [...errors] : null;
}
