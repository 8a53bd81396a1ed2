import { createClient, type Client, type ClientOptions } from 'graphql-ws';

/** { source: id } of the persisted documents, put in by web/build.mjs (src/server/persisted.ts). */
declare const __PERSISTED_DOCUMENTS__: Record<string, string> | undefined;
const PERSISTED: Record<string, string> = typeof __PERSISTED_DOCUMENTS__ === 'undefined' ? {} : __PERSISTED_DOCUMENTS__;

/**
 * The same client, sending an operation the build persisted as its id (`sha256:…`) in place of its
 * text: a production box runs nothing else from a panel.
 */
function withPersistedDocuments(client: Client): Client {
  const subscribe = client.subscribe.bind(client);
  client.subscribe = (payload, sink) => subscribe({ ...payload, query: PERSISTED[payload.query] ?? payload.query }, sink);
  return client;
}

/**
 * One graphql-ws connection to the box that served the page (same origin, path /graphql).
 * Queries, mutations and subscriptions all go over it; it reconnects by itself. `options` adds to or
 * overrides graphql-ws' client options (the panel's retry pacing and connection events).
 */
export function connectToBox(options: Omit<ClientOptions, 'url'> = {}): Client {
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
  return withPersistedDocuments(createClient({ url, lazy: false, retryAttempts: Infinity, ...options }));
}

/** Runs one query or mutation over the connection and resolves with its result. */
export function request<T>(client: Client, query: string, variables?: Record<string, unknown>): Promise<{ data?: T | null; errors?: ReadonlyArray<{ message: string; extensions?: Record<string, unknown> }> }> {
  return new Promise((resolve, reject) => {
    let result: { data?: T | null; errors?: ReadonlyArray<{ message: string; extensions?: Record<string, unknown> }> } = {};
    client.subscribe<T>(
      { query, ...(variables ? { variables } : {}) },
      {
        next: (value) => void (result = value as typeof result),
        error: reject,
        complete: () => resolve(result),
      },
    );
  });
}
