import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorCode } from '../../actors/domain/errors.js';

/**
 * Transport refusals both servers share (http.ts, ws.ts): bounded request bodies, no batches,
 * answers a client sees. Refusals carry stable codes in `errors[0].extensions.code`:
 *
 * - `REQUEST_TOO_LARGE` (HTTP 413): the body is over MAX_BODY_BYTES;
 * - `BATCH_NOT_SUPPORTED` (HTTP 400): the body is a JSON array of operations;
 * - `BAD_REQUEST` (HTTP 400): the request is not a GraphQL request at all;
 * - and the method, media type, origin and accept refusals of http.ts.
 */

/** Largest accepted request body (and WebSocket message). */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * An oversized body is still read (and dropped) up to this size before the 413 goes out: a client
 * that is still sending when the server answers and closes would see a broken pipe, not the 413.
 * Past it the connection is closed right after the answer.
 */
export const DRAIN_LIMIT_BYTES = 16 * 1024 * 1024;

export interface Refusal {
  status: number;
  code: ErrorCode;
  message: string;
  headers?: Record<string, string>;
}

export const refusal = (status: number, code: ErrorCode, message: string): Refusal => ({ status, code, message });

export const TOO_LARGE = refusal(413, 'REQUEST_TOO_LARGE', `a request body may have at most ${MAX_BODY_BYTES} bytes`);
export const BATCH = refusal(400, 'BATCH_NOT_SUPPORTED', 'send one operation per request; batches are not accepted');
export const BAD_REQUEST = refusal(400, 'BAD_REQUEST', 'the request body is not a GraphQL request');

export const isRefusal = (value: unknown): value is Refusal =>
  value !== null && typeof value === 'object' && !Buffer.isBuffer(value) && typeof (value as Refusal).status === 'number' && typeof (value as Refusal).code === 'string';

/** The JSON body of a refusal, in the GraphQL response shape. */
export const refusalBody = (r: Refusal) => ({ errors: [{ message: r.message, extensions: { code: r.code } }] });

/** Writes a refusal (JSON body with its code); a request body not read yet is drained, not left on the socket. */
export function writeRefusal(res: ServerResponse, r: Refusal): void {
  const req = res.req as IncomingMessage | undefined;
  if (req && !req.complete && r.headers?.connection !== 'close') req.resume();
  res.writeHead(r.status, { 'content-type': 'application/json; charset=utf-8', ...r.headers });
  res.end(JSON.stringify(refusalBody(r)));
}

/** A declared body length over the limit (checked before anything is read). */
export function declaredTooLarge(contentLength: string | undefined, limit = MAX_BODY_BYTES): boolean {
  if (contentLength === undefined) return false;
  const n = Number(contentLength);
  return !Number.isFinite(n) || n > limit;
}

/**
 * Reads a request body up to MAX_BODY_BYTES (chunked bodies too). Resolves the bytes, or
 * TOO_LARGE once the rest of an oversized body was drained (up to DRAIN_LIMIT_BYTES; a larger one
 * gets the answer at once and its connection is closed).
 */
export function readBody(req: IncomingMessage): Promise<Buffer | Refusal> {
  if (declaredTooLarge(req.headers['content-length'], DRAIN_LIMIT_BYTES)) return Promise.resolve(closing(TOO_LARGE));
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > DRAIN_LIMIT_BYTES) {
        req.removeAllListeners('data');
        req.pause();
        resolve(closing(TOO_LARGE));
      } else if (size > MAX_BODY_BYTES) {
        over = true;
        chunks.length = 0;
      } else chunks.push(chunk);
    });
    req.once('end', () => resolve(over ? TOO_LARGE : Buffer.concat(chunks, size)));
    req.once('error', () => resolve(BAD_REQUEST));
  });
}

const closing = (r: Refusal): Refusal => ({ ...r, headers: { ...r.headers, connection: 'close' } });

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
 * Checks a JSON body (for servers without the shared front, e.g. the fleet's central API):
 * parseable, one operation (not an array), an object. Non-JSON bodies are left to the server.
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
