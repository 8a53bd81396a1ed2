import { request } from 'node:http';
import type { BoxConfigInput } from '../../src/config.js';
import type { CreateBoxOptions } from '../../src/box.js';
import { createMercuriusServer, createYogaServer, type ServerOptions } from '../../src/server/index.js';
import { testBox, type TestBox } from '../helpers.js';
import { TOKENS, type Engine, type GqlResult } from '../api/support.js';

export { ENGINES, HARNESS, INTEGRATION, KIOSK, KIOSK_2, MONITOR, STAFF, TOKENS, codeOf, type Engine, type GqlResult } from '../api/support.js';

/** A server over real sockets on a simulated-clock box, built the way an attacker meets it. */
export interface Target extends TestBox {
  engine: Engine;
  url: string;
  gql<T = Record<string, any>>(query: string, variables?: Record<string, unknown>, token?: string): Promise<GqlResult<T>>;
  /** POSTs a raw body; answers status and parsed JSON (or the text). */
  post(body: string, token?: string, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

export interface TargetOptions {
  server?: Partial<ServerOptions>;
  config?: BoxConfigInput;
  box?: Omit<CreateBoxOptions, 'clock'>;
}

export async function target(engine: Engine, options: TargetOptions = {}): Promise<Target> {
  const t = await testBox({ kiosks: ['1', '2'], ...options.config }, options.box ?? {});
  const server = (engine === 'yoga' ? createYogaServer : createMercuriusServer)(t.box, {
    tokens: TOKENS,
    harness: false,
    logError: () => {},
    ...options.server,
  });
  const { url } = await server.listen(0, '127.0.0.1');
  const post = async (body: string, token?: string, headers: Record<string, string> = {}) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      body,
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed as any };
  };
  return {
    ...t,
    engine,
    url,
    post,
    async gql(query, variables, token) {
      const { status, body } = await post(JSON.stringify({ query, variables }), token);
      return { status, data: body?.data, errors: body?.errors };
    },
    async close() {
      await server.close();
      await t.box.close();
    },
  };
}

/** Runs `fn` against a fresh target and always closes it. */
export async function using(engine: Engine, fn: (s: Target) => Promise<void>, options: TargetOptions = {}): Promise<void> {
  const s = await target(engine, options);
  try {
    await fn(s);
  } finally {
    await s.close();
  }
}

/** POSTs `size` bytes of a valid JSON request with chunked transfer encoding (no content-length). */
export function postChunked(url: string, size: number, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = request(
      { host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'transfer-encoding': 'chunked' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    const body = JSON.stringify({ query: '{ box { name } }', variables: { padding: 'x'.repeat(size) } });
    for (let i = 0; i < body.length; i += 8_192) req.write(body.slice(i, i + 8_192));
    req.end();
  });
}

export const SESSION = `step error retryAt oldIdPossible compartmentId outcome`;
export const START = `mutation { startSession { id step } }`;
export const PHONE_IN = `mutation($id: ID!, $phone: String!) { enterPhone(sessionId: $id, phone: $phone) { ${SESSION} } }`;
export const PIN_IN = `mutation($id: ID!, $pin: String!) { enterPin(sessionId: $id, pin: $pin) { ${SESSION} } }`;

/** Audit entries with `action` (and `subject`, when given). */
export async function auditCount(t: TestBox, action: string, subject?: string): Promise<number> {
  const all = await t.box.audit(1, 100_000);
  return all.filter((r) => r.action === action && (subject === undefined || r.subject === subject)).length;
}
