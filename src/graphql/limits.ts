/**
 * @module graphql/limits — validation rules of our own: read-only operations, a depth limit and a
 * cost (complexity) limit, computed on the document alone so a prepared document can be cached.
 *
 * Cost model: a field costs 1 plus its children times a factor. The factor of a field with a
 * `limit` argument is that limit (a variable counts as the maximum, 1000; absent, the default);
 * of another list of objects it is 10 (agents, cost lines, introspection lists); `items` of a
 * page is 1 (its multiplicity is the page's limit); anything else 1.
 * Depth counts fields, except `__Type.ofType` (type wrappers, bounded by the schema).
 */
import {
  type ASTVisitor,
  type FieldNode,
  GraphQLError,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
  getNamedType,
  getNullableType,
  isCompositeType,
  isListType,
  isObjectType,
  isInterfaceType,
  Kind,
  typeFromAST,
} from 'graphql';
import { ErrorCode } from '../common/errors.ts';
import { MAX_PAGE_LIMIT } from './types.ts';

const LIST_FACTOR = 10;

interface Measure {
  readonly depth: number;
  readonly cost: number;
}

function fieldDef(type: GraphQLNamedType | undefined, name: string): GraphQLField<unknown, unknown> | undefined {
  if (type !== undefined && (isObjectType(type) || isInterfaceType(type))) return type.getFields()[name];
  return undefined;
}

/** How many times a field's children are resolved, by the model in the module header. */
function factorOf(node: FieldNode, def: GraphQLField<unknown, unknown> | undefined): number {
  if (def === undefined) return 1;
  const limitArg = def.args.find((a) => a.name === 'limit');
  if (limitArg !== undefined) {
    const given = node.arguments?.find((a) => a.name.value === 'limit')?.value;
    if (given === undefined) return typeof limitArg.defaultValue === 'number' ? limitArg.defaultValue : MAX_PAGE_LIMIT;
    if (given.kind === Kind.INT) return Math.min(Math.max(Number(given.value), 1), MAX_PAGE_LIMIT);
    return MAX_PAGE_LIMIT;
  }
  if (node.name.value === 'items') return 1;
  return isListType(getNullableType(def.type)) && isCompositeType(getNamedType(def.type)) ? LIST_FACTOR : 1;
}

/** Fragments on the current path (cycle guard) and measured fragments (each is measured once). */
interface Walk {
  readonly path: Set<string>;
  readonly memo: Map<string, Measure>;
}

/**
 * Depth and cost of a selection set under `parent`. Fragments are expanded, each measured once
 * (spreads of spreads must not cost exponential time); a fragment already on the current path is
 * not followed again (the standard NoFragmentCycles rule reports the cycle).
 */
function measure(ctx: ValidationContext, set: SelectionSetNode, parent: GraphQLNamedType | undefined, walk: Walk): Measure {
  let depth = 0;
  let cost = 0;
  for (const sel of set.selections) {
    switch (sel.kind) {
      case Kind.FIELD: {
        const def = fieldDef(parent, sel.name.value);
        let childDepth = 0;
        let childCost = 0;
        if (sel.selectionSet !== undefined) {
          const inner = measure(ctx, sel.selectionSet, def === undefined ? undefined : getNamedType(def.type), walk);
          childDepth = inner.depth;
          childCost = inner.cost;
        }
        // `__Type.ofType` unwraps list/non-null wrappers, bounded by the schema itself: not counted
        // as depth, so the standard introspection query (GraphiQL and friends) passes.
        const level = parent?.name === '__Type' && sel.name.value === 'ofType' ? 0 : 1;
        depth = Math.max(depth, level + childDepth);
        cost += 1 + factorOf(sel, def) * childCost;
        break;
      }
      case Kind.INLINE_FRAGMENT: {
        const cond = sel.typeCondition === undefined ? parent : typeFromAST(ctx.getSchema(), sel.typeCondition);
        const inner = measure(ctx, sel.selectionSet, cond === undefined ? undefined : getNamedType(cond), walk);
        depth = Math.max(depth, inner.depth);
        cost += inner.cost;
        break;
      }
      case Kind.FRAGMENT_SPREAD: {
        const name = sel.name.value;
        const frag = ctx.getFragment(name);
        if (!frag || walk.path.has(name)) break;
        let inner = walk.memo.get(name);
        if (inner === undefined) {
          walk.path.add(name);
          const cond = typeFromAST(ctx.getSchema(), frag.typeCondition);
          inner = measure(ctx, frag.selectionSet, cond === undefined ? undefined : getNamedType(cond), walk);
          walk.path.delete(name);
          walk.memo.set(name, inner);
        }
        depth = Math.max(depth, inner.depth);
        cost += inner.cost;
        break;
      }
      default:
        sel satisfies never;
    }
  }
  return { depth, cost };
}

function rootType(schema: GraphQLSchema, op: OperationDefinitionNode): GraphQLNamedType | undefined {
  return schema.getRootType(op.operation) ?? undefined;
}

const newWalk = (): Walk => ({ path: new Set(), memo: new Map() });

const opName = (op: OperationDefinitionNode): string => (op.name === undefined ? 'The operation' : `Operation "${op.name.value}"`);

/** Refuses mutations and subscriptions: this endpoint is read-only. */
export const readOnlyRule: ValidationRule = (ctx: ValidationContext): ASTVisitor => ({
  OperationDefinition(node) {
    if (node.operation !== 'query') {
      ctx.reportError(
        new GraphQLError(`${opName(node)} is a ${node.operation}; this endpoint is read-only (queries only).`, {
          nodes: node,
          extensions: { code: ErrorCode.graphqlReadOnly },
        }),
      );
    }
  },
});

/** Refuses operations whose fields nest deeper than `max`. */
export function depthLimitRule(max: number): ValidationRule {
  return (ctx: ValidationContext): ASTVisitor => ({
    OperationDefinition(node) {
      const { depth } = measure(ctx, node.selectionSet, rootType(ctx.getSchema(), node), newWalk());
      if (depth > max) {
        ctx.reportError(
          new GraphQLError(`${opName(node)} nests fields ${depth} deep; at most ${max} levels are allowed.`, {
            nodes: node,
            extensions: { code: ErrorCode.graphqlDepthLimit, depth, max },
          }),
        );
      }
      return false;
    },
  });
}

/** Refuses operations whose estimated cost passes `max` (model in the module header). */
export function complexityLimitRule(max: number): ValidationRule {
  return (ctx: ValidationContext): ASTVisitor => ({
    OperationDefinition(node) {
      const { cost } = measure(ctx, node.selectionSet, rootType(ctx.getSchema(), node), newWalk());
      if (cost > max) {
        ctx.reportError(
          new GraphQLError(`${opName(node)} has an estimated cost of ${cost}; at most ${max} is allowed (lower the \`limit\` arguments or select fewer fields).`, {
            nodes: node,
            extensions: { code: ErrorCode.graphqlComplexityLimit, cost, max },
          }),
        );
      }
      return false;
    },
  });
}
