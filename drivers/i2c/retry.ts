import type { Clock } from '../../actors/runtime/clock.js';
import { DriverError } from '../ports.js';
import { BUS_FAULT_CODES } from './port.js';

export interface RetryPolicy {
  /** total tries, the first included */
  attempts: number;
  /** wait before the second try; doubles for each further try */
  backoffMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, backoffMs: 10 };

/**
 * Runs `attempt` until it succeeds, retrying bus faults (NACK, timeout, missing board) with
 * exponential backoff on the injected clock. Other errors and the last bus fault propagate.
 * Each try is a fresh transaction, so other boards on the bus get their turn during the backoff.
 * Once `signal` aborts (the bank is closing) the fault in hand propagates without a further try.
 */
export async function withRetries<T>(clock: Clock, policy: RetryPolicy, attempt: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  for (let tryNo = 1; ; tryNo++) {
    try {
      return await attempt();
    } catch (err) {
      const retryable = err instanceof DriverError && BUS_FAULT_CODES.has(err.code);
      if (!retryable || tryNo >= policy.attempts || signal?.aborted) throw err;
      await clock.sleep(policy.backoffMs * 2 ** (tryNo - 1), signal);
    }
  }
}
