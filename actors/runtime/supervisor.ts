import { DomainError, toErrorCode, type ErrorCode } from '../domain/errors.js';
import { Asks, REPLIES, type DeadReason, type Reply } from './ask.js';
import { randomBytes } from 'node:crypto';
import type { Clock, TimerHandle } from './clock.js';
import { SimulatedClock } from './clock.js';
import { Hub } from './hub.js';
import { naturalOrder } from './order.js';
import { readonlyView, type DeepReadonly } from './readonly.js';
import { splitRows, type RowChange } from './rows.js';
import { Trace, type TraceEntry } from './trace.js';
import type {
  ActorBehavior,
  AddressIn,
  AnyProtocol,
  AskableTo,
  MessageTo,
  Protocol,
  ActorRecord,
  ActorStatus,
  Address,
  AuditInput,
  BoxEvent,
  Effect,
  Envelope,
  Message,
  PersistedTimer,
  QuarantinedPartition,
} from './types.js';

/**
 * One actor's part of a commit. With `rows`, `record.ctx` is the head without the tables named in
 * `record.tables`, and `rows` are the table rows that changed (all of them when `full`).
 */
export type ActorWrite =
  | { address: Address; record: ActorRecord; rows?: { changes: RowChange[]; full: boolean } }
  | { address: Address; deleted: true };

/**
 * What one transaction commits: actors' states, audit records, the messages they sent (kept until
 * handled: a transactional outbox) and the messages their receivers have handled (removed).
 */
export interface CommitBatch {
  actors?: ActorWrite[];
  audit?: AuditRecordInput[];
  sent?: Envelope[];
  handled?: string[];
  /** a write that only shows whether storage takes writes again */
  probe?: number;
  /**
   * Fills the batch in place: a store calls it once its transaction is open (SQLite: after BEGIN),
   * before it reads the batch, so that commits queued meanwhile join. A store calls it at most once;
   * read the batch only after its commit has settled.
   */
  fill?: () => void;
}

/** Where committed actor state, messages and the audit log go. Implemented over keyv in src/persistence. */
export interface ActorPersistence {
  /** Commits a batch as one transaction: all of it or nothing. Rejects with code STORAGE_UNAVAILABLE. */
  commit(batch: CommitBatch): Promise<void>;
  loadActors(): Promise<Map<Address, ActorRecord>>;
  /** committed messages whose receiver has not committed handling them, in the order sent */
  loadMessages(): Promise<Envelope[]>;
  saveActor(address: Address, record: ActorRecord, rows?: { changes: RowChange[]; full: boolean }): Promise<void>;
  deleteActor(address: Address): Promise<void>;
  appendAudit(entry: AuditRecordInput): Promise<void>;
}

export interface AuditRecordInput extends AuditInput {
  at: number;
  /** the actor that wrote it */
  by: Address;
  causation: string | null;
}

export interface RestartIntensity {
  /** more than `max` crashes within `withinMs` escalate */
  max: number;
  withinMs: number;
}

export interface SupervisorOptions {
  clock: Clock;
  persistence: ActorPersistence;
  behaviors: ActorBehavior[];
  intensity?: RestartIntensity;
  /**
   * The supervisor's own alarm sink: told when an actor fails for good (past the restart
   * intensity), never the failed actor itself. The box raises an ACTOR_FAILED alarm from here.
   */
  onFailure?: (failure: ActorFailure) => void;
  /**
   * Told when a partition of an actor (e.g. one pickup of the registry) is quarantined past its
   * restart intensity, while the actor serves the rest (see ActorBehavior.partitionOf).
   */
  onQuarantine?: (quarantine: PartitionQuarantine) => void;
  /**
   * Where a message to an address with no actor goes instead, if anywhere (null: it is a dead
   * letter). The box gives the registry for `pickup/<id>`: it holds the pickups an earlier version
   * registered, and answers for pickups archived since. Never back to the sender itself.
   */
  fallback?: (to: Address) => Address | null;
  traceLimit?: number;
  /** how long an `ask` waits for its reply unless told otherwise (default 10 s) */
  askTimeoutMs?: number;
  /**
   * Commits that become ready in one turn share one transaction, and a mailbox's backlog is
   * handled in batches of up to 128 messages committed together (default). Off: one transaction
   * per message, the baseline of the durability benchmark.
   */
  groupCommit?: boolean;
  /**
   * How long the handlers of one batch may run before it is cut (default 1 ms). Tests of the
   * batch sizes set it to Infinity, so that a busy machine does not cut their batches.
   */
  batchBudgetMs?: number;
  /** structured log for crashes and dead letters; never given payloads */
  log?: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
}

/** An actor that failed for good: its mail is refused until it is revived after repair (`Supervisor.revive`). */
export interface ActorFailure {
  actor: Address;
  kind: string;
  code: ErrorCode;
  at: number;
}

/** A partition of an actor that failed alone: its messages are refused, the actor serves the rest. */
export interface PartitionQuarantine extends QuarantinedPartition {
  actor: Address;
  kind: string;
}

export interface DeadLetter {
  envelope: Envelope;
  reason: DeadReason;
}

interface Timer extends PersistedTimer {
  handle: TimerHandle;
  /** fired while its partition was quarantined: kept (and persisted), not delivered, until the partition is lifted */
  held?: boolean;
  /** came due while the commit of a batch that cancels it was written: delivered only if that commit fails */
  due?: boolean;
}

/** One transaction's worth of commits as one batch. */
function merge(group: readonly QueuedCommit[]): Omit<CommitBatch, 'fill'> {
  if (group.length === 1) {
    const { actors, audit, sent, handled, probe } = group[0]!.batch;
    return { actors, audit, sent, handled, probe };
  }
  const merged: CommitBatch & Required<Omit<CommitBatch, 'probe' | 'fill'>> = { actors: [], audit: [], sent: [], handled: [] };
  for (const { batch } of group) {
    if (batch.probe !== undefined) merged.probe = batch.probe;
    merged.actors.push(...(batch.actors ?? []));
    merged.audit.push(...(batch.audit ?? []));
    merged.sent.push(...(batch.sent ?? []));
    merged.handled.push(...(batch.handled ?? []));
  }
  return merged;
}

/** Why `value` cannot be stored (the stores write JSON), or null when it can. */
function unstorable(value: unknown): string | null {
  try {
    JSON.stringify(value);
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

interface QueuedCommit {
  batch: CommitBatch;
  resolve: () => void;
  reject: (error: unknown) => void;
  /** written behind: its effects ran without waiting for it (see handleBatch) */
  behind?: true;
  /** the actor whose batch this is, awaiting it: a panel's message to it moves it ahead (see promote) */
  cell?: Cell;
}

interface Cell {
  address: Address;
  behavior: ActorBehavior;
  /** the last committed state: what a restart goes back to */
  ctx: unknown;
  timers: Map<string, Timer>;
  mailbox: Envelope[];
  status: ActorStatus;
  running: boolean;
  crashes: number[];
  /** timers fired since the last commit: still in the persisted state until the next commit */
  fired: Set<string>;
  /** the actor that spawned this one, told when it fails for good */
  parent: Address | null;
  /** recent crash times per partition (see ActorBehavior.partitionOf); the actor's own are in `crashes` */
  partitionCrashes: Map<string, number[]>;
  /** partitions past their restart intensity: their messages are refused, their timers held */
  quarantined: Map<string, QuarantinedPartition>;
  /** after a commit failed other than on storage: handle this many messages one per commit, to find the one it fails on */
  isolate: number;
  /** the batch whose commit the actor awaits, while it may still take a panel's batch (see joinCommit) */
  pending?: Pending | null;
  /** the timers the batch whose commit the actor awaits cancels: none of them fires meanwhile */
  cancelling?: ReadonlySet<string> | null;
  /** failed for good: mail kept for it until it is revived (see keepsMailWhileFailed) */
  kept?: Envelope[] | null;
}

/**
 * A batch whose commit its actor awaits, still queued. A panel's messages that reach the actor
 * meanwhile are handled on the state it will write and join that commit (see joinCommit).
 */
interface Pending {
  commit: QueuedCommit;
  /** the state the commit writes: the batch's, then that of the batches joined to it */
  ctx: unknown;
  /** the batch's timer changes, which the joined write keeps */
  set: PersistedTimer[];
  removed: string[];
  /** batches handled while it waited, written with it: their effects run after its own */
  joined: Array<{ envs: Envelope[]; plan: Plan | null; now: number }>;
  /** a batch could not join: none is tried again until the commit is done (its handlers would run again for nothing) */
  refused?: true;
}

/** What the outside world sees of one actor: its committed context through a read-only view. */
export interface ActorView<C = unknown> {
  readonly address: Address;
  readonly kind: string;
  readonly status: ActorStatus;
  readonly ctx: DeepReadonly<C>;
  readonly mailbox: number;
}

/** An actor spawned by a handler: written with the batch, created when its effects run. */
interface Spawned {
  address: Address;
  behavior: ActorBehavior;
  ctx: unknown;
  started: Envelope | null;
}

/** Work storage refused, done again once it takes writes: a message to handle or an actor's I/O to run. */
type Parked = { env: Envelope } | { io: { cell: Cell; env: Envelope; op: unknown; ctx: unknown } };

/** What an effect needs once it runs: the envelope of a send, the record of an audit, the child of a spawn. */
type Prepared = Envelope | AuditRecordInput | Spawned | undefined;

/** One handler of a batch that enqueued effects: its message's place in the batch, the state it left, its effects. */
interface Step {
  index: number;
  ctx: unknown;
  effects: Effect<unknown>[];
  prepared: Prepared[];
}

/** What a batch of handlers commits besides the actor's own state, and the effects to run after. */
interface Plan {
  scheduled: Map<string, PersistedTimer>;
  cancelled: Set<string>;
  sent: Envelope[];
  audit: AuditRecordInput[];
  spawned: Spawned[];
  spawning: Set<Address>;
  steps: Step[];
  /**
   * An effect of the batch is seen outside the actors: a reply, a published event or audit
   * record, I/O (a pulse, an SMS, a claim), a spawn or a stop. Without one, the batch's effects
   * are only messages to other actors, whose commits come after its own (see handleBatch).
   */
  external: boolean;
}

/** What the pure handlers of a batch left: how many messages they took, the state, what to commit and run. */
interface Handled {
  count: number;
  ctx: unknown;
  plan: Plan | null;
  handled: string[] | null;
  /** the handler that threw, ending the batch before its message */
  failure: { env: Envelope; error: unknown } | null;
  stop: boolean;
  /** messages of a quarantined partition, taken out of the mailbox unhandled and refused after the commit */
  refused: Envelope[] | null;
}

/**
 * At most this many messages of one mailbox are handled before their commit, and no more once
 * the batch's handlers have run for MAX_BATCH_MS: a backlog is committed in few writes, while the
 * first message's effects (a reply, a pulse) wait at most about a millisecond for the handlers
 * after it, also in an actor whose handler is slow.
 */
const MAX_BATCH = 128;
const MAX_BATCH_MS = 1;
/** A commit that took this long went to a disk: the next group waits one turn for more to join. */
const SLOW_COMMIT_MS = 0.5;
/**
 * Urgent-only transactions in a row while bulk commits wait: a citizen's step is a few commits
 * one after the other (session, PIN check, unlock), which all go first; a stream of inputs beyond
 * that shares every fifth transaction with the bulk work.
 */
const URGENT_RUN = 4;
/** mail kept for an actor failed for good (see ActorBehavior.keepsMailWhileFailed), at most */
const KEPT_LIMIT = 10_000;

const EXTERNAL: Address = 'external';

/** the sender of what the supervisor tells an actor: `started`, `recovered`, `restarted`, `delivery.failed` */
const SUPERVISOR: Address = 'supervisor';
/** what the supervisor tells an actor about itself: no message passes them (see passingPoint) */
const SELF_NOTICES: ReadonlySet<string> = new Set(['started', 'recovered', 'restarted']);
/** the row table an actor with tables keeps its timers in */
export const TIMERS = '__timers';

/**
 * The supervisor owns every actor: addresses, one mailbox each (first in, first out per sender;
 * a panel's messages ahead of bulk work, never ahead of the actor's `recovered` or `restarted`:
 * see passingPoint), routing, dead letters, timers on the injected clock, the message trace, and
 * one-for-one restarts with a restart intensity past which the actor is escalated (failed) and
 * the rest of the box keeps working.
 *
 * Handling a message: pure transition -> persist the new state and timers -> run the effects.
 * An actor handles one message at a time; different actors interleave at their awaits.
 */
export class Supervisor<P extends Protocol = AnyProtocol> {
  readonly trace: Trace;
  readonly events = new Hub<BoxEvent>();
  readonly deadLetters = new Hub<DeadLetter>();
  readonly audit = new Hub<AuditRecordInput>();
  /** an actor's committed state or status changed: read models (views, subscriptions) refresh from here */
  readonly changes = new Hub<{ address: Address; kind: string }>();

  private readonly cells = new Map<Address, Cell>();
  private readonly sinks = new Map<Address, (message: Message, env: Envelope) => void>();
  private readonly behaviors = new Map<string, ActorBehavior>();
  private readonly clock: Clock;
  private readonly persistence: ActorPersistence;
  private readonly intensity: RestartIntensity;
  private readonly onFailure: (failure: ActorFailure) => void;
  private readonly onQuarantine: (quarantine: PartitionQuarantine) => void;
  private readonly fallback: (to: Address) => Address | null;
  /** the actors with a quarantined partition: health and metrics read them often, and there may be 50,000 actors */
  private readonly withQuarantines = new Set<Cell>();
  private readonly failures = new Map<Address, ActorFailure>();
  private readonly log: NonNullable<SupervisorOptions['log']>;
  private readonly bootId: string;
  /** `bootId.`: a message id is this and a counter */
  private readonly idPrefix: string;
  private readonly asks: Asks;
  private readonly askTimeoutMs: number;
  private nextId = 0;
  private running = 0;
  /** actors failed for good whose kept mail reached KEPT_LIMIT (warned once) */
  private readonly keptFull = new Set<Address>();
  /** replies sent now reach their callers in the next turn (a bulk batch's, while a panel waits: see handleBatch) */
  private repliesLater = false;
  private queued = 0;
  private ioInFlight = 0;
  private closed = false;
  private readonly groupCommit: boolean;
  /** how many messages of one mailbox share a commit */
  private readonly batchLimit: number;
  /** see SupervisorOptions.batchBudgetMs */
  private readonly batchBudgetMs: number;
  /** commits waiting for the next transaction */
  private commitQueue: QueuedCommit[] = [];
  /** commits a person at a panel waits for (see `ActorBehavior.interactive`): cut into a transaction of their own, first */
  private urgentQueue: QueuedCommit[] = [];
  /**
   * Commits written behind whose transaction failed: their effects ran already, so they are not
   * dropped but written at the head of the next transaction (the probe's, or whichever comes
   * first), and nothing queued after them reaches the store without them.
   */
  private behindFailed: QueuedCommit[] = [];
  /** while `restore` spawns the actors that were not stored: their `started`, routed once the others recovered */
  private deferredStarts: Envelope[] | null = null;
  /** urgent-only transactions in a row (see nextGroup) */
  private urgentRun = 0;
  /** some kind of actor serves a panel: without one, no commit is ever urgent (and nothing is looked up) */
  private readonly anyInteractive: boolean;
  private flushing = false;
  private probing = false;
  /**
   * Work that failed on storage, done again in the order it failed once storage takes writes: a
   * committed message whose handling failed, or an actor's I/O that storage refused (a claim given
   * back, an archive write).
   */
  private readonly parked: Parked[] = [];
  /** actors whose commit failed on storage: told `restarted` when it is back, to reconcile */
  private readonly stalled = new Set<Address>();
  private storageOk = true;
  /** why commits fail, since when: what health and the log report */
  private storageFailure: { code: ErrorCode; reason: string; since: number } | null = null;
  /** storage failed or recovered: the box refuses or resumes new work, health follows */
  readonly storage = new Hub<{ healthy: boolean; code?: ErrorCode; reason?: string }>();

  constructor(opts: SupervisorOptions) {
    this.clock = opts.clock;
    this.persistence = opts.persistence;
    this.intensity = opts.intensity ?? { max: 5, withinMs: 30_000 };
    this.onFailure = opts.onFailure ?? (() => {});
    this.onQuarantine = opts.onQuarantine ?? (() => {});
    this.fallback = opts.fallback ?? (() => null);
    this.trace = new Trace(opts.traceLimit);
    this.log = opts.log ?? (() => {});
    // Unique per start, also on a simulated clock: message ids of earlier starts are still in the store.
    this.bootId = `${opts.clock.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    this.idPrefix = `${this.bootId}.`;
    this.groupCommit = opts.groupCommit ?? true;
    this.batchLimit = this.groupCommit ? MAX_BATCH : 1;
    this.batchBudgetMs = opts.batchBudgetMs ?? MAX_BATCH_MS;
    this.askTimeoutMs = opts.askTimeoutMs ?? 10_000;
    this.asks = new Asks(opts.clock, this.bootId);
    // Once replies are held (see handleBatch), later ones join them, a panel's answer excepted:
    // callers hear their answers in the order they were sent.
    this.sinks.set(REPLIES, (message, env) => this.asks.settle(message as Reply, this.repliesLater || (this.asks.holding && !this.servesPanelFrom(env))));
    for (const b of opts.behaviors) this.behaviors.set(b.kind, b);
    this.anyInteractive = opts.behaviors.some((b) => b.interactive === true);
  }

  /**
   * Sends `message` as a request and resolves with the recipient's reply, which it sends once the
   * state it reports is committed. Rejects with a catalog code (DomainError) on ASK_TIMEOUT, when
   * the message is a dead letter (ACTOR_NOT_FOUND, MESSAGE_NOT_HANDLED, ACTOR_FAILED), when the
   * handler crashes (ACTOR_CRASHED), or when work the request caused hits a failed or crashing actor.
   * `urgent`: a person waits for it at a panel that is no actor (the room door's outside keypad):
   * it is served as a panel's message is (see servesPanel).
   */
  ask<T = unknown, A extends AddressIn<P> = AddressIn<P>>(to: A, message: AskableTo<P, A> & Message, opts: { timeoutMs?: number; from?: Address; urgent?: boolean } = {}): Promise<T> {
    // Closed: nothing is delivered any more (a caller that heard a held answer late may ask again).
    if (this.closed) return Promise.reject(new DomainError('ACTOR_NOT_FOUND', 'the box is shutting down'));
    // While storage fails nothing new is taken on: the caller learns it now, not at a timeout.
    if (!this.storageOk) return Promise.reject(new DomainError('STORAGE_UNAVAILABLE', 'storage is unavailable: nothing was changed; retry once the box reports healthy'));
    const requestId = this.asks.nextRequestId();
    const env = this.envelope(opts.from ?? EXTERNAL, to, { ...message, requestId, replyTo: REPLIES }, null, undefined, false, opts.urgent === true);
    const reply = this.asks.open<T>(requestId, env, opts.timeoutMs ?? this.askTimeoutMs);
    this.route(env);
    return reply;
  }

  /** Actors that failed for good (also those restored failed): what health reports. Copies. */
  failed(): Readonly<ActorFailure>[] {
    return [...this.failures.values()].map((f) => ({ ...f }));
  }

  /** Partitions quarantined past their restart intensity (also those restored so), by actor. Copies. */
  quarantined(): PartitionQuarantine[] {
    const out: PartitionQuarantine[] = [];
    for (const cell of this.withQuarantines) {
      for (const q of cell.quarantined.values()) out.push({ ...q, actor: cell.address, kind: cell.behavior.kind });
    }
    return out;
  }

  /**
   * Lifts the quarantine of `partition` of the actor at `address` after repair: its messages are
   * taken again, its crashes count from zero and its held timers fire. Committed before it takes
   * effect, with `audit` (who lifted it) in the same transaction. False when the partition was not
   * quarantined.
   */
  async lift(address: Address, partition: string, audit?: AuditInput): Promise<boolean> {
    const cell = this.cells.get(address);
    if (!cell) return false;
    // Between the actor's batches: its head is written from the committed state, as a batch's would be.
    while (cell.running) await new Promise<void>((resolve) => setImmediate(resolve));
    if (!cell.quarantined.has(partition) || cell.status !== 'active') return false;
    const rest = new Map(cell.quarantined);
    rest.delete(partition);
    const record: AuditRecordInput | null = audit ? { ...audit, at: this.clock.now(), by: address, causation: null } : null;
    cell.running = true;
    this.running++;
    try {
      await this.commit({ actors: [this.save(cell, { ctx: cell.ctx, set: [], removed: [] }, rest)], ...(record ? { audit: [record] } : {}) });
      cell.quarantined.delete(partition);
      if (cell.quarantined.size === 0) this.withQuarantines.delete(cell);
    } finally {
      cell.running = false;
      this.running--;
      // Mail that came in meanwhile (the partition's too, once lifted).
      if (cell.mailbox.length > 0 && cell.status === 'active') void this.drain(cell);
    }
    if (record) this.audit.publish(record);
    // Its crash count is already zero: crashPartition cleared it on quarantine and counts none while quarantined.
    for (const t of [...cell.timers.values()]) {
      if (t.held && this.partitionOf(cell, cell.ctx, t.message) === partition) this.armTimer(cell, t);
    }
    this.log('info', 'partition quarantine lifted', { actor: address, partition });
    this.events.publish({ type: 'partition.lifted', at: this.clock.now(), source: address, actor: address, partition });
    this.changes.publish({ address, kind: cell.behavior.kind });
    return true;
  }

  /**
   * Brings an actor that failed for good back into operation after repair (a fixed version, a
   * replaced device): its mail is taken again, its crashes count from zero, the timers it kept
   * while failed run (those due at once), and it hears `restarted` to reconcile with what it
   * missed, as after a crash. Committed before it takes effect, with `audit` (who revived it) in
   * the same transaction. Messages sent to it while it was failed were refused (and their senders
   * told, see `bounce`): they do not come back. False when the actor is not failed.
   */
  async revive(address: Address, audit?: AuditInput): Promise<boolean> {
    const cell = this.cells.get(address);
    if (!cell || cell.status !== 'failed') return false;
    const record: AuditRecordInput | null = audit ? { ...audit, at: this.clock.now(), by: address, causation: null } : null;
    cell.status = 'active';
    try {
      await this.commit({ actors: [this.save(cell)], ...(record ? { audit: [record] } : {}) });
    } catch (error) {
      cell.status = 'failed';
      throw error;
    }
    cell.crashes = [];
    this.failures.delete(address);
    if (record) this.audit.publish(record);
    for (const t of [...cell.timers.values()]) this.armTimer(cell, t);
    this.log('info', 'actor revived', { actor: address });
    this.events.publish({ type: 'actor.revived', at: this.clock.now(), source: address, actor: address, kind: cell.behavior.kind });
    this.changes.publish({ address, kind: cell.behavior.kind });
    // The mail it kept while failed (see keepsMailWhileFailed), in the order it came (with what
    // came while the revival was written: see route).
    const kept = cell.kept ?? [];
    cell.kept = null;
    this.keptFull.delete(address);
    for (const env of kept) this.enqueue(cell, env);
    if (cell.behavior.accepts.has('restarted')) this.enqueue(cell, this.envelope('supervisor', address, { type: 'restarted' }, null));
    // Whoever keeps what it refused meanwhile (sent back as `delivery.failed`) may send it again.
    for (const other of this.cells.values()) {
      if (other !== cell && other.status === 'active' && other.behavior.accepts.has('delivery.resumed')) {
        this.route(this.envelope(SUPERVISOR, other.address, { type: 'delivery.resumed', to: address }, null));
      }
    }
    return true;
  }

  /** Number of asks waiting for their reply. */
  get pendingAsks(): number {
    return this.asks.size;
  }

  /**
   * Brings back every persisted actor as it was committed, then tells each it was recovered.
   * `ensure` runs once they are back and before any message is delivered: it spawns the actors the
   * box needs that were not stored (a fresh box, a new kind of actor after an upgrade, a record a
   * maintainer removed), so that no message redelivered from the store, and nothing an actor does
   * on recovering, goes to an address that does not exist yet.
   */
  async restore(ensure?: () => Promise<void>): Promise<Address[]> {
    const records = await this.persistence.loadActors();
    const restored: Address[] = [];
    const timers: [Cell, PersistedTimer[]][] = [];
    for (const [address, record] of records) {
      const behavior = this.behaviors.get(record.kind);
      if (!behavior) {
        this.log('warn', 'persisted actor of unknown kind skipped', { address, kind: record.kind });
        continue;
      }
      const cell = this.newCell(address, behavior, record.ctx, record.status === 'failed' ? 'failed' : 'active');
      for (const q of record.quarantined ?? []) cell.quarantined.set(q.partition, { ...q });
      if (cell.quarantined.size > 0) this.withQuarantines.add(cell);
      if (record.status === 'failed') this.failures.set(address, { actor: address, kind: record.kind, code: 'ACTOR_FAILED', at: this.clock.now() });
      timers.push([cell, record.timers]);
      restored.push(address);
    }
    // Messages committed by their sender but not yet handled by their receiver are delivered
    // again, in the order sent, before each actor hears that it was recovered: an actor
    // reconciles with everything its peers had committed. (Read before the new actors are
    // spawned: what their spawns commit is theirs to deliver, once.)
    const pending = await this.persistence.loadMessages();
    // What the new actors do first (`started`) comes after the stored actors have recovered, as it
    // would had they been spawned after the start.
    const deferred: Envelope[] = (this.deferredStarts = []);
    try {
      await ensure?.();
    } finally {
      this.deferredStarts = null;
    }
    // Armed only now: on the system clock an overdue timer fires at the next turn, and `ensure`
    // takes several (its commits). Its message comes after the redelivered mail and `recovered`.
    for (const [cell, list] of timers) for (const t of list) this.armTimer(cell, t);
    for (const env of pending) this.route(env);
    for (const address of restored) {
      const cell = this.cells.get(address);
      if (cell?.status === 'active' && cell.behavior.accepts.has('recovered')) {
        this.enqueue(cell, this.envelope('supervisor', address, { type: 'recovered' }, null));
      }
    }
    for (const started of deferred) this.route(started);
    return restored;
  }

  /** Creates an actor with a fresh context; does nothing if the address exists already. */
  async spawn(address: Address, kind: string, input?: unknown, causation: string | null = null, parent: Address | null = null): Promise<boolean> {
    if (this.cells.has(address)) return false;
    const behavior = this.behaviors.get(kind);
    if (!behavior) throw new Error(`no behavior registered for actor kind "${kind}"`);
    const ctx = behavior.init(input, address);
    const started = behavior.accepts.has('started') ? this.envelope('supervisor', address, { type: 'started' }, causation, undefined, true) : null;
    await this.commit({ actors: [this.write(address, behavior, ctx, 'active', new Map())], sent: started ? [started] : [] }, behavior.interactive === true);
    if (this.cells.has(address)) return false;
    const cell = this.newCell(address, behavior, ctx, 'active');
    cell.parent = parent;
    if (started) {
      if (this.deferredStarts) this.deferredStarts.push(started);
      else this.route(started);
    }
    return true;
  }

  /**
   * Mounts an endpoint that is not an actor (e.g. `api/replies`): messages to it are traced and
   * handed to `fn` synchronously. The API layer receives replies to its requests this way.
   */
  mount(address: Address, fn: (message: Message, env: Envelope) => void): void {
    this.sinks.set(address, fn);
  }

  has(address: Address): boolean {
    return this.cells.has(address);
  }

  /** False from a failed commit until the next one succeeds. */
  storageHealthy(): boolean {
    return this.storageOk;
  }

  /** Why commits fail (the backend's reason) and since when; null while storage takes writes. */
  storageFault(): { code: ErrorCode; reason: string; since: number } | null {
    return this.storageFailure ? { ...this.storageFailure } : null;
  }

  /**
   * Checks a message from outside (the harness) against the recipient's message schema before it
   * is delivered: ACTOR_NOT_FOUND for an unknown address, INVALID_MESSAGE (with the issues in
   * `details.issues`) for a message the actor does not take or that does not fit.
   */
  check(to: Address, message: Message): void {
    const cell = this.cells.get(to);
    if (!cell && !this.sinks.has(to)) throw new DomainError('ACTOR_NOT_FOUND', `no actor at ${to}`);
    if (!cell) return;
    if (!cell.behavior.accepts.has(message.type)) {
      throw new DomainError('INVALID_MESSAGE', `${to} does not take messages of type ${message.type}`, { issues: [`type: ${cell.behavior.kind} takes ${[...cell.behavior.accepts].join(', ')}`] });
    }
    const issues = cell.behavior.check?.(message);
    if (issues) throw new DomainError('INVALID_MESSAGE', `the ${message.type} message does not fit ${to}: ${issues.join('; ')}`, { issues });
  }

  /**
   * Sends a message from outside the actor system (API, hardware, tests). Returns its id. With
   * the box's protocol, only a message the recipient takes compiles.
   */
  send<A extends AddressIn<P>>(to: A, message: MessageTo<P, A> & Message, from: Address = EXTERNAL, causation: string | null = null): string {
    return this.post(to, message, from, causation);
  }

  /**
   * Sends a message no compiler checked: the harness's, after `check`, and tests that feed an
   * actor a broken message on purpose. Everything else uses `send`.
   */
  post(to: Address, message: Message, from: Address = EXTERNAL, causation: string | null = null): string {
    const env = this.envelope(from, to, message, causation);
    this.route(env);
    return env.id;
  }

  view<C = unknown>(address: Address): ActorView<C> | undefined {
    const cell = this.cells.get(address);
    if (!cell) return undefined;
    // Never the committed context itself: a reader cannot change the actor's state behind its back.
    const ctx = typeof cell.ctx === 'object' && cell.ctx !== null ? readonlyView(cell.ctx) : cell.ctx;
    return { address, kind: cell.behavior.kind, status: cell.status, ctx: ctx as DeepReadonly<C>, mailbox: cell.mailbox.length };
  }

  /** Messages waiting in the mailboxes, by actor kind: one pass, no views (for metrics scraped often). */
  mailboxesByKind(): Map<string, number> {
    const out = new Map<string, number>();
    for (const cell of this.cells.values()) out.set(cell.behavior.kind, (out.get(cell.behavior.kind) ?? 0) + cell.mailbox.length);
    return out;
  }

  /** All actors of one kind, in address order. */
  viewsOf<C = unknown>(kind: string): ActorView<C>[] {
    const out: ActorView<C>[] = [];
    for (const cell of this.cells.values()) {
      if (cell.behavior.kind === kind) out.push(this.view<C>(cell.address)!);
    }
    return out.sort((a, b) => naturalOrder(a.address, b.address));
  }

  /**
   * Resolves once no actor has work left other than waiting for the (simulated) clock: a
   * whole-box barrier for tests, the simulation harness, advancing a simulated clock and draining
   * at shutdown. A request never waits for it: it waits for its own reply (`ask`).
   */
  idle(): Promise<void> {
    return this.settle();
  }

  /** The same barrier as `idle()`, under the name the composition root uses for the simulation and shutdown. */
  async settle(): Promise<void> {
    const sleepers = (): number => (this.clock instanceof SimulatedClock ? this.clock.sleepers : 0);
    let quietRounds = 0;
    while (quietRounds < 2) {
      const busy = this.running > 0 || this.queued > 0 || this.flushing || this.ioInFlight > sleepers();
      quietRounds = busy ? 0 : quietRounds + 1;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** Moves a simulated clock forward, letting every timer's work finish in order (HARNESS_UNSUPPORTED on the system clock). */
  async advanceClock(ms: number): Promise<void> {
    if (!(this.clock instanceof SimulatedClock)) throw new DomainError('HARNESS_UNSUPPORTED', 'the box runs on the system clock; only a simulated clock can be advanced');
    await this.clock.advance(ms, () => this.settle());
  }

  /** Stops accepting work, cancels timers and waits for running handlers and queued commits (also those written behind) to finish. */
  async close(): Promise<void> {
    this.closed = true;
    this.asks.rejectAll('ACTOR_NOT_FOUND', 'the box is shutting down');
    for (const cell of this.cells.values()) {
      for (const t of cell.timers.values()) this.clock.clearTimer(t.handle);
      cell.mailbox.length = 0;
    }
    this.queued = 0;
    while (this.running > 0 || this.flushing) await new Promise<void>((resolve) => setImmediate(resolve));
  }

  // ---------------------------------------------------------------------------------------------

  private newCell(address: Address, behavior: ActorBehavior, ctx: unknown, status: ActorStatus): Cell {
    const cell: Cell = {
      address, behavior, ctx, timers: new Map(), mailbox: [], status, running: false, crashes: [], fired: new Set(), parent: null,
      partitionCrashes: new Map(), quarantined: new Map(), isolate: 0,
    };
    this.cells.set(address, cell);
    return cell;
  }

  /** A new message with the next id; `durable` ones are committed before they are delivered. */
  private envelope(from: Address, to: Address, message: Message, causation: string | null, at = this.clock.now(), durable = false, urgent = false): Envelope {
    const id = this.idPrefix + ++this.nextId;
    // Built whole either way, not spread, as the batch loop makes one per send.
    if (urgent) return durable ? { id, from, to, at, causation, message, durable, urgent } : { id, from, to, at, causation, message, urgent };
    return durable ? { id, from, to, at, causation, message, durable } : { id, from, to, at, causation, message };
  }

  /**
   * Whether what an actor does on `env` serves a person at a panel: the actor itself is
   * interactive, the message came from one, or it follows from such a message (a session's PIN
   * check, the unlock of the door it opens). Such work commits ahead of bulk work.
   */
  private servesPanel(cell: Cell, env: Envelope): boolean {
    if (!this.anyInteractive) return false;
    return cell.behavior.interactive === true || this.servesPanelFrom(env);
  }

  private route(env: Envelope): void {
    if (this.closed) return;
    this.asks.follow(env);
    const sink = this.sinks.get(env.to);
    if (sink) {
      this.trace.note(env.id, env.at, env.from, env.to, env.message.type, env.causation, false);
      return sink(env.message, env);
    }
    const cell = this.cells.get(env.to);
    if (!cell) return this.fallBack(env, 'no-such-actor');
    if (cell.status === 'failed') return this.keeps(cell, env) ? this.keep(cell, env) : this.dead(env, 'actor-failed', { code: cell.behavior.failedCode });
    // Being revived (its revival is written): such mail queues behind what it kept, not ahead of it.
    if (cell.kept && this.keeps(cell, env)) return this.keep(cell, env);
    // (One forgotten when stopped is gone but for the effects of its last batch: its mail goes where mail to it goes now.)
    if (cell.status === 'stopped') return cell.behavior.forgottenWhenStopped === true ? this.fallBack(env, 'actor-stopped') : this.dead(env, 'actor-stopped');
    if (!cell.behavior.accepts.has(env.message.type)) return this.dead(env, 'not-handled');
    // A quarantined partition's mail is refused at once, not queued behind the rest.
    if (cell.quarantined.size > 0 && this.inQuarantine(cell, cell.ctx, env.message)) return this.deadInPartition(cell, env);
    this.enqueue(cell, env);
  }

  /** Mail for an address with no actor (any more): to the fallback's address, if it gives one other than the sender's, else a dead letter. */
  private fallBack(env: Envelope, reason: 'no-such-actor' | 'actor-stopped'): void {
    const instead = this.fallback(env.to);
    if (instead === null || instead === env.from || instead === env.to || !this.cells.has(instead)) return this.dead(env, reason);
    this.route({ ...env, to: instead });
  }

  /** The partition `message` concerns in `ctx`, or null (none, or partitionOf threw). */
  private partitionOf(cell: Cell, ctx: unknown, message: Message): string | null {
    const of = cell.behavior.partitionOf;
    if (!of) return null;
    try {
      return of.call(cell.behavior, ctx, message);
    } catch {
      return null;
    }
  }

  private inQuarantine(cell: Cell, ctx: unknown, message: Message): boolean {
    const partition = this.partitionOf(cell, ctx, message);
    return partition !== null && cell.quarantined.has(partition);
  }

  /**
   * A message of a quarantined partition: refused with the actor's partition code. `removeFromStore`
   * false: a batch's commit already marked it handled. `untouched` false: the message crashed its
   * handler after effects may have run (see crash), so it does not go back to its sender.
   */
  private deadInPartition(cell: Cell, env: Envelope, removeFromStore = true, untouched = true): void {
    this.dead(env, 'partition-failed', { code: cell.behavior.partitionCode, removeFromStore, partitionBounce: untouched });
  }

  private enqueue(cell: Cell, env: Envelope, front = false): void {
    if (this.closed) return; // a restart after close (a commit failing as the box stops) queues nothing
    this.trace.note(env.id, env.at, env.from, env.to, env.message.type, env.causation, false);
    const mailbox = cell.mailbox;
    if (front) mailbox.unshift(env);
    else if (cell.running && this.anyInteractive && cell.behavior.interactive !== true && this.servesPanel(cell, env)) {
      mailbox.splice(this.passingPoint(cell, env), 0, env);
      // A note sent aside (a session's end passed on to the registry, a wrong PIN counted there):
      // nobody waits for it, so it moves no bulk commit ahead; it still keeps its place among the
      // panel's messages, or its sender's next one (the next session's PIN match) would wait behind it.
      if (env.aside !== true) this.promote(cell);
    } else mailbox.push(env);
    this.queued++;
    if (cell.pending) this.joinCommit(cell);
    if (!cell.running) void this.drain(cell);
  }

  /**
   * Where a message that serves a panel joins a mailbox holding bulk work (a registration flood):
   * it passes the bulk messages of other senders, as if it had come first, but never a message of
   * its own sender (each sender's messages stay in the order sent), nor another that serves a
   * panel (panels are served in the order they came), nor what the supervisor tells the actor
   * about itself (`recovered` after the mail redelivered at a start, `restarted` after a crash,
   * `started`): the actor reconciles before it serves anybody.
   */
  private passingPoint(cell: Cell, env: Envelope): number {
    const mailbox = cell.mailbox;
    let i = mailbox.length;
    while (i > 0) {
      const queued = mailbox[i - 1]!;
      if (queued.from === env.from || this.servesPanel(cell, queued) || (queued.from === SUPERVISOR && SELF_NOTICES.has(queued.message.type))) break;
      i--;
    }
    return i;
  }

  /**
   * A message nobody will handle. `code`: what the ask it served fails with (the actor's failed or
   * partition code). `removeFromStore` false: a batch's commit already marked it handled.
   * `crashBounce`: the message crashed its recipient before any effect (see bounce), and goes back
   * to its sender as from a failed one; a sender that answers for it answers the ask it served too.
   * `partitionBounce` false: a message of a quarantined partition that does not go back (it crashed
   * its handler after effects may have run).
   */
  private dead(
    env: Envelope,
    reason: DeadLetter['reason'],
    { code, removeFromStore = true, crashBounce = false, partitionBounce = true }: { code?: ErrorCode | undefined; removeFromStore?: boolean; crashBounce?: boolean; partitionBounce?: boolean } = {},
  ): void {
    // A committed message nobody will handle leaves the store, or it would come back at every start.
    if (removeFromStore && env.durable) this.commit({ handled: [env.id] }).catch((error) => this.log('error', 'dead letter not removed from the store', { to: env.to, code: errorCode(error) }));
    this.trace.note(env.id, env.at, env.from, env.to, env.message.type, env.causation, true);
    this.log('warn', 'dead letter', { to: env.to, type: env.message.type, reason });
    this.deadLetters.publish({ envelope: env, reason });
    // A quarantined partition's mail goes back only to a sender that answers for it (a session's
    // factor or release for a pickup an earlier version left in the registry's table): others (a
    // compartment's door report) would keep it for a revival that lifting a quarantine does not announce.
    const bounces = reason === 'actor-failed' || crashBounce || (reason === 'partition-failed' && partitionBounce && this.answersBounce(env));
    this.asks.dead(env, reason, code, bounces && this.answersBounce(env));
    if (bounces) this.bounce(env, crashBounce);
  }

  /** Whether the sender of `env`, a told message, hears it came back (see bounce) and answers for it (the ask it served need not fail). */
  private answersBounce(env: Envelope): boolean {
    if ((env.message as { requestId?: unknown }).requestId !== undefined) return false;
    const sender = this.cells.get(env.from);
    return sender !== undefined && env.from !== env.to && sender.status === 'active' && sender.behavior.accepts.has('delivery.failed') && sender.behavior.answersBounces?.(env.to, env.message.type) === true;
  }

  /**
   * A message that reached an actor failed for good goes back to its sender as `delivery.failed`,
   * when the sender takes that message: it can go on without an answer that will never come (a
   * session asking a failed card reader goes on with the birth date at once). It comes back as
   * urgent as it went: a panel waits for it (the registry tells a session the door cannot open),
   * so it passes bulk mail as the message it answers did (see passingPoint); a note sent aside
   * does not. `crashed`: the recipient is not failed, but its handler threw on the message, so it
   * took no effect (nothing of it was committed or run) and the sender hears so, as from a failed one.
   */
  private bounce(env: Envelope, crashed = false): void {
    const sender = this.cells.get(env.from);
    // (A message an actor sent itself that crashed it: it restarts and reconciles, there is no one to tell.)
    if (!sender || env.from === env.to || sender.status !== 'active' || !sender.behavior.accepts.has('delivery.failed')) return;
    const message = { type: 'delivery.failed', to: env.to, messageType: env.message.type, message: env.message, ...(crashed ? { crashed } : {}) };
    this.route(this.envelope(SUPERVISOR, env.from, message, env.id, undefined, false, env.urgent === true && env.aside !== true));
  }

  private async drain(cell: Cell): Promise<void> {
    cell.running = true;
    this.running++;
    try {
      while (cell.mailbox.length > 0 && cell.status === 'active' && !this.closed) await this.handleBatch(cell);
    } finally {
      cell.running = false;
      this.running--;
    }
  }

  /**
   * Handles the messages waiting in `cell`'s mailbox (up to `batchLimit`) one after the other, each
   * on the state the previous one left, then commits what they produced as one transaction and
   * only then runs their effects, message by message in order.
   *
   * For every message this is what handling it alone would do: its new state (superseded in the
   * write by the batch's last state, which includes it), timers, audit records, durable messages
   * and spawned actors are committed before any of its effects run or any reply leaves. A backlog
   * costs one write instead of one per message, so an actor catches up faster the more it lags.
   * A handler that throws ends the batch before its message: the messages before it are committed
   * and their effects run, then the actor crashes on that message from the state they left, as if
   * each had been committed alone. A failed commit treats every message of the batch alike.
   */
  private async handleBatch(cell: Cell): Promise<void> {
    const mailbox = cell.mailbox;
    const now = this.clock.now();
    const handledNow = this.runHandlers(cell, now);
    const { count, plan, handled, failure, stop, refused } = handledNow;
    let ctx = handledNow.ctx;

    if (count === 0) {
      // The first message's handler threw: the actor crashes on it, from its committed state.
      const { env, error } = failure!;
      mailbox.shift();
      this.queued--;
      this.asks.begin(env);
      try {
        await this.crash(cell, env, error, env.message, true);
      } finally {
        this.asks.end(env);
      }
      return;
    }
    const envs = count === mailbox.length ? mailbox.splice(0) : mailbox.splice(0, count);
    this.queued -= count;

    // Everything the handlers produced that must survive a crash is committed in one transaction
    // with the new state: timers, audit records, messages to other actors, spawned actors, and the
    // marks that the messages were handled. Only then do effects run (journal before pulse).
    // Timer changes are computed, not rewritten, so an actor with thousands of timers pays for
    // the ones it touches.
    const scheduled = plan?.scheduled;
    const cancelled = plan?.cancelled;
    // Timers that fired by now; one that fires while this commits is the next batch's to remove.
    const fired = cell.fired.size > 0 ? [...cell.fired] : [];
    const timersChanged = (scheduled !== undefined && scheduled.size > 0) || (cancelled !== undefined && cancelled.size > 0) || fired.length > 0;
    let ctxChanged = ctx !== cell.ctx;
    const actors: ActorWrite[] = [];
    /** the batch's timer changes as written (and kept by a panel's batch that joins the commit) */
    let set: PersistedTimer[] = [];
    const removed: string[] = [];
    if (stop) {
      const forget = cell.behavior.transient === true || cell.behavior.forgottenWhenStopped === true;
      actors.push(forget ? { address: cell.address, deleted: true } : this.write(cell.address, cell.behavior, ctx, 'stopped', new Map()));
    } else if (ctxChanged || timersChanged) {
      if (scheduled) set = [...scheduled.values()];
      if (cancelled) for (const k of cancelled) removed.push(k);
      for (const k of fired) if (!scheduled?.has(k) && !cell.timers.has(k)) removed.push(k);
      actors.push(this.save(cell, { ctx, set, removed }));
    }
    if (plan) for (const child of plan.spawned) actors.push(this.write(child.address, child.behavior, child.ctx, 'active', new Map()));
    if (actors.length || plan?.audit.length || plan?.sent.length || handled) {
      const batch: CommitBatch = { actors };
      if (plan?.audit.length) batch.audit = plan.audit;
      if (plan?.sent.length) batch.sent = plan.sent;
      if (handled) batch.handled = handled;
      const relayOnly = plan !== null && !plan.external && !ctxChanged && !timersChanged;
      const writeBehind = !stop && (cell.behavior.transient === true || relayOnly);
      // A commit written behind goes with the urgent ones: the urgent queue is always cut before
      // (or with) the bulk one, so no commit of what its messages cause, urgent or not, lands
      // before it (a bulk relay telling a panel's actor, which commits urgently, would otherwise).
      // Awaited, it may take a panel's batch while it is queued (see joinCommit).
      const joinable = !writeBehind && !stop && failure === null && this.groupCommit;
      const committing = this.commit(batch, writeBehind || this.interactive(cell, envs), writeBehind, writeBehind ? undefined : cell, joinable ? (commit) => (cell.pending = { commit, ctx, set, removed, joined: [] }) : undefined);
      if (writeBehind) {
        // Write-behind. The commit is queued before any commit of what its messages cause, and
        // transactions are written in queue order: the store never holds the effect of a message
        // without the commit that sent it. So effects need not wait for the disk when the actor's
        // state dies with the process anyway (a transient actor: a restart ends a session as
        // interrupted, and the panel starts over), or when the batch only passes messages on to
        // other actors, which commit after it, and changes nothing of its own. A failed write is
        // kept and written at the head of the next transaction (see flush).
        committing.catch((error: unknown) => this.log('warn', 'a commit written behind failed: written again with the next transaction', { actor: cell.address, code: errorCode(error) }));
      } else {
        // A timer it cancels that comes due while this commits is cancelled with it, not delivered.
        if (cancelled !== undefined && cancelled.size > 0) cell.cancelling = cancelled;
        try {
          await committing;
        } catch (error) {
          // The batches joined to it were not written either: handled again, in their order.
          const joined = cell.pending?.joined ?? [];
          cell.pending = null;
          const due = this.stopCancelling(cell);
          await this.commitFailed(cell, [...envs, ...joined.flatMap((j) => j.envs)], error);
          // The cancel was not written: what came due meanwhile fires now.
          for (const t of due) if (cell.timers.get(t.key) === t) this.deliverTimer(cell, t);
          return;
        }
        this.stopCancelling(cell);
      }
    }
    const joined = cell.pending?.joined ?? null;
    if (joined !== null) {
      ctx = cell.pending!.ctx;
      ctxChanged = ctx !== cell.ctx;
    }
    cell.pending = null;

    // Committed: the in-memory state moves only now.
    if (stop) {
      cell.ctx = ctx;
      cell.status = 'stopped';
      for (const t of cell.timers.values()) this.clock.clearTimer(t.handle);
      cell.timers.clear();
    } else if (ctxChanged || timersChanged) {
      for (const k of fired) cell.fired.delete(k);
      cell.ctx = ctx;
      if (ctxChanged) this.changes.publish({ address: cell.address, kind: cell.behavior.kind });
      if (scheduled && cancelled) {
        for (const key of cancelled) this.disarm(cell, key);
        for (const key of scheduled.keys()) this.disarm(cell, key);
        for (const t of scheduled.values()) this.armTimer(cell, t);
      }
    }

    // A panel waits for this actor (its batch joined this commit, or its message is next): the
    // replies of a bulk batch reach their callers after the panel's answer, not before it. Their
    // asks are settled now; only the callers' code (an integration's next registration) waits for
    // the turn after, instead of running ahead of the panel's answer on this thread.
    // (Set back to what it was, not cleared: an actor these effects wake may handle a batch of its
    // own inside them — a relay, a session, whose effects run at once — and the rest of this
    // batch's replies are held all the same.)
    const outer = this.repliesLater;
    this.repliesLater = !this.interactive(cell, envs) && ((joined !== null && joined.length > 0) || this.awaitedByPanel(cell));
    let ran: Promise<void> | null;
    try {
      ran = this.runBatchEffects(cell, envs, plan, now);
    } finally {
      this.repliesLater = outer;
    }
    if (ran !== null) await ran;
    // Then those of the panel's batches that joined the commit, in the order they were handled.
    if (joined !== null) {
      for (const j of joined) {
        const more = this.runBatchEffects(cell, j.envs, j.plan, j.now);
        if (more !== null) await more;
      }
    }
    // Removed from the store with the batch's commit (when durable): refused only now.
    if (refused) for (const env of refused) this.deadInPartition(cell, env, false);

    if (stop) {
      this.cells.delete(cell.address);
      this.withQuarantines.delete(cell);
      // Mail that came after the stop is refused as it would be once the actor is gone (or, for
      // one forgotten when stopped, goes where mail to its address goes now: the fallback).
      this.queued -= mailbox.length;
      for (const env of mailbox.splice(0)) {
        if (cell.behavior.forgottenWhenStopped === true) this.route(env);
        else this.dead(env, 'actor-stopped');
      }
      return;
    }
    // A panel's message that came during the commit may have passed the one whose handler threw.
    const failed = failure && cell.status === 'active' ? mailbox.indexOf(failure.env) : -1;
    if (failed >= 0) {
      mailbox.splice(failed, 1);
      this.queued--;
      this.asks.begin(failure!.env);
      try {
        await this.crash(cell, failure!.env, failure!.error, failure!.env.message, true);
      } finally {
        this.asks.end(failure!.env);
      }
    }
  }

  /**
   * Runs the effects of a committed batch's handlers, message by message in order, from message
   * `from`: in the same turn (null) unless one crashes the actor, then once that is handled.
   */
  private runBatchEffects(cell: Cell, envs: readonly Envelope[], plan: Plan | null, now: number, from = 0): Promise<void> | null {
    const steps = plan?.steps;
    let s = 0;
    if (steps !== undefined) while (s < steps.length && steps[s]!.index < from) s++;
    for (let i = from; i < envs.length; i++) {
      const env = envs[i]!;
      if (steps !== undefined && s < steps.length && steps[s]!.index === i) {
        const step = steps[s++]!;
        try {
          this.runEffects(cell, env, step, now);
        } catch (error) {
          // The state is committed; the messages after this one are too, and their effects still run.
          return this.crash(cell, env, error).then(() => {
            this.asks.end(env);
            return this.runBatchEffects(cell, envs, plan, now, i + 1) ?? undefined;
          });
        }
      }
      this.asks.end(env);
    }
    return null;
  }

  /**
   * A panel's message reached an actor that awaits the commit of its last batch, still queued with
   * the urgent ones (promoted, see promote): the panel's batch is handled now, on the state that
   * commit writes, and joins it — one transaction for both instead of one after the other, and
   * the panel waits for the disk once. As if the actor had handled the panel's batch right after
   * its last one, which it would next: its effects run after that batch's, once both are
   * written; should the commit fail, both batches' messages are handled again (commitFailed).
   * Only a plain batch joins (no timer set or cancelled, nothing spawned or stopped, no handler
   * that throws, nothing refused); any other is handled after the commit, as before.
   */
  private joinCommit(cell: Cell): void {
    const pending = cell.pending;
    if (!pending || pending.refused || cell.isolate > 0 || cell.status !== 'active' || cell.mailbox.length === 0) return;
    // (The panel's test first: it is cheap, and the urgent queue may hold thousands of commits, as
    // when every pickup actor recovers at a start.)
    if (!this.servesPanel(cell, cell.mailbox[0]!) || !this.urgentQueue.includes(pending.commit)) return;
    const now = this.clock.now();
    const h = this.runHandlers(cell, now, pending.ctx);
    const plan = h.plan;
    // (A timer cancelled or set counts even where the plan shows nothing: a cancel of one the
    // awaited commit sets is not in `cell.timers` yet, and would be lost.)
    const plain = h.count > 0 && h.failure === null && !h.stop && h.refused === null && (plan === null || (plan.spawned.length === 0 && plan.steps.every((s) => s.effects.every((e) => e.type !== 'schedule' && e.type !== 'cancel'))));
    if (!plain) {
      // Handled as usual once the commit is done (runHandlers took nothing out of the mailbox).
      for (let i = 0; i < h.count; i++) this.asks.end(cell.mailbox[i]!);
      pending.refused = true;
      return;
    }
    const envs = cell.mailbox.splice(0, h.count);
    this.queued -= h.count;
    const batch = pending.commit.batch;
    // Timers that fired while it waited (the ring of an interactive actor may be in this batch):
    // written as gone with it, as the next batch's commit would have.
    let firedMeanwhile = false;
    for (const k of cell.fired) {
      if (cell.timers.has(k) || pending.removed.includes(k) || pending.set.some((t) => t.key === k)) continue;
      pending.removed.push(k);
      firedMeanwhile = true;
    }
    if (h.ctx !== pending.ctx || firedMeanwhile) {
      // One write of the actor from its committed state to the joined one (rows: what changed).
      const write = this.save(cell, { ctx: h.ctx, set: pending.set, removed: pending.removed });
      const actors = batch.actors ?? [];
      const own = actors.findIndex((a) => a.address === cell.address);
      batch.actors = own >= 0 ? actors.map((a, i) => (i === own ? write : a)) : [write, ...actors];
    }
    if (plan !== null && plan.audit.length > 0) batch.audit = [...(batch.audit ?? []), ...plan.audit];
    if (plan !== null && plan.sent.length > 0) batch.sent = [...(batch.sent ?? []), ...plan.sent];
    if (h.handled !== null) batch.handled = [...(batch.handled ?? []), ...h.handled];
    pending.ctx = h.ctx;
    pending.joined.push({ envs, plan, now });
  }

  /**
   * Runs the pure handlers of the messages at the head of the mailbox, each on the state the
   * previous one left, until the mailbox or the batch limit ends, a handler throws, one stops its
   * actor, or the next message differs from the first in serving a panel. Takes nothing out of
   * the mailbox and changes nothing committed. Kept apart from the async part so that the loop
   * runs on plain locals.
   */
  private runHandlers(cell: Cell, now: number, from: unknown = cell.ctx): Handled {
    const mailbox = cell.mailbox;
    const logic = cell.behavior.logic;
    const batchLimit = cell.isolate > 0 ? (cell.isolate--, 1) : this.batchLimit;
    const limit = mailbox.length < batchLimit ? mailbox.length : batchLimit;
    // One snapshot object for the batch: a transition reads it and returns a new one, never keeps it.
    const snapshot = { status: 'active' as const, output: undefined, error: undefined, context: from };
    let ctx = from;
    let plan: Plan | null = null;
    let handled: string[] | null = null;
    let failure: { env: Envelope; error: unknown } | null = null;
    let stop = false;
    let refused: Envelope[] | null = null;
    let count = 0;
    // A message of a quarantined partition is refused here, unhandled. Mail queued when its
    // partition was quarantined was taken out then (crashPartition); this catches a message whose
    // partition follows from the state the batch has reached.
    const quarantine = cell.quarantined.size > 0;
    // Handlers of messages without a partition are told which are quarantined (Stamp.quarantined).
    const quarantinedIds: ReadonlySet<string> | null = quarantine ? new Set(cell.quarantined.keys()) : null;
    const started = limit > 1 ? performance.now() : 0;
    // A panel's messages and bulk work are not handled in one batch: the panel's commit stays as
    // small as on an idle box, and goes ahead of the bulk ones (see commit).
    const urgentBatch = limit > 1 && this.anyInteractive && cell.behavior.interactive !== true ? this.servesPanel(cell, mailbox[0]!) : null;
    while (count < limit) {
      // the clock is read after each of the first handlers, then after every 8th: cheap for fast ones
      if (count > 0 && (count < 8 || (count & 7) === 0) && performance.now() - started >= this.batchBudgetMs) break;
      const env = mailbox[count]!;
      if (urgentBatch !== null && count > 0 && this.servesPanel(cell, env) !== urgentBatch) break;
      if (quarantine && this.inQuarantine(cell, ctx, env.message)) {
        count++;
        (refused ??= []).push(env);
        if (env.durable) (handled ??= []).push(env.id);
        continue;
      }
      let nextCtx: unknown;
      let effects: Effect<unknown>[] | null = null;
      try {
        snapshot.context = ctx;
        const event = stamped(env.message, now);
        if (quarantinedIds !== null) event.quarantined = quarantinedIds;
        const result = logic.transition(snapshot as never, event);
        nextCtx = result[0].context;
        const raw = result[1];
        if (raw.length > 0) effects = this.checkedEffects(raw);
      } catch (error) {
        failure = { env, error };
        break;
      }
      count++;
      this.asks.begin(env);
      if (env.durable) (handled ??= []).push(env.id);
      if (effects !== null && effects.length > 0) {
        plan ??= { scheduled: new Map(), cancelled: new Set(), sent: [], audit: [], spawned: [], spawning: new Set(), steps: [], external: false };
        if (this.plan(cell, plan, env, count - 1, nextCtx, effects, now)) stop = true;
      }
      ctx = nextCtx;
      if (stop) break;
    }
    return { count, ctx, plan, handled, failure, stop, refused };
  }

  /** A handler's effects without the functions @xstate/store may add; an unknown kind to spawn is the handler's crash. */
  private checkedEffects(raw: unknown[]): Effect<unknown>[] {
    const effects: Effect<unknown>[] = [];
    for (const e of raw) if (typeof e === 'object' && e !== null) effects.push(e as Effect<unknown>);
    for (const e of effects) {
      if (e.type === 'spawn' && !this.behaviors.has(e.kind)) throw new Error(`no behavior registered for actor kind "${e.kind}"`);
    }
    return effects;
  }

  /**
   * Adds one handler's effects to the batch's plan: timer changes, durable messages, audit
   * records and spawned actors for the commit, and what each effect needs once it runs.
   * Returns true when the handler stopped its actor.
   */
  private plan(cell: Cell, plan: Plan, env: Envelope, index: number, ctx: unknown, effects: Effect<unknown>[], now: number): boolean {
    const prepared: Prepared[] = new Array<Prepared>(effects.length);
    let stop = false;
    /** whether `env` serves a panel: asked once per message, at its first send */
    let urgent: boolean | undefined;
    for (let i = 0; i < effects.length; i++) {
      const e = effects[i]!;
      if (e.type === 'schedule') {
        plan.scheduled.set(e.key, { key: e.key, at: e.at, message: e.message });
        plan.cancelled.delete(e.key);
      } else if (e.type === 'cancel') {
        plan.scheduled.delete(e.key);
        if (cell.timers.has(e.key)) plan.cancelled.add(e.key);
      } else if (e.type === 'stop') {
        stop = true;
        plan.external = true;
      } else if (e.type === 'send') {
        const durable = !this.sinks.has(e.to);
        if (!durable) plan.external = true;
        const made = this.envelope(cell.address, e.to, e.message, env.id, now, durable, (urgent ??= this.servesPanel(cell, env)));
        const out = e.aside ? { ...made, aside: true } : made;
        prepared[i] = out;
        if (durable) plan.sent.push(out);
      } else if (e.type === 'audit') {
        plan.external = true;
        const record: AuditRecordInput = { ...e.entry, at: now, by: cell.address, causation: env.id };
        prepared[i] = record;
        plan.audit.push(record);
      } else if (e.type === 'spawn') {
        plan.external = true;
        if (this.cells.has(e.address) || plan.spawning.has(e.address)) continue;
        const behavior = this.behaviors.get(e.kind)!;
        const childCtx = behavior.init(e.input, e.address);
        const started = behavior.accepts.has('started')
          ? this.envelope('supervisor', e.address, { type: 'started' }, env.id, now, true)
          : null;
        const child: Spawned = { address: e.address, behavior, ctx: childCtx, started };
        prepared[i] = child;
        plan.spawning.add(e.address);
        plan.spawned.push(child);
        if (started) plan.sent.push(started);
      } else plan.external = true; // publish, io
    }
    plan.steps.push({ index, ctx, effects, prepared });
    return stop;
  }

  /** Runs one handler's effects, in the order it enqueued them, once its batch is committed. */
  private runEffects(cell: Cell, env: Envelope, step: Step, now: number): void {
    const { effects, prepared } = step;
    for (let i = 0; i < effects.length; i++) {
      const e = effects[i]!;
      switch (e.type) {
        case 'send':
          this.route(prepared[i] as Envelope);
          break;
        case 'publish':
          this.events.publish({ at: now, source: cell.address, ...e.event });
          break;
        case 'audit':
          this.audit.publish(prepared[i] as AuditRecordInput);
          break;
        case 'spawn': {
          const child = prepared[i] as Spawned | undefined;
          if (!child || this.cells.has(child.address)) break;
          // The spawner is the child's parent: it is told when the child fails for good.
          const c = this.newCell(child.address, child.behavior, child.ctx, 'active');
          c.parent = cell.address;
          if (child.started) this.route(child.started);
          break;
        }
        case 'io':
          // The operation sees the state its own handler left, not a later one of the batch.
          this.startIo(cell, env, e.op, step.ctx);
          break;
        default:
          break; // schedule, cancel, stop: applied at commit
      }
    }
  }

  /**
   * A batch's commit failed. On storage every message goes back to the committed state as the
   * supervisor's storage handling says (parked, refused). Any other failure of a batch of several
   * puts them back to be handled one per commit (`isolate`); of a single message, it is a crash on it.
   */
  private async commitFailed(cell: Cell, envs: Envelope[], error: unknown): Promise<void> {
    if (errorCode(error) === 'STORAGE_UNAVAILABLE') {
      for (const env of envs) {
        try {
          await this.crash(cell, env, error);
        } finally {
          this.asks.end(env);
        }
      }
      return;
    }
    if (envs.length > 1) {
      // Not storage and no handler threw: the commit itself failed on something one of these
      // messages produced. They are handled again one per commit, so the crash falls on the
      // message (and the partition) it comes from, not on the first of the batch.
      cell.mailbox.unshift(...envs);
      this.queued += envs.length;
      cell.isolate = envs.length;
      return;
    }
    const only = envs[0]!;
    try {
      // (Its commit failed: nothing of it took effect.)
      await this.crash(cell, only, error, only.message, true);
    } finally {
      this.asks.end(only);
    }
  }

  private disarm(cell: Cell, key: string): void {
    const t = cell.timers.get(key);
    if (t) this.clock.clearTimer(t.handle);
    cell.timers.delete(key);
  }

  /**
   * Queues a commit for the next transaction. Every commit that becomes ready while the previous
   * transaction runs (or in the same turn) joins the next one: one fsync for all of them. An
   * `urgent` commit (one a person at a panel waits for) does not queue behind bulk work: the next
   * transaction holds the urgent commits alone, so it is as small and quick as on an idle box.
   * A commit awaited by its actor depends on no other in the queues: the actor has one commit in
   * flight at a time, and its messages reach their recipients only once it is done. A commit
   * written behind (`behind`, see handleBatch) is one others may depend on: its messages went on
   * at once, so it goes to the urgent queue, which is always cut before or with the bulk one, and
   * the transactions that follow never reach the disk without it.
   */
  private commit(batch: CommitBatch, urgent = false, behind = false, cell?: Cell, onQueued?: (queued: QueuedCommit) => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const queued: QueuedCommit = behind ? { batch, resolve, reject, behind } : { batch, resolve, reject };
      if (cell && !urgent) queued.cell = cell;
      onQueued?.(queued);
      (urgent ? this.urgentQueue : this.commitQueue).push(queued);
      if (!this.flushing) {
        this.flushing = true;
        queueMicrotask(() => void this.flush());
      }
    });
  }

  /**
   * A panel's message reached an actor whose bulk batch waits for its commit: that commit goes
   * with the urgent ones, so the panel's message waits for one transaction, not for the bulk queue.
   * Safe to move: a commit its actor awaits depends on none in the queues (see commit), and the
   * urgent queue is cut before or with the bulk one.
   */
  private promote(cell: Cell): void {
    const queue = this.commitQueue;
    for (let i = 0; i < queue.length; i++) {
      if (queue[i]!.cell !== cell) continue;
      this.urgentQueue.push(queue.splice(i, 1)[0]!);
      return;
    }
  }

  /** A reply (or other message) sent by an actor that serves a panel, or on a panel's behalf. */
  private servesPanelFrom(env: Envelope): boolean {
    return env.urgent === true || this.cells.get(env.from)?.behavior.interactive === true;
  }

  /**
   * Whether `env`, to an actor failed for good, is kept for it (see keepsMailWhileFailed): it
   * asks nothing, and fewer than KEPT_LIMIT are kept; past that, mail goes back as to any failed actor.
   */
  private keeps(cell: Cell, env: Envelope): boolean {
    if (cell.behavior.keepsMailWhileFailed !== true || !cell.behavior.accepts.has(env.message.type) || (env.message as { requestId?: unknown }).requestId !== undefined) return false;
    cell.kept ??= [];
    if (cell.kept.length < KEPT_LIMIT) return true;
    if (!this.keptFull.has(cell.address) && this.keptFull.add(cell.address)) this.log('warn', 'an actor failed for good keeps no more mail: what comes now is refused', { actor: cell.address, kept: KEPT_LIMIT });
    return false;
  }

  /**
   * Keeps `env` for its failed actor (see keeps). Mail from outside the actors (the supervisor's
   * ACTOR_FAILED for another actor, a lock board's status) is in no store yet: it is written now,
   * ahead of any later commit (the urgent queue is cut first), so that it is kept over a restart
   * as an actor's mail is, and leaves the store once handled.
   */
  private keep(cell: Cell, env: Envelope): void {
    // (One no store can hold, a test's broken message, would fail the transaction it shares: kept in memory only.)
    if (env.durable !== true && unstorable(env.message) === null) {
      env = { ...env, durable: true };
      this.commit({ sent: [env] }, true).catch((error: unknown) => this.log('error', 'mail kept for a failed actor not written: it is kept until a restart only', { actor: cell.address, code: errorCode(error) }));
    }
    cell.kept!.push(env);
  }

  /** A panel waits for the actor: the next message it handles serves a panel, and was not sent aside. */
  private awaitedByPanel(cell: Cell): boolean {
    const next = cell.mailbox[0];
    return next !== undefined && next.aside !== true && this.servesPanel(cell, next);
  }

  /** A batch is urgent when one of its messages serves a person at a panel. */
  private interactive(cell: Cell, envs: readonly Envelope[]): boolean {
    for (const env of envs) if (this.servesPanel(cell, env)) return true;
    return false;
  }

  /**
   * The commits of the next transaction (one, without group commit): the urgent ones alone if any
   * wait — but at most URGENT_RUN times in a row while bulk commits wait, so a stream of key
   * presses cannot starve bulk work: then the urgent ones and the bulk ones go together.
   */
  private nextGroup(): QueuedCommit[] {
    const urgent = this.urgentQueue.length > 0;
    if (!this.groupCommit) return (urgent ? this.urgentQueue : this.commitQueue).splice(0, 1);
    if (urgent && !(this.urgentRun >= URGENT_RUN && this.commitQueue.length > 0)) {
      this.urgentRun++;
      return this.urgentQueue.splice(0);
    }
    this.urgentRun = 0;
    const group = this.urgentQueue.splice(0);
    for (const c of this.commitQueue.splice(0)) group.push(c);
    return group;
  }

  private async flush(): Promise<void> {
    /**
     * Bulk commits that are done but not yet released, because an urgent commit was waiting when
     * they finished: what their actors do next (replies, effects, the next handlers) would run on
     * this thread before the urgent transaction's statements come back, so it waits for them.
     */
    let held: QueuedCommit[] = [];
    while (this.urgentQueue.length > 0 || this.commitQueue.length > 0) {
      let slow = false;
      let urgent = false;
      let group: QueuedCommit[] | null = null;
      /** failed commits written behind, ahead of the group in this transaction */
      let retried: QueuedCommit[] = [];
      // The group is cut as late as the store allows: what queued up meanwhile joins it.
      const batch: CommitBatch = {
        fill: () => {
          if (group) return;
          urgent = this.urgentQueue.length > 0;
          group = this.nextGroup();
          retried = this.behindFailed.splice(0);
          Object.assign(batch, merge(retried.length > 0 ? [...retried, ...group] : group));
        },
      };
      try {
        const t0 = performance.now();
        await this.persistence.commit(batch);
        if (!group) {
          // A store that does not fill batches: the group is cut now and committed as before.
          batch.fill!();
          await this.persistence.commit(batch);
        }
        group ??= [];
        slow = this.groupCommit && performance.now() - t0 >= SLOW_COMMIT_MS;
        if (!this.storageOk) {
          const downMs = this.clock.now() - (this.storageFailure?.since ?? this.clock.now());
          this.storageOk = true;
          this.storageFailure = null;
          this.log('info', 'storage takes writes again: new work accepted', { downMs });
          this.storage.publish({ healthy: true });
          // Once the commits of this group have moved their actors' state (a stop, a crash), so
          // parked I/O of an actor this very commit stopped is dropped rather than run.
          setImmediate(() => {
            if (!this.closed) this.resumeParked();
          });
        }
        if (!urgent && this.urgentQueue.length > 0) held.push(...group);
        else for (const g of group) g.resolve();
      } catch (error) {
        const code = errorCode(error);
        this.storageDown(code, error);
        // Failed before the batch was taken (BEGIN refused): the commits it would have held fail.
        if (!group) {
          urgent = this.urgentQueue.length > 0;
          group = this.nextGroup();
        }
        // Written behind: their effects ran; they go again with the next transaction, in order.
        // One no store can hold (a bug put a value in it that does not serialize) would fail every
        // later transaction: it is dropped, as before write-behind a failed commit was.
        const again = [...retried, ...group.filter((g) => g.behind)].filter((g) => this.writable(g));
        this.behindFailed.unshift(...again);
        for (const g of group) g.reject(error);
      }
      if (held.length > 0 && (urgent || this.urgentQueue.length === 0)) {
        // After the urgent commits' replies have gone out (they run as microtasks, first).
        const release = held;
        held = [];
        setImmediate(() => {
          for (const g of release) g.resolve();
        });
      }
      // A commit that waited for the disk (fsync): the handlers it just released run before the
      // next group is cut, so they share its fsync instead of waiting for one of their own.
      // Commits to memory never wait here, nor does an urgent commit that is ready already.
      if (slow && this.urgentQueue.length === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    this.flushing = false;
  }

  /** Whether a failed commit written behind can be written at all (stores serialize it as JSON). */
  private writable(commit: QueuedCommit): boolean {
    const { actors, audit, sent, handled } = commit.batch;
    const reason = unstorable({ actors, audit, sent, handled });
    if (reason !== null) this.log('error', 'a commit written behind cannot be written and is dropped: the messages it handled come again at the next start', { reason });
    return reason === null;
  }

  /**
   * I/O runs beside the mailbox; its outcome comes back as messages, its rejection is a crash.
   * A rejection with STORAGE_UNAVAILABLE is not the actor's fault: the op is parked and run again
   * once storage takes writes, and storage is reported down.
   */
  private startIo(cell: Cell, env: Envelope, op: unknown, ctx: unknown): void {
    const io = cell.behavior.io;
    if (!io) throw new Error(`${cell.address} enqueued I/O but its behavior has no io()`);
    this.ioInFlight++;
    void io
      .call(cell.behavior, op, ctx, cell.address)
      .then(
        (result) => {
          const list = result === undefined ? [] : Array.isArray(result) ? result : [result];
          for (const m of list) this.route(this.envelope(cell.address, cell.address, m, env.id, undefined, false, this.servesPanel(cell, env)));
        },
        (error: unknown) => {
          if (this.closed) return;
          if (errorCode(error) === 'STORAGE_UNAVAILABLE') return this.parkIo(cell, env, op, ctx, error);
          const failed = this.envelope(cell.address, cell.address, { type: 'io.crashed', op: describe(op) }, env.id);
          // Counted against the partition of the message whose handler started the I/O.
          return this.crashOutside(cell, failed, error, env.message);
        },
      )
      .finally(() => this.ioInFlight--);
  }

  /** An I/O op storage refused waits, with the actor and the state it was started from, for storage to return. */
  private parkIo(cell: Cell, env: Envelope, op: unknown, ctx: unknown, error: unknown): void {
    this.log('warn', 'I/O failed on storage: run again once storage is back', { actor: cell.address, op: describe(op) });
    this.parked.push({ io: { cell, env, op, ctx } });
    this.storageDown('STORAGE_UNAVAILABLE', error);
  }

  private armTimer(cell: Cell, t: PersistedTimer): void {
    const handle = this.clock.setTimer(t.at, () => {
      const current = cell.timers.get(t.key);
      if (!current || current.handle !== handle || this.cells.get(cell.address) !== cell) return;
      if (cell.cancelling?.has(t.key)) {
        current.due = true;
        return;
      }
      this.deliverTimer(cell, current);
    });
    cell.timers.set(t.key, { key: t.key, at: t.at, message: t.message, handle });
  }

  /** The timers that came due while the awaited commit that cancels them was written; none is cancelling any more. */
  private stopCancelling(cell: Cell): Timer[] {
    const keys = cell.cancelling;
    if (!keys) return [];
    cell.cancelling = null;
    const due: Timer[] = [];
    for (const key of keys) {
      const t = cell.timers.get(key);
      if (t?.due) {
        t.due = false;
        due.push(t);
      }
    }
    return due;
  }

  /** A timer of the actor came due: its message is delivered, or held while the actor or its partition cannot take it. */
  private deliverTimer(cell: Cell, t: Timer): void {
    if (cell.status === 'failed') {
      // Failed for good (restored so): kept, not delivered, until the actor is revived.
      t.held = true;
      return;
    }
    if (cell.quarantined.size > 0 && this.inQuarantine(cell, cell.ctx, t.message)) {
      // Not delivered into a crash loop, and not lost: it stays with the actor's timers (and in
      // the store) until the partition is lifted, when it fires.
      t.held = true;
      this.log('warn', 'timer held: its partition is quarantined', { actor: cell.address, timer: t.key });
      return;
    }
    cell.timers.delete(t.key);
    cell.fired.add(t.key);
    this.route(this.envelope(cell.address, cell.address, t.message, `timer:${t.key}`));
  }

  /** A crash noticed outside the drain loop (I/O): restart once the current handler is done. */
  private async crashOutside(cell: Cell, env: Envelope, error: unknown, blame?: Message): Promise<void> {
    while (cell.running) await new Promise<void>((resolve) => setImmediate(resolve));
    if (cell.status !== 'active') return;
    cell.running = true;
    this.running++;
    try {
      await this.crash(cell, env, error, blame);
    } finally {
      cell.running = false;
      this.running--;
    }
    if (cell.mailbox.length > 0 && cell.status === 'active') void this.drain(cell);
  }

  /**
   * One-for-one restart from the last committed state; past the restart intensity the actor is
   * failed for good, an alarm is published and the escalation address is told.
   *
   * A crash on a message with a partition (ActorBehavior.partitionOf, asked about `blame`: the
   * message itself, or for an I/O the message that started it) counts against that partition
   * alone: the actor goes back to its committed state all the same, and past the intensity only the
   * partition is quarantined. A crash on a message without one counts against the actor.
   *
   * `undone`: the message took no effect (its handler threw, or its commit failed): its sender may
   * hear so (`delivery.failed`, see bounce). Not after effects ran or I/O started: a pulse may
   * have gone out.
   */
  private async crash(cell: Cell, env: Envelope, error: unknown, blame: Message = env.message, undone = false): Promise<void> {
    const now = this.clock.now();
    const code = errorCode(error);
    if (code === 'STORAGE_UNAVAILABLE') {
      // Not the actor's fault: it goes back to its committed state without counting a crash, and
      // a committed message it could not handle is handled again once storage is back.
      // What it had seen must not be lost: a committed message, and its own timers and I/O
      // outcomes (facts about itself, e.g. a pulse that went out) are handled again once storage
      // is back; a request from outside was refused with the code and is not. Hardware changes
      // it missed are read again: the actor hears `restarted` and asks its sensors.
      this.log('error', 'commit failed: actor back to its committed state', { actor: cell.address, message: env.message.type, code });
      this.deadLetters.publish({ envelope: env, reason: 'storage' });
      this.asks.dead(env, 'storage');
      if (env.durable || (env.from === cell.address && env.message.type !== 'io.crashed')) this.parked.push({ env });
      this.stalled.add(cell.address);
      // (I/O that storage refused outside a commit, a claim or the archive, never comes here: it
      // is parked as it is, see parkIo.)
      this.storageDown(code, error);
      return;
    }
    const partition = this.partitionOf(cell, cell.ctx, blame);
    if (partition !== null) return this.crashPartition(cell, env, partition, code, undone);
    this.dead(env, 'crashed', { crashBounce: undone });
    cell.crashes = cell.crashes.filter((t) => now - t < this.intensity.withinMs);
    cell.crashes.push(now);
    this.log('error', 'actor crashed', { actor: cell.address, message: env.message.type, code });

    if (cell.crashes.length > this.intensity.max) {
      cell.status = 'failed';
      // Its timers are kept (and persisted with it), not delivered: they run once it is revived.
      for (const t of cell.timers.values()) {
        this.clock.clearTimer(t.handle);
        t.held = true;
      }
      this.queued -= cell.mailbox.length;
      for (const queued of cell.mailbox.splice(0)) if (this.keeps(cell, queued)) this.keep(cell, queued);
      else this.dead(queued, 'actor-failed', { code: cell.behavior.failedCode });
      await this.commit({ actors: [this.save(cell)] }).catch(() => {});
      this.events.publish({ type: 'actor.failed', at: now, source: cell.address, actor: cell.address, kind: cell.behavior.kind, code });
      this.changes.publish({ address: cell.address, kind: cell.behavior.kind });
      const failure: ActorFailure = { actor: cell.address, kind: cell.behavior.kind, code, at: now };
      this.failures.set(cell.address, failure);
      if (cell.parent && cell.parent !== cell.address) {
        this.route(this.envelope('supervisor', cell.parent, { type: 'actor.escalated', actor: cell.address, kind: cell.behavior.kind, code }, env.id));
      }
      this.onFailure(failure);
      return;
    }
    this.restarted(cell, env, code, now);
  }

  /**
   * A restart is immediate: the committed ctx is what we go back to, since the failed handler's
   * changes were never committed; the actor stays active and reconciles on `restarted`.
   * `partition`: the crash was charged to it (crashPartition).
   */
  private restarted(cell: Cell, env: Envelope, code: ErrorCode, now: number, partition?: string): void {
    const event = { type: 'actor.restarted', at: now, source: cell.address, actor: cell.address, code } as const;
    this.events.publish(partition === undefined ? event : { ...event, partition });
    if (cell.behavior.accepts.has('restarted')) {
      this.enqueue(cell, this.envelope('supervisor', cell.address, { type: 'restarted', code }, env.id), true);
    }
  }

  /**
   * A crash charged to one partition. Within its intensity the actor restarts as for any crash
   * (nothing of the failed handler was committed). Past it the partition is quarantined: the
   * quarantine is committed with the actor's record (it survives a restart of the box), its
   * queued mail is refused with the actor's partition code, and the alarm sink is told.
   */
  private async crashPartition(cell: Cell, env: Envelope, partition: string, code: ErrorCode, undone = false): Promise<void> {
    const now = this.clock.now();
    if (cell.quarantined.has(partition)) return this.deadInPartition(cell, env, true, undone);
    // Partitions whose crashes all left the window are forgotten: the map holds recent ones only.
    for (const [p, times] of cell.partitionCrashes) if (now - times[times.length - 1]! >= this.intensity.withinMs) cell.partitionCrashes.delete(p);
    const crashes = (cell.partitionCrashes.get(partition) ?? []).filter((t) => now - t < this.intensity.withinMs);
    crashes.push(now);
    cell.partitionCrashes.set(partition, crashes);
    this.log('error', 'actor crashed on one partition', { actor: cell.address, partition, message: env.message.type, code });
    if (crashes.length <= this.intensity.max) {
      this.dead(env, 'crashed', { crashBounce: undone });
      this.restarted(cell, env, code, now, partition);
      return;
    }
    const quarantine: QuarantinedPartition = { partition, code, at: now };
    cell.quarantined.set(partition, quarantine);
    this.withQuarantines.add(cell);
    cell.partitionCrashes.delete(partition);
    // Held in memory at once (new mail is refused from now); written with the head, not the
    // rows, so that a restart keeps it; the message and the alarm sink learn it once committed.
    await this.commit({ actors: [this.save(cell, { ctx: cell.ctx, set: [], removed: [] })] }).catch((error: unknown) =>
      this.log('error', 'partition quarantine not committed now: it holds, and goes to storage with the actor\'s next commit', { actor: cell.address, partition, code: errorCode(error) }),
    );
    this.deadInPartition(cell, env, true, undone);
    this.log('error', 'partition quarantined: its messages are refused, the actor serves the rest', { actor: cell.address, partition, code });
    // In place (the batch being handled holds the mailbox array), in one pass, keeping the order.
    const mailbox = cell.mailbox;
    const queued: Envelope[] = [];
    let kept = 0;
    for (const m of mailbox) {
      if (this.inQuarantine(cell, cell.ctx, m.message)) queued.push(m);
      else mailbox[kept++] = m;
    }
    mailbox.length = kept;
    this.queued -= queued.length;
    for (const m of queued) this.deadInPartition(cell, m);
    this.events.publish({ type: 'partition.quarantined', at: now, source: cell.address, actor: cell.address, partition, code });
    this.changes.publish({ address: cell.address, kind: cell.behavior.kind });
    this.onQuarantine({ ...quarantine, actor: cell.address, kind: cell.behavior.kind });
  }

  /**
   * The write of an actor's next state (`next`: its context, timers set and timers removed), or
   * of its committed state whole (no `next`). An actor with tables writes only the rows that
   * changed since its last commit, and keeps its timers as rows too.
   */
  private save(cell: Cell, next?: { ctx: unknown; set: PersistedTimer[]; removed: string[] }, quarantined = cell.quarantined): ActorWrite {
    if (!next) return this.write(cell.address, cell.behavior, cell.ctx, cell.status, cell.timers, quarantined);
    const tables = cell.behavior.tables;
    if (!tables?.length) {
      if (cell.timers.size === 0) {
        return { address: cell.address, record: withQuarantine({ kind: cell.behavior.kind, ctx: next.ctx, timers: next.set, status: cell.status }, quarantined) };
      }
      const timers = new Map([...cell.timers.values()].map(({ key, at, message }) => [key, { key, at, message }]));
      for (const key of next.removed) timers.delete(key);
      for (const t of next.set) timers.set(t.key, t);
      return { address: cell.address, record: withQuarantine({ kind: cell.behavior.kind, ctx: next.ctx, timers: [...timers.values()], status: cell.status }, quarantined) };
    }
    const { head, changes } = splitRows(next.ctx, tables, cell.ctx);
    for (const key of next.removed) changes.push({ table: TIMERS, id: key, value: undefined });
    for (const t of next.set) changes.push({ table: TIMERS, id: t.key, value: t });
    const record: ActorRecord = withQuarantine({ kind: cell.behavior.kind, ctx: head, timers: [], status: cell.status, tables: [...tables, TIMERS] }, quarantined);
    return { address: cell.address, record, rows: { changes, full: false } };
  }

  /** The whole committed state of an actor, as a fresh spawn or a status change writes it. */
  private write(address: Address, behavior: ActorBehavior, ctx: unknown, status: ActorStatus, timers: Map<string, PersistedTimer>, quarantined?: Map<string, QuarantinedPartition>): ActorWrite {
    const list = [...timers.values()].map(({ key, at, message }) => ({ key, at, message }));
    const tables = behavior.tables;
    if (!tables?.length) return { address, record: withQuarantine({ kind: behavior.kind, ctx, timers: list, status }, quarantined) };
    const { head, changes } = splitRows(ctx, tables, undefined);
    for (const t of list) changes.push({ table: TIMERS, id: t.key, value: t });
    return { address, record: withQuarantine({ kind: behavior.kind, ctx: head, timers: [], status, tables: [...tables, TIMERS] }, quarantined), rows: { changes, full: true } };
  }

  /**
   * Storage failed: new work is refused, health fails and the log says why, until a commit
   * succeeds; a probe commit is due (again, after a failed probe) to find out when it is back.
   * While it stays down, health gives the latest reason (an outage can turn into "restart the
   * box"), with the time it first failed.
   */
  private storageDown(code: ErrorCode, error: unknown): void {
    const reason = error instanceof Error ? error.message : String(error);
    if (this.storageOk) {
      this.storageOk = false;
      this.storageFailure = { code, reason, since: this.clock.now() };
      this.log('error', 'storage failed: commits refused, new work refused until it is back', { code, reason });
      this.storage.publish({ healthy: false, code, reason });
    } else if (this.storageFailure) {
      // Not logged again: an outage alternates reasons at every probe; the store logs what matters.
      this.storageFailure = { ...this.storageFailure, code, reason };
    }
    this.probeStorage();
  }

  /** While storage fails, a probe commit every second finds out when it is back. */
  private probeStorage(): void {
    if (this.probing || this.closed) return;
    this.probing = true;
    this.clock.setTimer(this.clock.now() + STORAGE_PROBE_MS, () => {
      this.probing = false;
      if (this.closed || this.storageOk) return;
      this.commit({ probe: this.clock.now() }).catch(() => {});
    });
  }

  /**
   * Storage is back: messages whose handling failed on it are handled again and I/O it refused
   * runs again, in the order they failed. I/O of an actor that failed, stopped or was replaced
   * meanwhile is dropped: its recovery redoes what it still needs.
   */
  private resumeParked(): void {
    for (const work of this.parked.splice(0)) {
      if ('env' in work) {
        this.route(work.env);
        continue;
      }
      const { cell, env, op, ctx } = work.io;
      if (this.cells.get(cell.address) === cell && cell.status === 'active') this.startIo(cell, env, op, ctx);
      else this.log('warn', 'parked I/O dropped: its actor is no longer active', { actor: cell.address, op: describe(op) });
    }
    for (const address of this.stalled) {
      const cell = this.cells.get(address);
      if (cell?.status === 'active' && cell.behavior.accepts.has('restarted')) {
        this.enqueue(cell, this.envelope('supervisor', address, { type: 'restarted', code: 'STORAGE_UNAVAILABLE' }, null));
      }
    }
    this.stalled.clear();
  }
}

/** The record with its quarantined partitions, if any (a record without them has no such key). */
function withQuarantine(record: ActorRecord, quarantined: Map<string, QuarantinedPartition> | undefined): ActorRecord {
  if (quarantined === undefined || quarantined.size === 0) return record;
  record.quarantined = [...quarantined.values()].map((q) => ({ ...q }));
  return record;
}

/** How often a failed store is tried again. */
const STORAGE_PROBE_MS = 1_000;

/** The catalog code an error carries; ACTOR_CRASHED for anything else (a bug, a code outside the catalog). */
function errorCode(error: unknown): ErrorCode {
  return toErrorCode(error && typeof error === 'object' && 'code' in error ? error.code : undefined, 'ACTOR_CRASHED');
}

/**
 * The event a handler gets: the message with the time it is handled. Object.assign, not a spread
 * with an added key, which V8 runs several times slower (it was the runtime's largest cost per message).
 */
function stamped(message: Message, now: number): Message & { now: number; quarantined?: ReadonlySet<string> } {
  const event = Object.assign({}, message) as Message & { now: number; quarantined?: ReadonlySet<string> };
  event.now = now;
  return event;
}

function describe(op: unknown): string {
  return op && typeof op === 'object' && 'kind' in op ? String((op as { kind: unknown }).kind) : 'io';
}

export type { TraceEntry };
