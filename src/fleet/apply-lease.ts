import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { sleep, type RedisClient } from './redis.js';

/** Thrown when a lease ran out (its holder was too slow, frozen, or cut off from Redis) before the work was done. */
export class LeaseLost extends Error {
  constructor(key: string) {
    super(`apply lease ${key} ran out before the batch was done`);
  }
}

/** The right to apply one box's events, held by one central process at a time. */
export interface ApplyLease {
  /** Throws LeaseLost unless the lease is still surely held for at least a quarter of its time. */
  assertHeld(): void;
  /** Gives the lease back (only if this holder still has it) and stops renewing it. */
  release(): Promise<void>;
}

const RENEW = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end";
const RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

/**
 * Waits for the lease `key` (`SET NX PX ttlMs` with a token of its own) and renews it every third
 * of its time while it is held. The holder counts the lease as valid only until `ttlMs` after it
 * last *asked* for it (a monotonic clock, so a slow reply or a wall-clock jump only shortens it),
 * and stops writing once less than a quarter is left: a process that freezes or loses Redis stops
 * by itself before the lease can pass to another. A holder that dies frees the lease after `ttlMs`.
 */
export async function acquireLease(redis: RedisClient, key: string, owner: string, options: { ttlMs: number; closed: () => boolean }): Promise<ApplyLease> {
  const { ttlMs } = options;
  const token = `${owner}:${randomUUID()}`;
  let validUntil = 0;
  for (;;) {
    const askedAt = performance.now();
    if ((await redis.set(key, token, { NX: true, PX: ttlMs })) === 'OK') {
      validUntil = askedAt + ttlMs;
      break;
    }
    if (options.closed()) throw new Error('central closing');
    await sleep(Math.max(5, Math.min(25, ttlMs / 20)));
  }
  let lost = false;
  const renew = setInterval(() => {
    const askedAt = performance.now();
    redis.eval(RENEW, { keys: [key], arguments: [token, String(ttlMs)] }).then(
      (renewed) => {
        if (renewed === 1) validUntil = Math.max(validUntil, askedAt + ttlMs);
        else lost = true;
      },
      () => {}, // the lease lapses by itself
    );
  }, Math.max(1, Math.floor(ttlMs / 3)));
  renew.unref();
  return {
    assertHeld() {
      if (lost || performance.now() > validUntil - ttlMs / 4) {
        lost = true;
        throw new LeaseLost(key);
      }
    },
    async release() {
      clearInterval(renew);
      await redis.eval(RELEASE, { keys: [key], arguments: [token] }).catch(() => undefined);
    },
  };
}
