import type { ErrorCode } from '../domain/errors.js';
import type { StoreSnapshot } from '@xstate/store';

/** An actor's address: `kind/id`, e.g. `compartment/A07`, `reader/1`, `session/s-12`. */
export type Address = string;

/** Every message is a plain object discriminated by `type`. */
export interface Message {
  readonly type: string;
  readonly [key: string]: unknown;
}

/**
 * A box's protocol, checked at compile time: for each kind of actor, the addresses it lives at
 * (a literal or a template such as `compartment/${string}`) and the union of messages it takes.
 * The runtime itself knows no actors: without a protocol it takes any address and message.
 */
export type Protocol = Record<string, { readonly address: string; readonly message: Message }>;

/** The protocol of a runtime told nothing about its actors (the runtime's own tests). */
export type AnyProtocol = { any: { address: Address; message: Message } };

/** Every address of a protocol. */
export type AddressIn<P extends Protocol> = P[keyof P]['address'];

/** The messages the actor at address `A` takes (never, for an address outside the protocol). */
export type MessageTo<P extends Protocol, A extends string> = {
  [K in keyof P]: A extends P[K]['address'] ? P[K]['message'] : never;
}[keyof P];

/** A message with an address that takes it: what a handler's `send` effect carries. */
export type Outgoing<P extends Protocol> = {
  [K in keyof P]: { to: P[K]['address']; message: P[K]['message']; aside?: true };
}[keyof P];

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** The messages `A` answers when asked, without the request fields `ask` adds itself. */
export type AskableTo<P extends Protocol, A extends string> = DistributiveOmit<Askable<MessageTo<P, A>>, 'requestId' | 'replyTo'>;

/** The members of a message union that carry request fields (required or optional). */
type Askable<M> = M extends unknown ? ('requestId' extends keyof M ? M : never) : never;

/** A message in flight: what tests and subscriptions see in the trace (never the payload). */
export interface Envelope {
  readonly id: string;
  readonly from: Address;
  readonly to: Address;
  readonly at: number;
  /** id of the message whose handling sent this one; null for messages from outside */
  readonly causation: string | null;
  readonly message: Message;
  /**
   * Sent by an actor to an actor: committed with the sender's state and kept in the store until
   * the receiver commits having handled it, so a crash in between neither loses nor repeats it.
   */
  readonly durable?: boolean;
  /** follows from a person's input at a panel: committed ahead of bulk work (see ActorBehavior.interactive) */
  readonly urgent?: boolean;
  /** sent aside (see the `send` effect): the ask its work belongs to does not follow it */
  readonly aside?: boolean;
}

/** Domain events published to the box's live stream (subscriptions, alarms, monitors). */
export interface BoxEvent {
  readonly type: string;
  readonly at?: number;
  readonly [key: string]: unknown;
}

/** What an audit entry says; the runtime adds time, sequence, actor and hash chain. */
export interface AuditInput {
  readonly action: string;
  readonly actor?: string;
  readonly subject?: string;
  readonly detail?: Record<string, string | number | boolean | null>;
}

/**
 * Effects a pure handler may enqueue (as `enq.emit.<type>(...)`). The runtime runs them only
 * after the new state is committed, in the order they were enqueued.
 */
export type Effect<Io = never> =
  /**
   * `aside`: a note whose fate is no concern of the request that led to it. An ask follows every
   * message its work causes and rejects when one reaches a failed actor; it does not follow an
   * aside (the auth actor counting a wrong PIN on a failed registry must not change the panel's
   * answer to the PIN, or the answer would tell numbers with a pickup from numbers without).
   */
  | { type: 'send'; to: Address; message: Message; aside?: true }
  | { type: 'schedule'; key: string; at: number; message: Message }
  | { type: 'cancel'; key: string }
  | { type: 'io'; op: Io }
  | { type: 'publish'; event: BoxEvent }
  | { type: 'audit'; entry: AuditInput }
  | { type: 'spawn'; address: Address; kind: string; input: unknown }
  | { type: 'stop' };

/** The payload map form of Effect, as @xstate/store wants it for `emit` typing. */
export type EffectPayloads<Io = never> = {
  [E in Effect<Io> as E['type']]: Omit<E, 'type'>;
};

/** A minimal view of an @xstate/store store: the pure transition is all the runtime needs. */
export interface ActorLogic<C> {
  transition(snapshot: StoreSnapshot<C>, event: any): [StoreSnapshot<C>, unknown[]];
}

/** Everything the runtime knows about one kind of actor. */
export interface ActorBehavior<C = any, Io = any> {
  readonly kind: string;
  /** message types this actor handles; others go to dead letters */
  readonly accepts: ReadonlySet<string>;
  /**
   * Checks a message against the actor's message schema: null when it fits, else what is wrong.
   * Messages from outside the actors (the harness) are checked before delivery.
   */
  check?(message: unknown): string[] | null;
  /** context of a freshly spawned actor */
  init(input: unknown, address: Address): C;
  readonly logic: ActorLogic<C>;
  /** Runs an `io` effect. Its resolved messages go back to the same actor; a rejection is a crash. */
  io?(op: Io, ctx: C, self: Address): Promise<Message | Message[] | void>;
  /** Sessions end; their state is not kept once they stop. */
  readonly transient?: boolean;
  /**
   * Its record leaves the store when it stops (a pickup archived: the archive keeps it), so it is
   * not restored at the next start; otherwise a stopped actor stays stored, stopped.
   */
  readonly forgottenWhenStopped?: boolean;
  /**
   * A person at a panel waits for this actor's answers: its commits, and those of batches holding
   * its messages, go to storage ahead of bulk work (registrations, imports) in a transaction of
   * their own, and in another actor's mailbox its messages (and what follows from them) pass the
   * bulk mail of other senders (see Supervisor's passingPoint).
   */
  readonly interactive?: boolean;
  /** top-level context keys holding Records that are persisted row by row (see rows.ts) */
  readonly tables?: readonly string[];
  /**
   * The partition a message concerns (for the registry: the pickup), or null for one that
   * concerns the actor as a whole. A handler crash on a message with a partition counts against
   * that partition's own restart intensity, not the actor's; past it the partition is quarantined
   * (its messages are refused with `partitionCode`, its timers held) and the actor serves the rest.
   * Called with the committed context (or the state the batch had reached); it must not throw
   * (a throw counts as null).
   */
  partitionOf?(ctx: C, message: Message): string | null;
  /** the catalog code a quarantined partition's messages are refused with (default ACTOR_FAILED) */
  readonly partitionCode?: ErrorCode;
  /**
   * The catalog code its messages are refused with once it failed for good (default ACTOR_FAILED):
   * a pickup says PICKUP_FAILED, which the panel and staff understand as "this one pickup".
   */
  readonly failedCode?: ErrorCode;
  /**
   * Mail that asks nothing (no `requestId`), sent while the actor has failed for good, is kept
   * for it, in order (in the store too: it stays unhandled there), and delivered once staff
   * revive it, instead of going back to its sender: for an actor whose messages are facts that
   * nobody can send again (the alarm list: an alarm raised while it had failed would be lost).
   * Requests are refused with ACTOR_FAILED as for any failed actor: somebody waits for them.
   */
  readonly keepsMailWhileFailed?: boolean;
  /**
   * Which of its told messages, refused by an actor failed for good and sent back to it
   * (`delivery.failed`), it answers for itself (`to`: the address that refused it): the ask such a
   * message served is not failed for it (a session tells the panel that the pickup its PIN opened
   * is refused, with its view). Any other refused message fails the ask it served, as always.
   */
  readonly answersBounces?: (to: Address, messageType: string) => boolean;
}

export type ActorStatus = 'active' | 'failed' | 'stopped';

/** A partition of an actor that kept crashing it: refused until it is lifted, kept with the actor's record. */
export interface QuarantinedPartition {
  partition: string;
  /** the code of the last crash */
  code: ErrorCode;
  at: number;
}

/** A timer kept with the committed state so that it survives a process restart. */
export interface PersistedTimer {
  key: string;
  at: number;
  message: Message;
}

/** The committed state of one actor, as persisted. */
export interface ActorRecord<C = unknown> {
  kind: string;
  /** the whole context when loaded; without its tables when stored (their rows are stored apart) */
  ctx: C;
  timers: PersistedTimer[];
  status: ActorStatus;
  /** the context keys stored row by row */
  tables?: readonly string[];
  /** partitions quarantined past their restart intensity (absent: none) */
  quarantined?: QuarantinedPartition[];
}
