import type { ErrorCode } from '../../actors/domain/errors.js';

/**
 * The box's error catalog codes (actors/domain/errors.ts), as the pages use them: a code the pages
 * name that the catalog renames or drops fails `npm run typecheck`. Only the type comes in, so no
 * catalog text is shipped to the panel.
 */
export type { ErrorCode };

/**
 * The catalog code of a GraphQL error, read where it crosses into the page. The box puts only
 * catalog codes into `extensions.code` (schema/errors.ts masks anything else as INTERNAL) and serves
 * the page from the same build, so the wire's string is taken as an ErrorCode here, once; an error
 * without a code (a connection lost, a transport failure) reads as INTERNAL.
 */
export function errorCodeOf(error: { extensions?: Record<string, unknown> } | undefined): ErrorCode {
  const code = error?.extensions?.code;
  return typeof code === 'string' ? (code as ErrorCode) : 'INTERNAL';
}
