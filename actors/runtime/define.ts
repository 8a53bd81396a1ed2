import { createStore, type EnqueueObject, type Store } from '@xstate/store';
import type { z } from 'zod';
import type { ErrorCode } from '../domain/errors.js';
import type { ActorBehavior, Address, AnyProtocol, Effect, Message, Outgoing } from './types.js';

/** The loose form of a `send` effect: any address, any message (a runtime without a protocol). */
export type AnyOutgoing = Outgoing<AnyProtocol>;

/**
 * What a handler gets to enqueue effects with: `enq.emit.send({ to, message })` and friends.
 * `send` takes only pairs of `Out`: with the box's protocol (actors/protocol.ts), a message the
 * recipient does not take, or a message type renamed on one side only, does not compile.
 */
export type Enqueue<C extends Record<string, any>, Io, Out = AnyOutgoing> = Omit<EnqueueObject<C, Effect<Io>, any>, 'emit'> & {
  emit: Omit<EnqueueObject<C, Effect<Io>, any>['emit'], 'send'> & { send(effect: Out): void };
};

/** The runtime stamps every event with the time it is handled, so handlers need no clock. */
export interface Stamp {
  readonly now: number;
  /**
   * The actor's quarantined partitions (see ActorSpec.partitionOf), absent when there are none: a
   * handler of a message without a partition (a lookup across partitions) leaves them alone.
   */
  readonly quarantined?: ReadonlySet<string>;
}

export type Handlers<C extends Record<string, any>, E extends Message, Io, Out = AnyOutgoing> = {
  [K in E['type']]?: (ctx: C, event: Extract<E, { type: K }> & Stamp, enq: Enqueue<C, Io, Out>) => C | void;
};

export interface ActorSpec<C extends Record<string, any>, E extends Message, Io, Out = AnyOutgoing> {
  kind: string;
  /** the runtime schema of the actor's messages (its event union is inferred from it) */
  messages?: z.ZodType<E>;
  init: (input: any, address: Address) => C;
  on: Handlers<C, E, Io, Out>;
  /** performs an `io` effect; what it resolves with goes back to the actor itself, so it is one of its own messages */
  io?: (op: Io, ctx: C, self: Address) => Promise<E | E[] | void>;
  transient?: boolean;
  /** its record leaves the store when it stops (see ActorBehavior.forgottenWhenStopped) */
  forgottenWhenStopped?: boolean;
  /** a person at a panel waits for its answers: its commits go first (see ActorBehavior) */
  interactive?: boolean;
  /** context keys holding Records persisted row by row (large, mostly unchanged per message) */
  tables?: ReadonlyArray<keyof C & string>;
  /** the partition (e.g. the pickup) a message concerns: its crashes fail it alone (see ActorBehavior.partitionOf) */
  partitionOf?: (ctx: C, message: E) => string | null;
  /** the code a quarantined partition's messages are refused with */
  partitionCode?: ErrorCode;
  /** the code its messages are refused with once it failed for good (see ActorBehavior.failedCode) */
  failedCode?: ErrorCode;
  /** mail that asks nothing is kept while the actor has failed for good (see ActorBehavior.keepsMailWhileFailed) */
  keepsMailWhileFailed?: boolean;
  /** the told messages it answers for when an actor failed for good sends them back (see ActorBehavior.answersBounces) */
  answersBounces?: (to: Address, messageType: string) => boolean;
}

export interface DefinedActor<C extends Record<string, any>, E extends Message, Io> extends ActorBehavior<C, Io> {
  /** The @xstate/store store holding the pure handlers; `store.transition(snapshot, event)` tests them. */
  readonly store: Store<C, any, Effect<Io>>;
  /** A snapshot around a context, for `store.transition` in tests. */
  snapshot(ctx: C): { status: 'active'; output: undefined; error: undefined; context: C };
  /** Runs one event through the pure handler: the next context and the effects it enqueued. */
  step(ctx: C, event: E & Partial<Stamp>): { ctx: C; effects: Effect<Io>[] };
}

/**
 * Defines one kind of actor: an @xstate/store store whose handlers are pure (next context plus
 * enqueued effects) and an optional `io` that performs the effects that touch the world.
 */
export function defineActor<C extends Record<string, any>, E extends Message, Io = never, Out = AnyOutgoing>(
  spec: ActorSpec<C, E, Io, Out>,
): DefinedActor<C, E, Io> {
  const store = createStore({ context: {} as C, on: spec.on as any }) as unknown as Store<C, any, Effect<Io>>;
  const snapshot = (ctx: C) => ({ status: 'active' as const, output: undefined, error: undefined, context: ctx });
  return {
    kind: spec.kind,
    accepts: new Set(Object.keys(spec.on)),
    check: spec.messages ? checkWith(spec.messages) : undefined,
    init: spec.init,
    logic: store as never,
    io: spec.io,
    transient: spec.transient,
    forgottenWhenStopped: spec.forgottenWhenStopped,
    interactive: spec.interactive,
    tables: spec.tables,
    partitionOf: spec.partitionOf as ((ctx: C, message: Message) => string | null) | undefined,
    partitionCode: spec.partitionCode,
    failedCode: spec.failedCode,
    keepsMailWhileFailed: spec.keepsMailWhileFailed,
    answersBounces: spec.answersBounces,
    store,
    snapshot,
    step(ctx, event) {
      const [next, effects] = store.transition(snapshot(ctx) as never, { now: 0, ...event } as never);
      return { ctx: next.context as C, effects: effects.filter((e) => typeof e !== 'function') as Effect<Io>[] };
    },
  };
}

/** A message check from a zod schema: the issues as `path: message` lines. */
function checkWith(schema: z.ZodType): (message: unknown) => string[] | null {
  return (message) => {
    const result = schema.safeParse(message);
    if (result.success) return null;
    return result.error.issues.map((i) => `${i.path.length ? i.path.join('.') : 'message'}: ${i.message}`);
  };
}
