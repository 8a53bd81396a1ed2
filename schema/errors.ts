import { GraphQLError, isObjectType, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import { isDomainError } from '../actors/domain/errors.js';

/** The message every unexpected failure shows to clients; the real error stays in the server log. */
export const UNEXPECTED_MESSAGE = 'Unexpected error';

export type ErrorLogger = (error: unknown, where: string) => void;

/**
 * Turns anything a resolver threw into what a client may see: a DomainError keeps its stable code
 * (`extensions.code`), message and details; a GraphQLError made on purpose passes as it is;
 * everything else becomes `INTERNAL` with a fixed message, so no stack, path or secret leaks.
 */
export function toClientError(error: unknown, log?: ErrorLogger, where = 'resolver'): GraphQLError {
  if (isDomainError(error)) {
    const extensions: Record<string, unknown> = { code: error.code };
    if (error.details !== undefined) extensions.details = error.details;
    return new GraphQLError(error.message, { extensions });
  }
  if (error instanceof GraphQLError && error.originalError == null) return error;
  if (error instanceof GraphQLError && error.originalError) return toClientError(error.originalError, log, where);
  log?.(error, where);
  return new GraphQLError(UNEXPECTED_MESSAGE, { extensions: { code: 'INTERNAL' } });
}

function wrap<S, C, A>(fn: GraphQLFieldResolver<S, C, A>, log: ErrorLogger | undefined, where: string): GraphQLFieldResolver<S, C, A> {
  return (source, args, context, info) => {
    try {
      const result = fn(source, args, context, info) as unknown;
      if (result instanceof Promise) return result.catch((error: unknown) => Promise.reject(toClientError(error, log, where)));
      return result;
    } catch (error) {
      throw toClientError(error, log, where);
    }
  };
}

/**
 * Wraps every resolver and subscriber of `schema` (in place) so that both servers report errors the
 * same way, whatever their own error handling does.
 */
export function withClientErrors(schema: GraphQLSchema, log?: ErrorLogger): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const where = `${type.name}.${field.name}`;
      if (field.resolve) field.resolve = wrap(field.resolve, log, where);
      if (field.subscribe) field.subscribe = wrap(field.subscribe, log, where);
    }
  }
  return schema;
}

/**
 * Final formatting for a transport: masks what slipped through (e.g. errors thrown while a
 * subscription iterates) and, in production, drops graphql-js "Did you mean …" suggestions that
 * would reveal the schema.
 */
export function formatClientError(error: GraphQLError, production: boolean, log?: ErrorLogger): GraphQLError {
  const original = error.originalError;
  let out = error;
  if (original && !(original instanceof GraphQLError && original.originalError == null && original.extensions?.code)) {
    const client = toClientError(original, log, 'execution');
    out = new GraphQLError(client.message, { nodes: error.nodes, path: error.path, extensions: client.extensions });
  }
  if (production && / Did you mean /.test(out.message)) {
    out = new GraphQLError(out.message.replace(/ Did you mean .*$/, ''), { nodes: out.nodes, path: out.path, extensions: out.extensions });
  }
  return out;
}
