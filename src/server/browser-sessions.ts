import { randomBytes } from 'node:crypto';
import type { Role } from '../../schema/index.js';
import type { TokenAuthenticator } from './auth.js';
import type { PageResponse } from './pages.js';

/**
 * Sign-in for the box's own pages (staff console, monitor). The page sends the credential once,
 * `POST /graphql/session {"token": …}`; the box keeps it in memory and hands the browser an opaque
 * session id as a cookie that scripts cannot read (HttpOnly), that no other site's page makes the
 * browser send (SameSite=Strict), and that only goes to `/graphql` (Path). The token is never in a
 * URL, the page source or the page's storage. `DELETE /graphql/session` forgets it on both sides
 * and closes the WebSocket connections it opened.
 *
 * The cookie only authenticates graphql-ws upgrades whose Origin is the box itself; plain HTTP
 * GraphQL requests keep needing an `Authorization` header, so a forged form post carries nothing.
 */
export const SESSION_PATH = '/graphql/session';
export const SESSION_COOKIE = 'ausgabebox_session';
/** Roles that may sign in to a page: staff (console) and monitor (read-only). */
const PAGE_ROLES: readonly Role[] = ['staff', 'monitor'];
const IDLE_MS = 12 * 60 * 60 * 1000;

export interface RequestHead {
  method?: string | undefined;
  url?: string | undefined;
  headers: Record<string, string | string[] | undefined>;
}

interface Closable {
  close(code?: number, reason?: string): void;
}

interface BrowserSession {
  authorization: string;
  role: Role;
  identity: string;
  lastUsed: number;
  sockets: Set<Closable>;
}

const header = (headers: RequestHead['headers'], name: string): string | undefined => {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/** The value of cookie `name` in a Cookie header. */
export function cookieValue(cookieHeader: string | undefined, name: string): string | null {
  for (const part of (cookieHeader ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/** True when the request says it comes from a page of this very box (Origin host = Host). */
export function sameOrigin(headers: RequestHead['headers']): boolean {
  const origin = header(headers, 'origin');
  const host = header(headers, 'host');
  if (!origin || !host) return false;
  try {
    return new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}

const json = (status: number, body: unknown, extra: Record<string, string> = {}): PageResponse => ({
  status,
  headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...extra },
  body: JSON.stringify(body),
});
const refusal = (status: number, code: string, message: string) => json(status, { errors: [{ message, extensions: { code } }] });

export class BrowserSessions {
  private readonly sessions = new Map<string, BrowserSession>();

  constructor(
    private readonly auth: TokenAuthenticator,
    private readonly now: () => number = Date.now,
  ) {}

  /** Answers `/graphql/session` (GET: who is signed in, POST: sign in, DELETE: sign out); null for other URLs. */
  handle(req: RequestHead, body: string | undefined): PageResponse | null {
    const path = (req.url ?? '').split('?')[0];
    if (path !== SESSION_PATH) return null;
    // Changes must come from the box's own page (browsers always send Origin with POST and
    // DELETE). A same-origin GET carries no Origin; a cross-site one gets no SameSite=Strict
    // cookie, and one that names a foreign origin is refused outright.
    const origin = header(req.headers, 'origin');
    if (req.method === 'GET' ? origin !== undefined && !sameOrigin(req.headers) : !sameOrigin(req.headers)) {
      return refusal(403, 'FORBIDDEN', 'sign-in is only possible from the box\'s own pages');
    }
    const secure = origin?.startsWith('https:') ?? false;
    if (req.method === 'GET') {
      const session = this.lookup(req.headers);
      return session ? json(200, { role: session.role, identity: session.identity }) : refusal(401, 'UNAUTHENTICATED', 'not signed in');
    }
    if (req.method === 'DELETE') {
      const id = cookieValue(header(req.headers, 'cookie'), SESSION_COOKIE);
      if (id) this.forget(id);
      return json(200, { signedOut: true }, { 'set-cookie': this.cookie('', secure, 0) });
    }
    if (req.method !== 'POST') return refusal(405, 'BAD_REQUEST', 'use GET, POST or DELETE');
    // A JSON content type cannot be sent cross-site without a preflight the box never grants.
    if (!/^application\/json\b/i.test(header(req.headers, 'content-type') ?? '')) return refusal(415, 'BAD_REQUEST', 'send {"token": "…"} as application/json');
    let token: unknown;
    try {
      token = (JSON.parse(body ?? '') as { token?: unknown }).token;
    } catch {
      return refusal(400, 'BAD_REQUEST', 'send {"token": "…"} as application/json');
    }
    const grant = typeof token === 'string' && token.length <= 512 ? this.auth.resolve(`Bearer ${token}`) : null;
    if (!grant || !PAGE_ROLES.includes(grant.role)) return refusal(401, 'UNAUTHENTICATED', 'this credential does not open the staff console or the monitor');
    const previous = cookieValue(header(req.headers, 'cookie'), SESSION_COOKIE);
    if (previous) this.forget(previous);
    const id = randomBytes(32).toString('base64url');
    this.sessions.set(id, { authorization: `Bearer ${token as string}`, role: grant.role, identity: grant.identity, lastUsed: this.now(), sockets: new Set() });
    return json(200, { role: grant.role, identity: grant.identity }, { 'set-cookie': this.cookie(id, secure) });
  }

  /**
   * The `Authorization` a graphql-ws upgrade carries by its cookie: only for a request from the
   * box's own origin, and only while the session lives. `socket` is closed when it signs out.
   */
  authorizationFor(headers: RequestHead['headers'], socket?: Closable): string | null {
    if (!sameOrigin(headers)) return null;
    const session = this.lookup(headers);
    if (!session) return null;
    if (socket) session.sockets.add(socket);
    return session.authorization;
  }

  /** Signs every session out (server shutdown). */
  clear(): void {
    for (const id of [...this.sessions.keys()]) this.forget(id);
  }

  private lookup(headers: RequestHead['headers']): BrowserSession | null {
    const id = cookieValue(header(headers, 'cookie'), SESSION_COOKIE);
    const session = id ? this.sessions.get(id) : undefined;
    if (!session) return null;
    if (this.now() - session.lastUsed > IDLE_MS) {
      this.forget(id!);
      return null;
    }
    session.lastUsed = this.now();
    return session;
  }

  private forget(id: string): void {
    const session = this.sessions.get(id);
    if (!session) return;
    this.sessions.delete(id);
    for (const socket of session.sockets) socket.close(4401, 'signed out');
  }

  private cookie(value: string, secure: boolean, maxAge?: number): string {
    return `${SESSION_COOKIE}=${value}; Path=/graphql; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}${maxAge === undefined ? '' : `; Max-Age=${maxAge}`}`;
  }
}
