import type { ErrorLogger } from '../../schema/errors.js';
import type { TokenConfig } from './auth.js';
import type { CorsOptions } from './http.js';
import type { KioskClients } from './kiosk-binding.js';

/** Options shared by both servers. */
export interface ServerOptions {
  tokens: TokenConfig;
  /** exposes the harness role (message injection, simulated devices, clock) — never in production */
  harness?: boolean;
  /** no introspection, no GraphiQL, no field suggestions */
  production?: boolean;
  /** where unexpected (masked) errors are reported; console.error by default */
  logError?: ErrorLogger;
  /** where the built pages are (web/dist by default) */
  pagesDir?: string;
  /** kiosk id → client addresses whose browser the box binds to that panel by cookie (kiosk-binding.ts) */
  kioskClients?: KioskClients;
  /** browser origins besides the box's own that may call the API; none by default */
  cors?: CorsOptions;
  /** how long a WebSocket may wait before `connection_init` (then 4408); 3 s by default */
  wsInitTimeoutMs?: number;
}

/** A server that is built but not listening; `listen(0)` picks a free port. */
export interface GraphQLServer {
  listen(port: number, host?: string): Promise<{ url: string }>;
  close(): Promise<void>;
}

/** Refuses a harness server in production: simulated devices and clock control are test tools. */
export function checkOptions(options: ServerOptions, kiosks: readonly string[]): void {
  if (options.production && options.harness) throw new Error('the harness cannot be enabled in production mode');
  const kioskTokens = options.tokens.kiosk;
  if (kioskTokens && typeof kioskTokens === 'object') {
    for (const id of Object.keys(kioskTokens)) if (!kiosks.includes(id)) throw new Error(`a kiosk token names kiosk ${id}, which the box does not have`);
  }
}
