import { DomainError, type ErrorCode } from '../domain/errors.js';
import type { Clock, TimerHandle } from './clock.js';
import type { Address, Envelope } from './types.js';

/** The address replies to asks are sent to; the supervisor mounts it. */
export const REPLIES = 'replies';

/** What a message sent with `ask` carries: where and under which id the answer is expected. */
export interface Request {
  readonly requestId: string;
  /** answers go to the supervisor's replies endpoint, nowhere else */
  readonly replyTo: typeof REPLIES;
}

/** The answer to a request. An actor sends it after the state it reports is committed. */
export type Reply =
  | { readonly type: 'reply'; readonly requestId: string; readonly ok: true; readonly value: unknown }
  | {
      readonly type: 'reply';
      readonly requestId: string;
      readonly ok: false;
      readonly code: ErrorCode;
      readonly message?: string;
      readonly details?: Record<string, unknown>;
    };

/** The request a message carries, if it was sent with `ask`. */
export function requestOf(message: Partial<Request>): Request | null {
  return message.requestId && message.replyTo ? { requestId: message.requestId, replyTo: message.replyTo } : null;
}

/** The `send` effect that answers `request` with `value`. */
export const answer = (request: Request, value: unknown) => ({
  to: request.replyTo,
  message: { type: 'reply', requestId: request.requestId, ok: true, value } satisfies Reply,
});

/** The `send` effect that answers `request` with a catalog error. */
export const refuse = (request: Request, code: ErrorCode, message?: string, details?: Record<string, unknown>) => ({
  to: request.replyTo,
  message: { type: 'reply', requestId: request.requestId, ok: false, code, ...(message ? { message } : {}), ...(details ? { details } : {}) } satisfies Reply,
});

/** Why a message was not handled, as the supervisor's dead letters say it. */
export type DeadReason = 'no-such-actor' | 'not-handled' | 'actor-failed' | 'partition-failed' | 'actor-stopped' | 'crashed' | 'storage';

const DEAD_CODES: Record<DeadReason, ErrorCode> = {
  'no-such-actor': 'ACTOR_NOT_FOUND',
  'actor-stopped': 'ACTOR_NOT_FOUND',
  'not-handled': 'MESSAGE_NOT_HANDLED',
  'actor-failed': 'ACTOR_FAILED',
  // the actor names its own code (ActorBehavior.partitionCode); this is the fallback
  'partition-failed': 'ACTOR_FAILED',
  crashed: 'ACTOR_CRASHED',
  storage: 'STORAGE_UNAVAILABLE',
};

interface Pending {
  requestId: string;
  to: Address;
  type: string;
  resolve: (value: unknown) => void;
  reject: (error: DomainError) => void;
  timer: TimerHandle;
  /** the envelope that carried the request */
  own: string;
  /** the ask's own envelope and every envelope its handling caused, while it is open */
  envelopes: Set<string>;
}

/**
 * The open asks of one supervisor. An ask settles exactly once: with the reply, or with a
 * catalog error when its time is up, when its message is a dead letter, or when a message its
 * handling caused reaches a failed actor or crashes its handler.
 */
export class Asks {
  private seq = 0;
  private readonly byRequest = new Map<string, Pending>();
  private readonly byEnvelope = new Map<string, Pending>();
  /** envelopes whose handler is running now: failures of what they send wait until it is done */
  private readonly handling = new Set<string>();
  /** failures noticed while the handler that caused them still runs (it may answer after all) */
  private readonly deferred = new Map<string, Array<{ pending: Pending; code: ErrorCode; message: string }>>();

  constructor(
    private readonly clock: Clock,
    private readonly prefix: string,
  ) {}

  /** Open asks (for health and tests). */
  get size(): number {
    return this.byRequest.size;
  }

  nextRequestId(): string {
    return `${this.prefix}.q${++this.seq}`;
  }

  /** Opens an ask for the envelope that carries its request. */
  open<T>(requestId: string, env: Envelope, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const pending: Pending = {
        requestId,
        to: env.to,
        type: env.message.type,
        resolve: resolve as (value: unknown) => void,
        reject,
        timer: this.clock.setTimer(this.clock.now() + timeoutMs, () =>
          this.fail(pending, 'ASK_TIMEOUT', `${env.to} did not answer ${env.message.type} within ${timeoutMs} ms`),
        ),
        own: env.id,
        envelopes: new Set([env.id]),
      };
      this.byRequest.set(requestId, pending);
      this.byEnvelope.set(env.id, pending);
    });
  }

  /** A message was routed: if it was caused by an open ask's work, it belongs to that ask. */
  follow(env: Envelope): void {
    if (env.causation === null || env.aside === true || this.byEnvelope.size === 0) return;
    const pending = this.byEnvelope.get(env.causation);
    if (!pending) return;
    pending.envelopes.add(env.id);
    this.byEnvelope.set(env.id, pending);
  }

  /**
   * A reply arrived at REPLIES. Replies to asks that are settled already are dropped. `later`: the
   * ask is settled now (nothing can fail it any more), but its caller hears it only after the
   * current turn's microtasks, in a batch with the other replies held so (see Supervisor.handleBatch).
   */
  settle(reply: Reply, later = false): void {
    const pending = this.byRequest.get(reply.requestId);
    if (!pending) return;
    this.close(pending);
    if (later) {
      if (this.held.push({ pending, reply }) === 1) setImmediate(() => this.release());
      return;
    }
    Asks.tell(pending, reply);
  }

  private static tell(pending: Pending, reply: Reply): void {
    if (reply.ok) pending.resolve(reply.value);
    else pending.reject(new DomainError(reply.code, reply.message ?? reply.code, reply.details));
  }

  /** Replies are held now (a reply that is not a panel's joins them, or it would pass them). */
  get holding(): boolean {
    return this.held.length > 0;
  }

  /** Replies settled with `later`, in the order they came. */
  private held: Array<{ pending: Pending; reply: Reply }> = [];

  private release(): void {
    const held = this.held;
    this.held = [];
    for (const { pending, reply } of held) Asks.tell(pending, reply);
  }

  /**
   * A message was a dead letter. The ask's own message rejects for any reason; a message its
   * work caused rejects it only when an actor failed or crashed (a note to an ended session is
   * no failure of the request). `code` overrides the reason's code (a quarantined partition's).
   * `told`: its sender hears of it (`delivery.failed`) and answers for it itself (the auth actor
   * tells the panel that the pickup it matched is refused): a message its work caused then fails nothing.
   */
  dead(env: Envelope, reason: DeadReason, code: ErrorCode = DEAD_CODES[reason], told = false): void {
    const pending = this.byEnvelope.get(env.id);
    if (!pending) return;
    // The request itself, passed on by the actor it was sent to (the registry to a pickup), is the ask's own.
    const own = env.id === pending.own || ((env.message as { requestId?: unknown }).requestId === pending.requestId && env.message.type === pending.type);
    if (!own && ((reason !== 'actor-failed' && reason !== 'partition-failed' && reason !== 'crashed' && reason !== 'storage') || told)) return;
    const message =
      reason === 'partition-failed'
        ? `${env.to} refuses ${env.message.type}: what it concerns kept crashing ${env.to} and was quarantined (${code})`
        : `${env.to} could not handle ${env.message.type} (${reason})`;
    // A note sent by a handler that answers in the same turn (a cancel telling a failed reader)
    // must not fail the answer: decide once that handler is done.
    if (env.causation !== null && this.handling.has(env.causation)) {
      const list = this.deferred.get(env.causation) ?? [];
      list.push({ pending, code, message });
      this.deferred.set(env.causation, list);
      return;
    }
    this.fail(pending, code, message);
  }

  /** The supervisor starts handling `env`. */
  begin(env: Envelope): void {
    if (this.byRequest.size > 0) this.handling.add(env.id);
  }

  /** The handler of `env` is done (committed and its effects run, or crashed): failures it caused now count. */
  end(env: Envelope): void {
    if (this.handling.size === 0 || !this.handling.delete(env.id)) return;
    const list = this.deferred.get(env.id);
    if (!list) return;
    this.deferred.delete(env.id);
    for (const { pending, code, message } of list) this.fail(pending, code, message);
  }

  /** Rejects every open ask (the supervisor closes). */
  rejectAll(code: ErrorCode, message: string): void {
    for (const pending of [...this.byRequest.values()]) this.fail(pending, code, message);
  }

  /**
   * Rejects the ask. While replies are held, the refusal joins them, behind the answers settled
   * before it (a caller must not hear of a later ask before an earlier one).
   */
  private fail(pending: Pending, code: ErrorCode, message: string): void {
    if (!this.byRequest.has(pending.requestId)) return;
    this.close(pending);
    const reply: Reply = { type: 'reply', requestId: pending.requestId, ok: false, code, message, details: { to: pending.to, type: pending.type } };
    if (this.held.length > 0) this.held.push({ pending, reply });
    else Asks.tell(pending, reply);
  }

  private close(pending: Pending): void {
    this.clock.clearTimer(pending.timer);
    this.byRequest.delete(pending.requestId);
    for (const id of pending.envelopes) this.byEnvelope.delete(id);
  }
}
