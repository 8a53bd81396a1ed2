import { GraphQLError, Kind, type ASTVisitor, type FragmentDefinitionNode, type SelectionSetNode, type ValidationContext, type ValidationRule } from 'graphql';

/**
 * Validation rules both servers add to the standard ones, so that one request cannot multiply
 * work or guesses: bounded depth and aliases, and at most one panel input per document (a PIN or
 * birth date cannot be tried several times through aliases or fragments).
 */

export const MAX_DEPTH = 10;
export const MAX_ALIASES = 20;
/** Mutations a citizen's guess goes through; only one of them per request. */
export const PANEL_INPUTS = new Set(['enterPhone', 'enterPin', 'chooseFactor', 'enterBirthDate']);

const limitError = (message: string) => new GraphQLError(message, { extensions: { code: 'QUERY_TOO_COMPLEX' } });

function depthOf(set: SelectionSetNode | undefined, fragments: Map<string, FragmentDefinitionNode>, seen: Set<string>): number {
  if (!set) return 0;
  let max = 0;
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) max = Math.max(max, selection.selectionSet ? 1 + depthOf(selection.selectionSet, fragments, seen) : 1);
    else if (selection.kind === Kind.INLINE_FRAGMENT) max = Math.max(max, depthOf(selection.selectionSet, fragments, seen));
    else {
      const name = selection.name.value;
      const fragment = fragments.get(name);
      if (!fragment || seen.has(name)) continue;
      max = Math.max(max, depthOf(fragment.selectionSet, fragments, new Set([...seen, name])));
    }
  }
  return max;
}

/** Refuses operations nested deeper than MAX_DEPTH fields. */
export const depthLimitRule: ValidationRule = (context: ValidationContext): ASTVisitor => ({
  OperationDefinition(node) {
    const fragments = new Map(
      context.getDocument().definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]),
    );
    if (depthOf(node.selectionSet, fragments, new Set()) > MAX_DEPTH) context.reportError(limitError(`operations may nest at most ${MAX_DEPTH} fields deep`));
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

/** The extra rules, in the order servers add them. */
export const LIMIT_RULES: readonly ValidationRule[] = [depthLimitRule, aliasAndAttemptRule];
