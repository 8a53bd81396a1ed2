import type Keyv from 'keyv';
import { MultiErrorReply } from '@redis/client';
import { DomainError } from '../../actors/domain/errors.js';
import type { BoxEvent } from '../../actors/runtime/types.js';
import type { RegisterInput } from '../../actors/domain/registration.js';
import { FleetOutbox } from './outbox.js';
import {
  BOX_GROUP,
  BOXES_KEY,
  CONTACT_KEY,
  commandsStream,
  decodeCommand,
  encodeEvent,
  eventsStream,
  isBoxId,
  isDuplicateId,
  streamId,
  type CommandOutcome,
  type FleetCommand,
  type FleetEvent,
  type FleetEventType,
} from './protocol.js';
import { backoff, connectInBackground, ensureGroup, fleetClient, sleep, type RedisClient } from './redis.js';

/** What the fleet link needs of a box: its events, its store, and the operations commands map to. */
export interface FleetBoxPort {
  readonly clock: { now(): number };
  readonly persistence: { readonly kv: Keyv; auditHead(): Promise<{ seq: number; hash: string }> };
  readonly events: { listen(fn: (e: BoxEvent) => void): () => void };
  registerPickup(input: RegisterInput, by?: string): Promise<unknown>;
  cancelPickup(reference: string, by: string): Promise<unknown>;
  reissuePin(reference: string, by: string): Promise<unknown>;
  setCompartmentService(compartmentId: string, inService: boolean, by: string, reason?: string): Promise<unknown>;
  devices(): unknown;
  pickups(): ReadonlyArray<{ reference: string; status: string; compartmentId: string | null; updatedAt: number }>;
}

export interface FleetLinkOptions {
  /** the fleet's Redis, e.g. redis://central.example:6379 — not the box's own storage */
  url: string;
  /** this box's name in the fleet: letters, digits, `-`, `_` */
  boxId: string;
  log?: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
  /** first and longest wait between relay attempts while Redis is away (100 ms, 5 s) */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** how often the box reports contact, health and audit head when nothing else happens (5 s) */
  heartbeatMs?: number;
  /** events per XADD transaction (100) */
  batch?: number;
  /** how long one blocking command read waits (1 s) */
  commandBlockMs?: number;
  /** wall clock for command expiry (commands carry wall-clock times) */
  now?: () => number;
}

export interface FleetLinkStatus {
  connected: boolean;
  lastSeq: number;
  sentSeq: number;
  lastError: string | null;
}

/** The box's end of the fleet channel: a durable outbox relayed to Redis Streams, and its command stream. */
export interface FleetLink {
  readonly boxId: string;
  readonly outbox: FleetOutbox;
  status(): FleetLinkStatus;
  /** Resolves once every event appended so far is in Redis (or rejects after `timeoutMs`). */
  drained(timeoutMs?: number): Promise<void>;
  /** Stops relaying and reading commands; unsent events stay in the outbox for the next start. */
  close(): Promise<void>;
}

const IDEMPOTENT: ReadonlySet<string> = new Set(['register', 'cancel', 'service']);

/**
 * Connects a box to the fleet. The box keeps serving whatever happens here: events are written to
 * the outbox in the box's own store first and relayed in order when Redis is reachable; commands
 * run once each (the command id is kept in the box's store) and answer with a `command.outcome`.
 */
export async function startFleetLink(box: FleetBoxPort, options: FleetLinkOptions): Promise<FleetLink> {
  if (!isBoxId(options.boxId)) throw new DomainError('INVALID_CONFIG', `fleet.boxId "${options.boxId}" must be 1–64 letters, digits, "-" or "_"`);
  const { boxId } = options;
  const log = options.log ?? (() => {});
  const retryBaseMs = options.retryBaseMs ?? 100;
  const retryMaxMs = options.retryMaxMs ?? 5_000;
  const heartbeatMs = options.heartbeatMs ?? 5_000;
  const batchSize = options.batch ?? 100;
  const blockMs = options.commandBlockMs ?? 1_000;
  const wallNow = options.now ?? Date.now;
  const kv = box.persistence.kv;
  const outbox = await FleetOutbox.open(kv, boxId);

  let closed = false;
  let lastError: string | null = null;
  let wake: (() => void) | null = null;
  const poke = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  /** Sleeps up to `ms`, cut short by new work or close. */
  const nap = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        wake = null;
        resolve();
      }, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  // One warning when the channel goes down, one line when it is back: not one per retry.
  const reportError = (error: Error) => {
    const text = error.message || String(error);
    if (lastError === null) log('warn', `fleet: Redis unreachable, the box keeps serving and the outbox waits (${text})`, { boxId });
    lastError = text;
  };
  const client: RedisClient = fleetClient(options.url, reportError);
  const commandClient: RedisClient = fleetClient(options.url, reportError);
  connectInBackground(client);
  connectInBackground(commandClient);

  const append = (type: FleetEventType, data: Record<string, unknown>) => outbox.append(type, data, box.clock.now());
  outbox.onAppended(poke);

  // --- box events → outbox (only what the municipal registry may know) -------------------------
  const unlisten = box.events.listen((e) => {
    const mapped = toFleetEvent(e);
    if (mapped) void append(mapped.type, mapped.data).catch((error) => log('error', 'fleet: outbox write failed', { err: String(error) }));
    if (e.type.startsWith('alarm.') || e.type === 'pickup.changed') void reportHealthIfChanged();
  });
  let lastHealth = '';
  let lastAudit = '';
  const reportHealthIfChanged = async () => {
    const text = JSON.stringify(box.devices());
    if (text !== lastHealth) {
      lastHealth = text;
      await append('box.health', { devices: JSON.parse(text) as Record<string, unknown> });
    }
  };
  const reportAuditIfChanged = async () => {
    const head = await box.persistence.auditHead();
    const text = `${head.seq}:${head.hash}`;
    if (text !== lastAudit) {
      lastAudit = text;
      await append('audit.head', { seq: head.seq, hash: head.hash });
    }
  };
  // On every start, the state of every live pickup: closes the window between a commit and its
  // outbox entry that a crash may have hit (the centre applies only what is newer).
  await append('box.snapshot', { pickups: box.pickups().map((p) => ({ reference: p.reference, status: p.status, compartmentId: p.compartmentId, updatedAt: p.updatedAt })) });
  await reportHealthIfChanged();
  await reportAuditIfChanged();

  // --- relay: outbox → XADD, in order, once ----------------------------------------------------
  const stream = eventsStream(boxId);
  const drainWaiters = new Set<() => void>();
  const relay = async () => {
    let attempt = 0;
    let lastBeat = 0;
    while (!closed) {
      try {
        const batch = await outbox.unsent(batchSize);
        if (batch.length === 0) {
          for (const w of [...drainWaiters]) w();
          if (Date.now() - lastBeat >= heartbeatMs && client.isReady) {
            lastBeat = Date.now();
            await client.hSet(CONTACT_KEY, boxId, String(Date.now()));
            await client.sAdd(BOXES_KEY, boxId);
            await reportHealthIfChanged();
            await reportAuditIfChanged();
            continue;
          }
          await nap(Math.max(50, heartbeatMs - (Date.now() - lastBeat)));
          continue;
        }
        if (!client.isReady) throw new Error('not connected');
        await publish(client, stream, boxId, batch);
        await outbox.markSent(batch.at(-1)!.seq);
        lastBeat = Date.now();
        if (lastError !== null) log('info', 'fleet: Redis reachable again, outbox caught up', { boxId, sentSeq: outbox.sentSeq });
        lastError = null;
        attempt = 0;
      } catch (error) {
        if (closed) break;
        reportError(error as Error);
        await nap(backoff(attempt++, retryBaseMs, retryMaxMs));
      }
    }
  };

  // --- commands: own stream, consumer group, once per id ----------------------------------------
  const commands = commandsStream(boxId);
  const execute = async (command: FleetCommand): Promise<void> => {
    const key = `fleet:cmd:${command.id}`;
    const record = await kv.get<{ started: number; outcome?: CommandOutcome }>(key);
    if (record?.outcome) return; // ran already; its outcome is in the outbox
    let outcome: CommandOutcome;
    if (record && !IDEMPOTENT.has(command.type)) {
      outcome = { commandId: command.id, type: command.type, ok: false, code: 'COMMAND_INTERRUPTED', message: 'the box restarted while running this command; check the pickup before sending it again' };
    } else if (!record && wallNow() > command.expiresAt) {
      outcome = { commandId: command.id, type: command.type, ok: false, code: 'COMMAND_EXPIRED', message: `the command expired at ${new Date(command.expiresAt).toISOString()} before the box received it` };
    } else {
      await kv.set(key, { started: wallNow() });
      outcome = await run(command, record !== undefined);
    }
    await append('command.outcome', outcome as unknown as Record<string, unknown>);
    await kv.set(key, { started: record?.started ?? wallNow(), outcome });
  };
  const run = async (command: FleetCommand, again: boolean): Promise<CommandOutcome> => {
    const p = command.payload;
    const by = `fleet/${String(p.by ?? 'central')}`;
    try {
      let value: unknown;
      if (command.type === 'register') value = await box.registerPickup(p.input as RegisterInput, by);
      else if (command.type === 'cancel') value = await box.cancelPickup(String(p.reference), by);
      else if (command.type === 'reissuePin') value = await box.reissuePin(String(p.reference), by);
      else if (command.type === 'service') value = await box.setCompartmentService(String(p.compartmentId), Boolean(p.inService), by, String(p.reason ?? ''));
      else return { commandId: command.id, type: command.type, ok: false, code: 'BAD_USER_INPUT', message: `unknown command type ${String(command.type)}` };
      return { commandId: command.id, type: command.type, ok: true, value: (value ?? {}) as Record<string, unknown> };
    } catch (error) {
      const code = error instanceof DomainError ? error.code : 'INTERNAL';
      // A re-run after a crash that finds its own work done reports success.
      if (again && command.type === 'register' && code === 'PICKUP_EXISTS') return { commandId: command.id, type: command.type, ok: true, value: { reference: (p.input as RegisterInput).reference } };
      return { commandId: command.id, type: command.type, ok: false, code, message: error instanceof DomainError ? error.message : 'internal error on the box' };
    }
  };
  const consume = async () => {
    let attempt = 0;
    let backlog = true; // first our own pending entries (a crash between run and XACK), then new ones
    while (!closed) {
      try {
        if (!commandClient.isReady) throw new Error('not connected');
        await ensureGroup(commandClient, commands, BOX_GROUP);
        const reply = (await commandClient.xReadGroup(BOX_GROUP, boxId, { key: commands, id: backlog ? '0' : '>' }, { COUNT: 10, BLOCK: backlog ? undefined : blockMs })) as StreamReply;
        const messages = reply?.[0]?.messages ?? [];
        if (backlog && messages.length === 0) backlog = false;
        for (const m of messages) {
          if (m === null) continue;
          await execute(decodeCommand(m.message));
          // The command carried personal data (a registration): once done, it leaves Redis.
          await commandClient.xAck(commands, BOX_GROUP, m.id);
          await commandClient.xDel(commands, m.id);
        }
        attempt = 0;
      } catch (error) {
        if (closed) break;
        reportError(error as Error);
        await sleep(backoff(attempt++, retryBaseMs, retryMaxMs));
        backlog = true;
      }
    }
  };

  const relayDone = relay();
  const consumeDone = consume();
  log('info', `fleet: box ${boxId} linked to ${redactUrl(options.url)}`, { boxId, lastSeq: outbox.lastSeq, sentSeq: outbox.sentSeq });

  return {
    boxId,
    outbox,
    status: () => ({ connected: client.isReady, lastSeq: outbox.lastSeq, sentSeq: outbox.sentSeq, lastError }),
    async drained(timeoutMs = 10_000) {
      await outbox.flush();
      if (outbox.sentSeq >= outbox.lastSeq) return;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          drainWaiters.delete(done);
          reject(new Error(`fleet outbox not drained within ${timeoutMs} ms (sent ${outbox.sentSeq} of ${outbox.lastSeq})`));
        }, timeoutMs);
        const done = () => {
          if (outbox.sentSeq < outbox.lastSeq) return;
          clearTimeout(timer);
          drainWaiters.delete(done);
          resolve();
        };
        drainWaiters.add(done);
        poke();
      });
    },
    async close() {
      closed = true;
      unlisten();
      poke();
      // A blocking read holds its connection: close that one without waiting for the reply.
      if (commandClient.isOpen) commandClient.destroy();
      await relayDone;
      await consumeDone.catch(() => {});
      await outbox.flush();
      if (client.isOpen) client.destroy();
    },
  };
}

type StreamReply = Array<{ name: string; messages: Array<{ id: string; message: Record<string, string> } | null> }> | null;

/** XADDs a batch in one MULTI; entries Redis has already (a resend after a crash) are refused by id and count as sent. */
async function publish(client: RedisClient, stream: string, boxId: string, batch: FleetEvent[]): Promise<void> {
  const multi = client.multi();
  multi.sAdd(BOXES_KEY, boxId);
  for (const e of batch) multi.xAdd(stream, streamId(e.seq), encodeEvent(e));
  multi.hSet(CONTACT_KEY, boxId, String(Date.now()));
  try {
    await multi.exec();
  } catch (error) {
    if (!(error instanceof MultiErrorReply)) throw error;
    const unexpected = error.replies.filter((r, i) => error.errorIndexes.includes(i) && !isDuplicateId(r));
    if (unexpected.length) throw unexpected[0];
  }
}

/** Maps a box event to what the fleet may see; null for events that stay on the box. */
export function toFleetEvent(e: BoxEvent): { type: FleetEventType; data: Record<string, unknown> } | null {
  switch (e.type) {
    case 'pickup.changed':
      return { type: 'pickup.changed', data: { reference: e.reference, status: e.status, compartmentId: e.compartmentId ?? null, change: e.change } };
    case 'session.changed':
      if (e.outcome === null || e.outcome === undefined) return null;
      return { type: 'session.ended', data: { sessionId: e.sessionId, kioskId: e.kioskId, outcome: e.outcome, compartmentId: e.compartmentId ?? null } };
    case 'alarm.raised':
    case 'alarm.cleared':
    case 'alarm.acknowledged': {
      const a = e.alarm as { id: string; code: string; severity: string; subject: string; text: string; raisedAt: number; clearedAt: number | null; acknowledgedAt: number | null };
      return { type: e.type, data: { id: a.id, code: a.code, severity: a.severity, subject: a.subject, text: a.text, raisedAt: a.raisedAt, clearedAt: a.clearedAt, acknowledgedAt: a.acknowledgedAt } };
    }
    default:
      return null;
  }
}

export const redactUrl = (url: string): string => url.replace(/\/\/[^@/]*@/, '//***@');
