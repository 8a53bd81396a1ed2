import { createClient, type RedisClientType } from '@redis/client';

export type RedisClient = RedisClientType<{}, {}, {}, 2, {}>;

/**
 * A Redis client for the fleet channel. Commands fail at once while the connection is down
 * (no offline queue): the caller's own retry loop decides what to do, and nothing piles up in
 * memory. The client reconnects by itself with a capped exponential backoff.
 */
export function fleetClient(url: string, onError: (error: Error) => void = () => {}): RedisClient {
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: { connectTimeout: 2_000, reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 10), 2_000) },
  });
  client.on('error', onError);
  return client;
}

/** Starts connecting without waiting: a box must start and serve while Redis is away. */
export function connectInBackground(client: RedisClient): void {
  client.connect().catch(() => {});
}

/** Creates a consumer group (and the stream) unless it exists. */
export async function ensureGroup(client: RedisClient, stream: string, group: string): Promise<void> {
  try {
    await client.xGroupCreate(stream, group, '0', { MKSTREAM: true });
  } catch (error) {
    if (!/BUSYGROUP/.test(String((error as Error).message))) throw error;
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Exponential backoff with a cap: 0 → base, 1 → 2·base, … */
export const backoff = (attempt: number, baseMs: number, maxMs: number): number => Math.min(baseMs * 2 ** Math.min(attempt, 20), maxMs);
