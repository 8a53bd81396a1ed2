import {
  getNamedType, getNullableType, isEnumType, isInputObjectType, isListType, isNonNullType, isObjectType, isScalarType, type GraphQLField, type GraphQLInputType,
  type GraphQLObjectType, type GraphQLSchema,
} from 'graphql';
import { isErrorCode } from '../../actors/domain/errors.js';
import { seeded } from '../support/random.js';

/**
 * A schema-driven request fuzzer for both servers (seeded): operations built from the schema's
 * root fields with arguments of the right, wrong or missing types, variables that do not fit,
 * malformed bodies, odd methods, media types and tokens. `checkAnswer` is the contract every
 * answer must keep: no 5xx, a JSON body, every error with a catalog code, and no `INTERNAL`
 * (every request here is a client's doing, never a server fault).
 */

/** The fuzzer's seeded PRNG (test/support/random.ts). */
export const prng = seeded;

export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

const ODD_VALUES: unknown[] = [null, 0, -1, 1.5, 2 ** 53, '', 'x'.repeat(300), '0152 28817386', '1980-04-12', 'V-0001', true, [], {}, ['a'], { a: 1 }, '\u0000', '💥', '{', 'NaN'];

export function createFuzzer(schema: GraphQLSchema, seed: number, tokens: readonly (string | undefined)[]) {
  const random = prng(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const chance = (p: number) => random() < p;

  const literal = (type: GraphQLInputType, depth = 0): string => {
    if (chance(0.15)) return JSON.stringify(pick(ODD_VALUES)) ?? 'null';
    const inner = getNullableType(type) as GraphQLInputType;
    if (isListType(inner)) return `[${literal(inner.ofType as GraphQLInputType, depth + 1)}]`;
    if (isEnumType(inner)) return chance(0.8) ? pick(inner.getValues()).name : 'NOT_A_VALUE';
    if (isInputObjectType(inner)) {
      if (depth > 2) return '{}';
      const fields = Object.values(inner.getFields()).filter((f) => isNonNullType(f.type) || chance(0.5));
      return `{ ${fields.map((f) => `${f.name}: ${literal(f.type, depth + 1)}`).join(' ')} }`;
    }
    if (isScalarType(inner)) {
      switch (inner.name) {
        case 'Int':
          return String(pick([0, 1, 5, 100, -3, 2 ** 31]));
        case 'Float':
          return String(pick([0.5, -1, 1e308]));
        case 'Boolean':
          return pick(['true', 'false']);
        default:
          return JSON.stringify(pick(['A01', '0152 28817386', '482913', '1980-04-12', 'V-FUZZ-1', 'L01X00T47', '2026-11-23T09:00:00.000Z', 'abc', '']));
      }
    }
    return 'null';
  };

  const selection = (type: GraphQLObjectType, depth: number): string => {
    const fields = Object.values(type.getFields());
    const chosen = fields.filter(() => chance(0.4)).slice(0, 6);
    if (!chosen.length) chosen.push(fields[0]!);
    return chosen
      .map((f) => {
        const named = getNamedType(f.type);
        if (isObjectType(named)) return depth > 2 ? '__typename' : `${f.name}${args(f)} { ${selection(named, depth + 1)} }`;
        return `${f.name}${args(f)}`;
      })
      .join(' ');
  };

  const args = (field: GraphQLField<unknown, unknown>): string => {
    const list = field.args.filter((a) => isNonNullType(a.type) || chance(0.3));
    if (chance(0.1)) list.push({ ...field.args[0]!, name: 'notAnArgument' } as never);
    const parts = list.filter(Boolean).map((a) => `${a.name}: ${literal(a.type)}`);
    return parts.length ? `(${parts.join(', ')})` : '';
  };

  const operation = (): { query: string; variables?: unknown } => {
    const kind = pick(['query', 'query', 'mutation', 'subscription'] as const);
    const root = kind === 'query' ? schema.getQueryType() : kind === 'mutation' ? schema.getMutationType() : schema.getSubscriptionType();
    const field = pick(Object.values(root!.getFields()));
    const named = getNamedType(field.type);
    const body = isObjectType(named) ? `${field.name}${args(field)} { ${selection(named, 1)} }` : `${field.name}${args(field)}`;
    if (chance(0.2)) {
      // A variable with a value that may not fit its declared type.
      const declared = pick(['Int!', 'String', 'ID!', '[String!]!', 'Boolean', 'RegisterPickupInput!']);
      return { query: `${kind} Fuzz($v: ${declared}) { ${body} }`, variables: { v: pick(ODD_VALUES) } };
    }
    let query = `${kind} { ${body} }`;
    if (chance(0.05)) query = query.slice(0, Math.floor(random() * query.length)); // truncated document
    return { query };
  };

  return function next(): FuzzRequest {
    const token = pick(tokens);
    const headers: Record<string, string> = { accept: pick(['application/json', 'application/graphql-response+json', '*/*', 'text/plain', 'text/event-stream']) };
    if (token) headers.authorization = chance(0.9) ? `Bearer ${token}` : token;
    const roll = random();
    if (roll < 0.6) {
      headers['content-type'] = chance(0.9) ? 'application/json' : pick(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/graphql']);
      return { method: 'POST', path: '/graphql', headers, body: JSON.stringify(operation()) };
    }
    if (roll < 0.75) {
      const { query, variables } = operation();
      const params = new URLSearchParams({ query });
      if (variables !== undefined) params.set('variables', chance(0.8) ? JSON.stringify(variables) : '{');
      return { method: 'GET', path: `/graphql?${params}`, headers };
    }
    if (roll < 0.9) {
      headers['content-type'] = 'application/json';
      const shaped = pick<unknown>([{ query: 42 }, { query: ['{ box { name } }'] }, { query: true }, {}, { variables: {} }, { query: '{ box { name } }', variables: 'x' }, { query: '{ box { name } }', operationName: 7 }, { query: '{ box { name } }', extensions: [] }, [{ query: '{ box { name } }' }], null, 'text']);
      const text = JSON.stringify(shaped);
      return { method: 'POST', path: '/graphql', headers, body: chance(0.3) ? text.slice(0, Math.max(1, text.length - 2)) : text };
    }
    return { method: pick(['PUT', 'DELETE', 'PATCH', 'OPTIONS', 'GET']), path: pick(['/graphql', '/nothing', '/health', '/graphiql']), headers: { ...headers, origin: pick(['https://evil.example', 'http://127.0.0.1']) } };
  };
}

/** Why an answer breaks the contract, or null. */
export function checkAnswer(status: number, contentType: string, text: string): string | null {
  if (status >= 500) return `status ${status}`;
  if (status === 204 || /text\/(html|event-stream)/.test(contentType)) return null;
  let body: { errors?: Array<{ extensions?: { code?: unknown } }> };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    return `status ${status}: body is not JSON: ${text.slice(0, 80)}`;
  }
  for (const e of body.errors ?? []) {
    const code = e.extensions?.code;
    if (typeof code !== 'string') return `status ${status}: an error without a code: ${JSON.stringify(e).slice(0, 200)}`;
    if (!isErrorCode(code)) return `status ${status}: code ${code} is not in the catalog`;
    if (code === 'INTERNAL') return `status ${status}: INTERNAL for a client mistake: ${JSON.stringify(e).slice(0, 200)}`;
  }
  return null;
}
