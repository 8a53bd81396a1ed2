import {
  GraphQLError,
  Kind,
  Lexer,
  Source,
  TokenKind,
  getNamedType,
  getNullableType,
  isListType,
  isObjectType,
  isInterfaceType,
  type ASTVisitor,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLNamedType,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { MAX_PAGE } from './pagination.js';

/**
 * Limits both servers apply, so that one request cannot multiply work or guesses: a bounded number
 * of tokens (checked before parsing), bounded depth, aliases and static cost, and at most one panel
 * input per document (a PIN or birth date cannot be tried several times through aliases or
 * fragments). Every refusal carries the stable code QUERY_TOO_COMPLEX.
 */

export const MAX_DEPTH = 10;
export const MAX_ALIASES = 20;
/** Introspection (off in production) may go deeper: GraphiQL's own query is up to 15 fields deep. */
export const MAX_INTROSPECTION_DEPTH = 16;
/** Lexical tokens per document (punctuation, names, values; comments do not count). */
export const MAX_TOKENS = 2_000;
/** Budget of the static cost of one operation; see `operationCost`. */
export const MAX_COST = 5_000;
/** What a list field (other than a connection's edges) is assumed to return. */
export const LIST_FACTOR = 10;
/** A connection's page when `first` is not given (as `pageSize` in pagination.ts). */
export const DEFAULT_PAGE = 20;
/** Mutations a citizen's guess goes through; only one of them per request. */
export const PANEL_INPUTS = new Set(['enterPhone', 'enterPin', 'chooseFactor', 'enterBirthDate', 'enterRoom']);

export const limitError = (message: string) => new GraphQLError(message, { extensions: { code: 'QUERY_TOO_COMPLEX' } });

/**
 * Counts the lexical tokens of `source` without parsing it and refuses more than MAX_TOKENS.
 * Servers call it before they parse, so a huge document costs a linear scan and nothing else.
 * A source the lexer cannot read is left to the parser, which reports the syntax error.
 */
export function checkTokens(source: string | { body: string }): GraphQLError | null {
  const lexer = new Lexer(typeof source === 'string' ? new Source(source) : new Source(source.body));
  let count = 0;
  try {
    while (lexer.advance().kind !== TokenKind.EOF) {
      if (++count > MAX_TOKENS) return limitError(`a document may have at most ${MAX_TOKENS} tokens`);
    }
  } catch {
    return null;
  }
  return null;
}

/**
 * Depth in fields. With `introspection` given, `__schema` and `__type` count as one field here and
 * their own depth is collected there: the schema's own types are shallow, but the introspection
 * types recurse (`ofType`), and GraphiQL's introspection query needs up to 15 levels.
 */
function depthOf(set: SelectionSetNode | undefined, fragments: Map<string, FragmentDefinitionNode>, seen: Set<string>, introspection: number[] | null = null): number {
  if (!set) return 0;
  let max = 0;
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) {
      if (introspection && (selection.name.value === '__schema' || selection.name.value === '__type')) {
        introspection.push(1 + depthOf(selection.selectionSet, fragments, seen));
        max = Math.max(max, 1);
      } else max = Math.max(max, selection.selectionSet ? 1 + depthOf(selection.selectionSet, fragments, seen, introspection) : 1);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) max = Math.max(max, depthOf(selection.selectionSet, fragments, seen, introspection));
    else {
      const name = selection.name.value;
      const fragment = fragments.get(name);
      if (!fragment || seen.has(name)) continue;
      max = Math.max(max, depthOf(fragment.selectionSet, fragments, new Set([...seen, name]), introspection));
    }
  }
  return max;
}

/**
 * Refuses operations nested deeper than MAX_DEPTH fields, and introspection (development only:
 * production refuses it altogether) deeper than MAX_INTROSPECTION_DEPTH.
 */
export const depthLimitRule: ValidationRule = (context: ValidationContext): ASTVisitor => ({
  OperationDefinition(node) {
    const fragments = new Map(
      context.getDocument().definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]),
    );
    const introspection: number[] = [];
    if (depthOf(node.selectionSet, fragments, new Set(), introspection) > MAX_DEPTH) context.reportError(limitError(`operations may nest at most ${MAX_DEPTH} fields deep`));
    if (Math.max(0, ...introspection) > MAX_INTROSPECTION_DEPTH) {
      context.reportError(limitError(`introspection may nest at most ${MAX_INTROSPECTION_DEPTH} fields deep`));
    }
  },
});

/** Refuses documents with more than MAX_ALIASES aliases, and more than one panel input. */
export const aliasAndAttemptRule: ValidationRule = (context: ValidationContext): ASTVisitor => {
  let aliases = 0;
  let panelInputs = 0;
  return {
    Field(node) {
      if (node.alias) aliases++;
      if (context.getParentType()?.name === 'Mutation' && PANEL_INPUTS.has(node.name.value)) panelInputs++;
    },
    Document: {
      leave() {
        if (aliases > MAX_ALIASES) context.reportError(limitError(`a request may use at most ${MAX_ALIASES} aliases`));
        if (panelInputs > 1) context.reportError(limitError('a request may carry only one panel input (phone, PIN, factor or birth date)'));
      },
    },
  };
};

const isConnectionType = (type: GraphQLNamedType): boolean => type.name.endsWith('Connection');

/** The page size a field asks for: a literal `first`/`last`, MAX_PAGE for a variable, else `fallback`. */
function pageArgument(node: FieldNode, fallback: number): number {
  const arg = node.arguments?.find((a) => a.name.value === 'first' || a.name.value === 'last');
  if (!arg) return fallback;
  if (arg.value.kind === Kind.INT) return Math.max(0, Number(arg.value.value));
  // A variable (or anything else): its value is not known at validation, so assume the largest page.
  return MAX_PAGE;
}

/**
 * The static cost of a selection set: every field costs 1; the fields under a list are counted
 * LIST_FACTOR times (or `first`/`last` times when given); under a connection, its `edges` are
 * counted `first` times (DEFAULT_PAGE when absent, MAX_PAGE when a variable). Fragments are expanded
 * (a fragment cycle is reported by the standard rules and counted once here). Introspection
 * (`__schema`, `__type`) counts 1: it is refused in production, and the depth limit bounds it.
 */
function selectionCost(
  schema: GraphQLSchema,
  set: SelectionSetNode,
  parent: GraphQLNamedType | undefined,
  fragments: Map<string, FragmentDefinitionNode>,
  seen: ReadonlySet<string>,
  page: number | null,
): number {
  let cost = 0;
  for (const selection of set.selections) {
    if (selection.kind === Kind.INLINE_FRAGMENT) {
      const on = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
      cost += selectionCost(schema, selection.selectionSet, on ?? parent, fragments, seen, page);
      continue;
    }
    if (selection.kind === Kind.FRAGMENT_SPREAD) {
      const name = selection.name.value;
      const fragment = fragments.get(name);
      if (!fragment || seen.has(name)) continue;
      const on = schema.getType(fragment.typeCondition.name.value) ?? parent;
      cost += selectionCost(schema, fragment.selectionSet, on, fragments, new Set([...seen, name]), page);
      continue;
    }
    const name = selection.name.value;
    cost += 1;
    if (!selection.selectionSet || name.startsWith('__')) continue;
    const field = parent && (isObjectType(parent) || isInterfaceType(parent)) ? parent.getFields()[name] : undefined;
    if (!field) continue; // unknown fields are reported by the standard rules
    const named = getNamedType(field.type);
    const list = isListType(getNullableType(field.type));
    const connection = isConnectionType(named);
    const childPage = connection ? pageArgument(selection, DEFAULT_PAGE) : null;
    const children = selectionCost(schema, selection.selectionSet, named, fragments, seen, childPage);
    let factor = 1;
    if (list) factor = page !== null && name === 'edges' ? page : pageArgument(selection, LIST_FACTOR);
    cost += factor * children;
  }
  return cost;
}

/** The static cost of one operation of `document` (its fragments expanded). */
export function operationCost(schema: GraphQLSchema, document: { definitions: readonly { kind: string }[] }, operation: { selectionSet: SelectionSetNode; operation: string }): number {
  const fragments = new Map(
    document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]),
  );
  const root = operation.operation === 'mutation' ? schema.getMutationType() : operation.operation === 'subscription' ? schema.getSubscriptionType() : schema.getQueryType();
  return selectionCost(schema, operation.selectionSet, root ?? undefined, fragments, new Set(), null);
}

/** Refuses operations whose static cost is above MAX_COST. */
export const costLimitRule: ValidationRule = (context: ValidationContext): ASTVisitor => ({
  OperationDefinition(node) {
    const cost = operationCost(context.getSchema(), context.getDocument(), node);
    if (cost > MAX_COST) context.reportError(limitError(`the operation costs ${cost}, more than the budget of ${MAX_COST}`));
  },
});

/** The extra rules, in the order servers add them. */
export const LIMIT_RULES: readonly ValidationRule[] = [depthLimitRule, aliasAndAttemptRule, costLimitRule];
