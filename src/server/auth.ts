import { timingSafeEqual, createHash } from 'node:crypto';
import type { Box } from '../box.js';
import type { Context, Role } from '../../schema/index.js';

/**
 * Bearer tokens from the configuration. `kiosk` is one token for the box's first kiosk, or a map
 * kiosk id → token; `staff` maps each staff identity (recorded as `by`) to a token. A value may be
 * the token itself or, better in a configuration file, `sha256:<hex>` of it (`npm run token:hash`).
 */
export interface TokenConfig {
  kiosk?: string | Record<string, string>;
  staff?: Record<string, string>;
  integration?: string;
  monitor?: string;
  /** only honoured when the server is started with `harness: true` */
  harness?: string;
}

interface Grant {
  digest: Buffer;
  role: Role;
  identity: string;
  kioskId: string | null;
}

// Comparing fixed-length digests keeps the comparison constant-time whatever the token lengths.
const digest = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

/** Resolves `Authorization` headers to contexts; every configured token is compared, in constant time. */
export class TokenAuthenticator {
  private readonly grants: Grant[] = [];

  constructor(tokens: TokenConfig, defaultKiosk: string, harness: boolean) {
    const add = (token: string | undefined, role: Role, identity: string, kioskId: string | null = null) => {
      if (!token) return;
      const hashed = /^sha256:([0-9a-f]{64})$/i.exec(token);
      if (!hashed && token.length < 16) throw new Error(`the ${role} token for ${identity} must be at least 16 characters`);
      this.grants.push({ digest: hashed ? Buffer.from(hashed[1]!, 'hex') : digest(token), role, identity, kioskId });
    };
    if (typeof tokens.kiosk === 'string') add(tokens.kiosk, 'kiosk', `kiosk/${defaultKiosk}`, defaultKiosk);
    else for (const [kioskId, token] of Object.entries(tokens.kiosk ?? {})) add(token, 'kiosk', `kiosk/${kioskId}`, kioskId);
    for (const [name, token] of Object.entries(tokens.staff ?? {})) add(token, 'staff', name);
    add(tokens.integration, 'integration', 'integration');
    add(tokens.monitor, 'monitor', 'monitor');
    if (harness) add(tokens.harness, 'harness', 'harness');
    const seen = new Set<string>();
    for (const g of this.grants) {
      const key = g.digest.toString('hex');
      if (seen.has(key)) throw new Error('two roles share one token');
      seen.add(key);
    }
  }

  /** The grant for a raw `Authorization` value (`Bearer <token>`), or null. */
  resolve(authorization: string | null | undefined): Omit<Grant, 'digest'> | null {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) return null;
    const presented = digest(match[1]!);
    let found: Grant | null = null;
    for (const g of this.grants) if (timingSafeEqual(g.digest, presented) && !found) found = g;
    return found ? { role: found.role, identity: found.identity, kioskId: found.kioskId } : null;
  }

  /** The GraphQL context for one request or WebSocket connection. */
  context(box: Box, authorization: string | null | undefined): Context {
    const grant = this.resolve(authorization);
    return { box, role: grant?.role ?? null, identity: grant?.identity ?? null, kioskId: grant?.kioskId ?? null };
  }
}

/** The `Authorization` value a graphql-ws client sent in its connection_init payload. */
export function authorizationFromPayload(payload: unknown): string | null {
  if (!payload || typeof payload !== 'object') return null;
  const p = payload as Record<string, unknown>;
  const value = p.authorization ?? p.Authorization;
  return typeof value === 'string' ? value : null;
}

/** The form of a token to put into a configuration file: only its SHA-256 is stored. */
export function hashToken(token: string): string {
  return `sha256:${digest(token).toString('hex')}`;
}
