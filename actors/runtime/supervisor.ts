import { DomainError } from '../domain/errors.js';
import { Asks, REPLIES, type Reply } from './ask.js';
import type { Clock, TimerHandle } from './clock.js';
import { SimulatedClock } from './clock.js';
import { Hub } from './hub.js';
import { splitRows, type RowChange } from './rows.js';
import { Trace, type TraceEntry } from './trace.js';
import type {
  ActorBehavior,
  ActorRecord,
  ActorStatus,
  Address,
  AuditInput,
  BoxEvent,
  Effect,
  Envelope,
  Message,
  PersistedTimer,
} from './types.js';

/** Where committed actor state and the audit log go. Implemented over keyv in src/persistence. */
export interface ActorPersistence {
  /**
   * Commits an actor's state. With `rows`, `record.ctx` is the head without the tables named in
   * `record.tables`, and `rows` are the table rows that changed (all of them when `full`).
   */
  saveActor(address: Address, record: ActorRecord, rows?: { changes: RowChange[]; full: boolean }): Promise<void>;
  deleteActor(address: Address): Promise<void>;
  loadActors(): Promise<Map<Address, ActorRecord>>;
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
  traceLimit?: number;
  /** how long an `ask` waits for its reply unless told otherwise (default 10 s) */
  askTimeoutMs?: number;
  /** structured log for crashes and dead letters; never given payloads */
  log?: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
}

/** An actor that failed for good: its mail is refused until the box is restarted after repair. */
export interface ActorFailure {
  actor: Address;
  kind: string;
  code: string;
  at: number;
}

export interface DeadLetter {
  envelope: Envelope;
  reason: 'no-such-actor' | 'not-handled' | 'actor-failed' | 'actor-stopped' | 'crashed';
}

interface Timer extends PersistedTimer {
  handle: TimerHandle;
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
}

/** What the outside world sees of one actor. */
export interface ActorView<C = unknown> {
  address: Address;
  kind: string;
  status: ActorStatus;
  ctx: C;
  mailbox: number;
}

const EXTERNAL: Address = 'external';
/** the row table an actor with tables keeps its timers in */
export const TIMERS = '__timers';

/**
 * The supervisor owns every actor: addresses, one FIFO mailbox each, routing, dead letters,
 * timers on the injected clock, the message trace, and one-for-one restarts with a restart
 * intensity past which the actor is escalated (failed) and the rest of the box keeps working.
 *
 * Handling a message: pure transition -> persist the new state and timers -> run the effects.
 * An actor handles one message at a time; different actors interleave at their awaits.
 */
export class Supervisor {
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
  private readonly failures = new Map<Address, ActorFailure>();
  private readonly log: NonNullable<SupervisorOptions['log']>;
  private readonly bootId: string;
  private readonly asks: Asks;
  private readonly askTimeoutMs: number;
  private nextId = 0;
  private running = 0;
  private queued = 0;
  private ioInFlight = 0;
  private closed = false;

  constructor(opts: SupervisorOptions) {
    this.clock = opts.clock;
    this.persistence = opts.persistence;
    this.intensity = opts.intensity ?? { max: 5, withinMs: 30_000 };
    this.onFailure = opts.onFailure ?? (() => {});
    this.trace = new Trace(opts.traceLimit);
    this.log = opts.log ?? (() => {});
    this.bootId = opts.clock.now().toString(36);
    this.askTimeoutMs = opts.askTimeoutMs ?? 10_000;
    this.asks = new Asks(opts.clock, this.bootId);
    this.sinks.set(REPLIES, (message) => this.asks.settle(message as Reply));
    for (const b of opts.behaviors) this.behaviors.set(b.kind, b);
  }

  /**
   * Sends `message` as a request and resolves with the recipient's reply, which it sends once the
   * state it reports is committed. Rejects with a catalog code (DomainError) on ASK_TIMEOUT, when
   * the message is a dead letter (ACTOR_NOT_FOUND, MESSAGE_NOT_HANDLED, ACTOR_FAILED), when the
   * handler crashes (ACTOR_CRASHED), or when work the request caused hits a failed or crashing actor.
   */
  ask<T = unknown>(to: Address, message: Message, opts: { timeoutMs?: number; from?: Address } = {}): Promise<T> {
    const requestId = this.asks.nextRequestId();
    const env = this.envelope(opts.from ?? EXTERNAL, to, { ...message, requestId, replyTo: REPLIES }, null);
    const reply = this.asks.open<T>(requestId, env, opts.timeoutMs ?? this.askTimeoutMs);
    this.route(env);
    return reply;
  }

  /** Actors that failed for good (also those restored failed): what health reports. */
  failed(): ActorFailure[] {
    return [...this.failures.values()];
  }

  /** Number of asks waiting for their reply. */
  get pendingAsks(): number {
    return this.asks.size;
  }

  /** Brings back every persisted actor as it was committed, then tells each it was recovered. */
  async restore(): Promise<Address[]> {
    const records = await this.persistence.loadActors();
    const restored: Address[] = [];
    for (const [address, record] of records) {
      const behavior = this.behaviors.get(record.kind);
      if (!behavior) {
        this.log('warn', 'persisted actor of unknown kind skipped', { address, kind: record.kind });
        continue;
      }
      const cell = this.newCell(address, behavior, record.ctx, record.status === 'failed' ? 'failed' : 'active');
      if (record.status === 'failed') this.failures.set(address, { actor: address, kind: record.kind, code: 'ACTOR_FAILED', at: this.clock.now() });
      for (const t of record.timers) this.armTimer(cell, t);
      restored.push(address);
    }
    for (const address of restored) {
      const cell = this.cells.get(address);
      if (cell?.status === 'active' && cell.behavior.accepts.has('recovered')) {
        this.enqueue(cell, this.envelope('supervisor', address, { type: 'recovered' }, null), true);
      }
    }
    return restored;
  }

  /** Creates an actor with a fresh context; does nothing if the address exists already. */
  async spawn(address: Address, kind: string, input?: unknown, causation: string | null = null, parent: Address | null = null): Promise<boolean> {
    if (this.cells.has(address)) return false;
    const behavior = this.behaviors.get(kind);
    if (!behavior) throw new Error(`no behavior registered for actor kind "${kind}"`);
    const ctx = behavior.init(input, address);
    const cell = this.newCell(address, behavior, ctx, 'active');
    cell.parent = parent;
    await this.save(cell);
    if (behavior.accepts.has('started')) {
      this.enqueue(cell, this.envelope('supervisor', address, { type: 'started' }, causation));
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

  /** Sends a message from outside the actor system (API, hardware, tests). Returns its id. */
  send(to: Address, message: Message, from: Address = EXTERNAL, causation: string | null = null): string {
    const env = this.envelope(from, to, message, causation);
    this.route(env);
    return env.id;
  }

  view<C = unknown>(address: Address): ActorView<C> | undefined {
    const cell = this.cells.get(address);
    if (!cell) return undefined;
    return { address, kind: cell.behavior.kind, status: cell.status, ctx: cell.ctx as C, mailbox: cell.mailbox.length };
  }

  /** All actors of one kind, in address order. */
  viewsOf<C = unknown>(kind: string): ActorView<C>[] {
    const out: ActorView<C>[] = [];
    for (const cell of this.cells.values()) {
      if (cell.behavior.kind === kind) out.push(this.view<C>(cell.address)!);
    }
    return out.sort((a, b) => a.address.localeCompare(b.address, 'en', { numeric: true }));
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
      const busy = this.running > 0 || this.queued > 0 || this.ioInFlight > sleepers();
      quietRounds = busy ? 0 : quietRounds + 1;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** Moves a simulated clock forward, letting every timer's work finish in order (HARNESS_UNSUPPORTED on the system clock). */
  async advanceClock(ms: number): Promise<void> {
    if (!(this.clock instanceof SimulatedClock)) throw new DomainError('HARNESS_UNSUPPORTED', 'the box runs on the system clock; only a simulated clock can be advanced');
    await this.clock.advance(ms, () => this.settle());
  }

  /** Stops accepting work, cancels timers and waits for running handlers to finish. */
  async close(): Promise<void> {
    this.closed = true;
    this.asks.rejectAll('ACTOR_NOT_FOUND', 'the box is shutting down');
    for (const cell of this.cells.values()) {
      for (const t of cell.timers.values()) this.clock.clearTimer(t.handle);
      cell.mailbox.length = 0;
    }
    this.queued = 0;
    while (this.running > 0) await new Promise<void>((resolve) => setImmediate(resolve));
  }

  // ---------------------------------------------------------------------------------------------

  private newCell(address: Address, behavior: ActorBehavior, ctx: unknown, status: ActorStatus): Cell {
    const cell: Cell = { address, behavior, ctx, timers: new Map(), mailbox: [], status, running: false, crashes: [], fired: new Set(), parent: null };
    this.cells.set(address, cell);
    return cell;
  }

  private envelope(from: Address, to: Address, message: Message, causation: string | null): Envelope {
    return { id: `${this.bootId}.${++this.nextId}`, from, to, at: this.clock.now(), causation, message };
  }

  private route(env: Envelope): void {
    if (this.closed) return;
    this.asks.follow(env);
    const sink = this.sinks.get(env.to);
    if (sink) {
      this.trace.record({ id: env.id, at: env.at, from: env.from, to: env.to, type: env.message.type, causation: env.causation });
      return sink(env.message, env);
    }
    const cell = this.cells.get(env.to);
    if (!cell) return this.dead(env, 'no-such-actor');
    if (cell.status === 'failed') return this.dead(env, 'actor-failed');
    if (cell.status === 'stopped') return this.dead(env, 'actor-stopped');
    if (!cell.behavior.accepts.has(env.message.type)) return this.dead(env, 'not-handled');
    this.enqueue(cell, env);
  }

  private enqueue(cell: Cell, env: Envelope, front = false): void {
    this.trace.record({ id: env.id, at: env.at, from: env.from, to: env.to, type: env.message.type, causation: env.causation });
    if (front) cell.mailbox.unshift(env);
    else cell.mailbox.push(env);
    this.queued++;
    if (!cell.running) void this.drain(cell);
  }

  private dead(env: Envelope, reason: DeadLetter['reason']): void {
    this.trace.record({
      id: env.id,
      at: env.at,
      from: env.from,
      to: env.to,
      type: env.message.type,
      causation: env.causation,
      dead: true,
    });
    this.log('warn', 'dead letter', { to: env.to, type: env.message.type, reason });
    this.deadLetters.publish({ envelope: env, reason });
    this.asks.dead(env, reason);
  }

  private async drain(cell: Cell): Promise<void> {
    cell.running = true;
    this.running++;
    try {
      while (cell.mailbox.length > 0 && cell.status === 'active' && !this.closed) {
        const env = cell.mailbox.shift()!;
        this.queued--;
        this.asks.begin(env);
        try {
          await this.handle(cell, env);
        } catch (error) {
          await this.crash(cell, env, error);
        } finally {
          this.asks.end(env);
        }
      }
    } finally {
      cell.running = false;
      this.running--;
    }
  }

  private async handle(cell: Cell, env: Envelope): Promise<void> {
    const snapshot = { status: 'active' as const, output: undefined, error: undefined, context: cell.ctx };
    // Handlers are pure: the time of handling is handed to them with the event.
    const [next, rawEffects] = cell.behavior.logic.transition(snapshot as never, { ...env.message, now: this.clock.now() });
    const effects = rawEffects.filter((e): e is Effect<unknown> => typeof e === 'object' && e !== null);

    // Timers are part of the committed state: work out what changes before persisting. Only the
    // changes are computed, so an actor with thousands of timers pays for the ones it touches.
    const scheduled = new Map<string, PersistedTimer>();
    const cancelled = new Set<string>();
    let stop = false;
    for (const e of effects) {
      if (e.type === 'schedule') {
        scheduled.set(e.key, { key: e.key, at: e.at, message: e.message });
        cancelled.delete(e.key);
      } else if (e.type === 'cancel') {
        scheduled.delete(e.key);
        if (cell.timers.has(e.key)) cancelled.add(e.key);
      } else if (e.type === 'stop') stop = true;
    }
    const timersChanged = scheduled.size > 0 || cancelled.size > 0 || cell.fired.size > 0;
    const ctxChanged = next.context !== cell.ctx;

    if (stop) {
      cell.ctx = next.context;
      cell.status = 'stopped';
      for (const t of cell.timers.values()) this.clock.clearTimer(t.handle);
      cell.timers.clear();
      if (cell.behavior.transient) await this.persistence.deleteActor(cell.address);
      else await this.save(cell);
    } else if (ctxChanged || timersChanged) {
      const removed = [...cancelled, ...[...cell.fired].filter((k) => !scheduled.has(k) && !cell.timers.has(k))];
      await this.save(cell, { ctx: next.context, set: [...scheduled.values()], removed });
      cell.fired.clear();
      cell.ctx = next.context;
      if (ctxChanged) this.changes.publish({ address: cell.address, kind: cell.behavior.kind });
      for (const key of [...cancelled, ...scheduled.keys()]) {
        const t = cell.timers.get(key);
        if (t) this.clock.clearTimer(t.handle);
        cell.timers.delete(key);
      }
      for (const t of scheduled.values()) this.armTimer(cell, t);
    }

    for (const e of effects) await this.run(cell, env, e);
    if (stop) this.cells.delete(cell.address);
  }

  private async run(cell: Cell, env: Envelope, e: Effect<unknown>): Promise<void> {
    switch (e.type) {
      case 'send':
        this.route(this.envelope(cell.address, e.to, e.message, env.id));
        return;
      case 'publish':
        this.events.publish({ at: this.clock.now(), source: cell.address, ...e.event });
        return;
      case 'audit': {
        const record: AuditRecordInput = { ...e.entry, at: this.clock.now(), by: cell.address, causation: env.id };
        await this.persistence.appendAudit(record);
        this.audit.publish(record);
        return;
      }
      case 'spawn':
        // The spawner is the child's parent: it is told when the child fails for good.
        await this.spawn(e.address, e.kind, e.input, env.id, cell.address);
        return;
      case 'io':
        this.startIo(cell, env, e.op);
        return;
      case 'schedule':
      case 'cancel':
      case 'stop':
        return; // applied at commit
    }
  }

  /** I/O runs beside the mailbox; its outcome comes back as messages, its rejection is a crash. */
  private startIo(cell: Cell, env: Envelope, op: unknown): void {
    const io = cell.behavior.io;
    if (!io) throw new Error(`${cell.address} enqueued I/O but its behavior has no io()`);
    this.ioInFlight++;
    const ctx = cell.ctx;
    void io
      .call(cell.behavior, op, ctx, cell.address)
      .then(
        (result) => {
          const list = result === undefined ? [] : Array.isArray(result) ? result : [result];
          for (const m of list) this.route(this.envelope(cell.address, cell.address, m, env.id));
        },
        (error: unknown) => {
          if (this.closed) return;
          const failed = this.envelope(cell.address, cell.address, { type: 'io.crashed', op: describe(op) }, env.id);
          return this.crashOutside(cell, failed, error);
        },
      )
      .finally(() => this.ioInFlight--);
  }

  private armTimer(cell: Cell, t: PersistedTimer): void {
    const handle = this.clock.setTimer(t.at, () => {
      const current = cell.timers.get(t.key);
      if (!current || current.handle !== handle || this.cells.get(cell.address) !== cell) return;
      cell.timers.delete(t.key);
      cell.fired.add(t.key);
      this.route(this.envelope(cell.address, cell.address, t.message, `timer:${t.key}`));
    });
    cell.timers.set(t.key, { ...t, handle });
  }

  /** A crash noticed outside the drain loop (I/O): restart once the current handler is done. */
  private async crashOutside(cell: Cell, env: Envelope, error: unknown): Promise<void> {
    while (cell.running) await new Promise<void>((resolve) => setImmediate(resolve));
    if (cell.status !== 'active') return;
    cell.running = true;
    this.running++;
    try {
      await this.crash(cell, env, error);
    } finally {
      cell.running = false;
      this.running--;
    }
    if (cell.mailbox.length > 0 && cell.status === 'active') void this.drain(cell);
  }

  /**
   * One-for-one restart from the last committed state; past the restart intensity the actor is
   * failed for good, an alarm is published and the escalation address is told.
   */
  private async crash(cell: Cell, env: Envelope, error: unknown): Promise<void> {
    const now = this.clock.now();
    const code = errorCode(error);
    this.dead(env, 'crashed');
    cell.crashes = cell.crashes.filter((t) => now - t < this.intensity.withinMs);
    cell.crashes.push(now);
    this.log('error', 'actor crashed', { actor: cell.address, message: env.message.type, code });

    if (cell.crashes.length > this.intensity.max) {
      cell.status = 'failed';
      for (const t of cell.timers.values()) this.clock.clearTimer(t.handle);
      cell.timers.clear();
      this.queued -= cell.mailbox.length;
      for (const queued of cell.mailbox.splice(0)) this.dead(queued, 'actor-failed');
      await this.save(cell).catch(() => {});
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
    // A restart is immediate: the committed ctx is what we go back to, since the failed handler's
    // changes were never committed; the actor stays active and reconciles on `restarted`.
    this.events.publish({ type: 'actor.restarted', at: now, source: cell.address, actor: cell.address, code });
    if (cell.behavior.accepts.has('restarted')) {
      this.enqueue(cell, this.envelope('supervisor', cell.address, { type: 'restarted', code }, env.id), true);
    }
  }

  /**
   * Commits the next state of an actor (`next`: its context, timers set and timers removed), or
   * rewrites its committed state whole (no `next`). An actor with tables writes only the rows
   * that changed since its last commit, and keeps its timers as rows too.
   */
  private save(cell: Cell, next?: { ctx: unknown; set: PersistedTimer[]; removed: string[] }): Promise<void> {
    const ctx = next ? next.ctx : cell.ctx;
    const tables = cell.behavior.tables;
    if (!tables?.length) {
      const timers = new Map([...cell.timers.values()].map(({ key, at, message }) => [key, { key, at, message }]));
      for (const key of next?.removed ?? []) timers.delete(key);
      for (const t of next?.set ?? []) timers.set(t.key, t);
      return this.persistence.saveActor(cell.address, { kind: cell.behavior.kind, ctx, timers: [...timers.values()], status: cell.status });
    }
    const full = next === undefined;
    const { head, changes } = splitRows(ctx, tables, full ? undefined : cell.ctx);
    if (full) {
      for (const { key, at, message } of cell.timers.values()) changes.push({ table: TIMERS, id: key, value: { key, at, message } });
    } else {
      for (const key of next.removed) changes.push({ table: TIMERS, id: key, value: undefined });
      for (const t of next.set) changes.push({ table: TIMERS, id: t.key, value: t });
    }
    const record: ActorRecord = { kind: cell.behavior.kind, ctx: head, timers: [], status: cell.status, tables: [...tables, TIMERS] };
    return this.persistence.saveActor(cell.address, record, { changes, full });
  }
}

function errorCode(error: unknown): string {
  if (error && typeof error === 'object' && 'code' in error && typeof (error as { code: unknown }).code === 'string') {
    return (error as { code: string }).code;
  }
  return 'ACTOR_CRASHED';
}

function describe(op: unknown): string {
  return op && typeof op === 'object' && 'kind' in op ? String((op as { kind: unknown }).kind) : 'io';
}

export type { TraceEntry };
