import SchemaBuilder from '@pothos/core';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import ValidationPlugin from '@pothos/plugin-validation';
import { GraphQLError } from 'graphql';
import { DomainError } from '../actors/domain/errors.js';
import type { BoxApi } from '../src/box-api.js';
import { validationError } from './validation.js';

/** The roles a bearer token can grant. `null` means no (valid) token was presented. */
export type Role = 'kiosk' | 'staff' | 'integration' | 'monitor' | 'harness';

/** What every resolver sees: the box, the caller's role, who they are, and (for a panel) which kiosk. */
export interface Context {
  box: BoxApi;
  role: Role | null;
  /** staff name (recorded as `by` in box calls), or the role name for the other roles */
  identity: string | null;
  /** the kiosk a kiosk token belongs to */
  kioskId: string | null;
}

export interface AuthScopes {
  authenticated: boolean;
  kiosk: boolean;
  staff: boolean;
  integration: boolean;
  monitor: boolean;
  harness: boolean;
}

/** The one Pothos builder of the schema; every area file adds its types and fields to it. */
export const builder = new SchemaBuilder<{
  Context: Context;
  AuthScopes: AuthScopes;
  DefaultFieldNullability: false;
  Scalars: {
    DateTime: { Input: number; Output: number };
  };
}>({
  plugins: [ScopeAuthPlugin, ValidationPlugin],
  validation: {
    // Arguments are checked before the resolver; a failure carries its catalog code.
    validationError: (failure) => validationError(failure),
  },
  defaultFieldNullability: false,
  scopeAuth: {
    // Check scopes when a subscription starts, not only per event: a refused client learns at once.
    authorizeOnSubscribe: true,
    // Unknown callers learn they must authenticate; known callers that lack the role are forbidden.
    unauthorizedError: (_parent, context) =>
      context.role === null
        ? new DomainError('UNAUTHENTICATED', 'A valid access token is required')
        : new DomainError('FORBIDDEN', `The role ${context.role} may not do this`),
    authScopes: (context) => ({
      authenticated: context.role !== null,
      kiosk: context.role === 'kiosk',
      staff: context.role === 'staff',
      integration: context.role === 'integration',
      monitor: context.role === 'monitor',
      harness: context.role === 'harness',
    }),
  },
});

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});

builder.scalarType('DateTime', {
  description: 'A point in time, as an ISO 8601 string in UTC.',
  serialize: (ms) => new Date(ms).toISOString(),
  parseValue: (value) => {
    const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
    if (Number.isNaN(ms)) throw new GraphQLError('DateTime must be an ISO 8601 string', { extensions: { code: 'BAD_USER_INPUT' } });
    return ms;
  },
});

/** Scope sets used across the areas. */
export const READERS = { $any: { staff: true, monitor: true, harness: true } } as const;
export const PICKUP_READERS = { $any: { staff: true, integration: true, monitor: true, harness: true } } as const;
