import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { createMercuriusServer, createYogaServer, type ServerOptions } from '../../src/server/index.js';
import { testBox, type TestBox } from '../helpers.js';

/** Tokens of the contract suite; two kiosks so that session ownership can be tested. */
export const TOKENS = {
  kiosk: { '1': 'kiosk-one-token-0000000001', '2': 'kiosk-two-token-0000000002' },
  staff: { anna: 'staff-anna-token-000000003' },
  integration: 'integration-token-00000004',
  monitor: 'monitor-token-0000000000005',
  harness: 'harness-token-0000000000006',
};
export const KIOSK = TOKENS.kiosk['1'];
export const KIOSK_2 = TOKENS.kiosk['2'];
export const STAFF = TOKENS.staff.anna;
export const INTEGRATION = TOKENS.integration;
export const MONITOR = TOKENS.monitor;
export const HARNESS = TOKENS.harness;

export type Engine = 'yoga' | 'mercurius';
export const ENGINES: Engine[] = ['yoga', 'mercurius'];

export interface GqlResult<T = Record<string, any>> {
  status: number;
  data: T | null | undefined;
  errors: Array<{ message: string; extensions?: { code?: string; [k: string]: unknown } }> | undefined;
}

/** A running server on 127.0.0.1 (ephemeral port) over a simulated-clock test box. */
export interface Running extends TestBox {
  url: string;
  wsUrl: string;
  base: string;
  gql<T = Record<string, any>>(query: string, variables?: Record<string, unknown>, token?: string): Promise<GqlResult<T>>;
  /** A graphql-ws client; closed by `close()`. */
  ws(token?: string): Client;
  close(): Promise<void>;
}

/** Starts `engine` over a fresh test box, or over the box `makeBox` gives (e.g. one with a layout on the register-level simulation). */
export async function start(engine: Engine, options: Partial<ServerOptions> = {}, makeBox: () => Promise<TestBox> = () => testBox({ kiosks: ['1', '2'] })): Promise<Running> {
  const t = await makeBox();
  const server = (engine === 'yoga' ? createYogaServer : createMercuriusServer)(t.box, {
    tokens: TOKENS,
    harness: true,
    logError: () => {},
    ...options,
  });
  const { url } = await server.listen(0, '127.0.0.1');
  const clients: Client[] = [];
  return {
    ...t,
    url,
    wsUrl: url.replace(/^http/, 'ws'),
    base: url.replace(/\/graphql$/, ''),
    async gql(query, variables, token) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as { data?: any; errors?: any };
      return { status: res.status, data: body.data, errors: body.errors };
    },
    ws(token) {
      const client = createClient({
        url: url.replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        lazy: false,
        ...(token ? { connectionParams: { authorization: `Bearer ${token}` } } : {}),
      });
      clients.push(client);
      return client;
    },
    async close() {
      for (const c of clients) await c.dispose();
      await server.close();
      await t.box.close();
    },
  };
}

export const codeOf = (r: GqlResult): string | undefined => r.errors?.[0]?.extensions?.code;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Subscribes and collects results until `until` accepts one (or `timeoutMs` passes). Resolves
 * `ready` once the server had time to register the subscription.
 */
export function collect<T = any>(client: Client, query: string, until: (data: T) => boolean, timeoutMs = 3_000, variables?: Record<string, unknown>) {
  const seen: T[] = [];
  const errors: unknown[] = [];
  let stop = () => {};
  const done = new Promise<T[]>((resolve) => {
    const timer = setTimeout(() => {
      stop();
      resolve(seen);
    }, timeoutMs);
    stop = client.subscribe<T>(
      { query, ...(variables ? { variables } : {}) },
      {
        next: (r) => {
          if (r.errors) errors.push(...r.errors);
          if (r.data) {
            seen.push(r.data as T);
            if (until(r.data as T)) {
              clearTimeout(timer);
              stop();
              resolve(seen);
            }
          }
        },
        error: (e) => {
          errors.push(e);
          clearTimeout(timer);
          resolve(seen);
        },
        complete: () => {
          clearTimeout(timer);
          resolve(seen);
        },
      },
    );
  });
  const ready = new Promise<void>((resolve) => {
    client.on('connected', () => setTimeout(resolve, 150));
  });
  return { done, ready, errors };
}

export const REGISTER = `mutation($input: RegisterPickupInput!) { registerPickup(input: $input) { reference status compartmentId } }`;

export const registration = (reference: string, extra: Record<string, unknown> = {}) => ({
  input: { reference, documentKind: 'ID_CARD', phone: '0152 28817386', birthDate: '1980-04-12', oldDocumentNumber: 'L01X00T47', ...extra },
});
