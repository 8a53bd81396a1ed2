import * as assert from 'uvu/assert';
import { DomainError, type ErrorCode } from '../../actors/domain/errors.js';

/** The DomainError `fn` throws; fails when it throws nothing or something else. */
export function errorOf(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected a DomainError, nothing was thrown');
}

/** Asserts that `fn` throws a DomainError with `code`, and returns it. */
export function assertCode(fn: () => unknown, code: ErrorCode): DomainError {
  const error = errorOf(fn);
  assert.is(error.code, code, error.message);
  return error;
}

/** The code a promise rejects with (a DomainError's, or a driver/storage error's `code`), or null when it resolves. */
export async function rejectionCode(p: Promise<unknown>): Promise<string | null> {
  try {
    await p;
    return null;
  } catch (error) {
    return error instanceof DomainError ? error.code : String((error as { code?: unknown }).code ?? error);
  }
}
