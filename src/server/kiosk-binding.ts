import { createHmac, timingSafeEqual } from 'node:crypto';
import { DomainError } from '../../actors/domain/errors.js';
import type { Box } from '../box.js';
import type { Context } from '../../schema/index.js';

/**
 * How a panel's browser is bound to its kiosk without any token in the page: loading
 * `/kiosk/<id>` from an address configured for that kiosk (`kioskClients`) sets an HttpOnly,
 * SameSite=Strict cookie scoped to `/graphql`; the page's graphql-ws connection then carries it on
 * the upgrade, and the box grants the kiosk role only when the cookie's MAC is right, the Origin
 * header is the box's own origin and the connecting address is (still) configured for that kiosk.
 * HTTP requests never honour the cookie, so a forged cross-site POST gains nothing.
 */

export const KIOSK_COOKIE = 'ausgabebox_kiosk';

/** kiosk id → client addresses (IPv4 or IPv6, as the socket reports them) allowed to be that panel */
export type KioskClients = Record<string, readonly string[]>;

/** Loopback: the panel's Chromium on the box itself, the usual set-up. */
export const LOOPBACK = ['127.0.0.1', '::1'] as const;

/** Where a WebSocket upgrade or page request came from, as both servers can tell. */
export interface ClientRequest {
  remoteAddress: string | undefined;
  headers: Record<string, string | string[] | undefined>;
}

// "::ffff:127.0.0.1" (IPv4 on a dual-stack socket) is the same client as "127.0.0.1".
const plainAddress = (address: string | undefined): string => (address ?? '').replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
const header = (headers: ClientRequest['headers'], name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
};

export class KioskBinding {
  private readonly secret: Buffer;

  /**
   * `kioskClients` as configured; `secret` keys the cookie's MAC (derived from the box's PIN key,
   * so a panel stays bound across restarts of the box).
   */
  constructor(
    private readonly clients: KioskClients,
    secret: string,
  ) {
    this.secret = createHmac('sha256', secret).update('ausgabebox kiosk binding v1').digest();
  }

  private mac(kioskId: string): string {
    return createHmac('sha256', this.secret).update(kioskId).digest('base64url');
  }

  private allowed(kioskId: string, remoteAddress: string | undefined): boolean {
    const list = this.clients[kioskId];
    return Boolean(list?.some((a) => plainAddress(a) === plainAddress(remoteAddress)));
  }

  /** The Set-Cookie value binding a page request of kiosk `kioskId`, or null when that client is not configured for it. */
  issue(kioskId: string, remoteAddress: string | undefined): string | null {
    if (!this.allowed(kioskId, remoteAddress)) return null;
    return `${KIOSK_COOKIE}=${encodeURIComponent(kioskId)}.${this.mac(kioskId)}; Path=/graphql; HttpOnly; SameSite=Strict`;
  }

  /** The kiosk a WebSocket upgrade is bound to, or null (no or bad cookie, foreign Origin, address not configured). */
  kioskOf(request: ClientRequest): string | null {
    const origin = header(request.headers, 'origin');
    const host = header(request.headers, 'host');
    if (!origin || !host || (origin !== `http://${host}` && origin !== `https://${host}`)) return null;
    const cookie = (header(request.headers, 'cookie') ?? '')
      .split(';')
      .map((part) => part.trim())
      .find((part) => part.startsWith(`${KIOSK_COOKIE}=`));
    if (!cookie) return null;
    const value = cookie.slice(KIOSK_COOKIE.length + 1);
    const dot = value.lastIndexOf('.');
    if (dot <= 0) return null;
    let kioskId: string;
    try {
      kioskId = decodeURIComponent(value.slice(0, dot));
    } catch {
      return null;
    }
    const presented = Buffer.from(value.slice(dot + 1));
    const expected = Buffer.from(this.mac(kioskId));
    if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return null;
    return this.allowed(kioskId, request.remoteAddress) ? kioskId : null;
  }

  /** The context of a cookie-bound panel connection, or null. */
  context(box: Box, request: ClientRequest): Context | null {
    const kioskId = this.kioskOf(request);
    return kioskId ? { box, role: 'kiosk', identity: `kiosk/${kioskId}`, kioskId } : null;
  }
}

/**
 * The configured kiosk clients; without configuration a development box binds its first kiosk to
 * loopback (a panel browser on the box itself), a production box binds none.
 */
export function kioskClientsOf(configured: KioskClients | undefined, kiosks: readonly string[], production: boolean): KioskClients {
  if (configured) {
    for (const id of Object.keys(configured)) if (!kiosks.includes(id)) throw new Error(`kioskClients names kiosk ${id}, which the box does not have`);
    return configured;
  }
  return production ? {} : { [kiosks[0]!]: [...LOOPBACK] };
}

/**
 * The `kioskClients` section of the configuration file: kiosk id → the client addresses whose
 * browser is that panel. Refused with INVALID_CONFIG unless it is exactly that shape.
 */
export function checkKioskClients(section: unknown): KioskClients | undefined {
  if (section === undefined) return undefined;
  const ok =
    typeof section === 'object' &&
    section !== null &&
    !Array.isArray(section) &&
    Object.values(section).every((v) => Array.isArray(v) && v.every((a) => typeof a === 'string' && a.length > 0));
  if (!ok) throw new DomainError('INVALID_CONFIG', 'invalid configuration: kioskClients must map kiosk ids to lists of client addresses, e.g. { "1": ["127.0.0.1"] }');
  return section as KioskClients;
}
