import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { createPubSub } from 'graphql-yoga';
import { Redis } from 'ioredis';
import { DomainError } from '../../actors/domain/errors.js';
import type { RegisterInput } from '../../actors/domain/registration.js';
import { openPersistence, type Persistence } from '../persistence/keyv-persistence.js';
import { emptyBox, Projection, type CentralAlarm, type CommandRecord, type FleetBox, type FleetPickup, type SetIndex } from './projection.js';
import {
  BOXES_KEY,
  CENTRAL_GROUP,
  CONTACT_KEY,
  boxOfStream,
  commandsStream,
  decodeEvent,
  encodeCommand,
  eventsStream,
  isBoxId,
  streamId,
  type FleetCommand,
  type FleetCommandType,
  type FleetEvent,
} from './protocol.js';
import { acquireLease, type ApplyLease } from './apply-lease.js';
import { backoff, ensureGroup, fleetClient, sleep, type RedisClient } from './redis.js';
import { redisDeliveryQueue, WebhookOutbox, type WebhookConfig } from './webhooks.js';

/** A pickup event as integrations see it live (subscriptions and webhooks). */
export interface PickupEventPayload {
  eventId: string;
  boxId: string;
  seq: number;
  reference: string;
  status: string;
  compartmentId: string | null;
  change: string;
  at: number;
}

/** An alarm of a box, or of the centre itself (box id `central`), as monitors see it live. */
export interface AlarmEventPayload {
  id: string;
  boxId: string;
  code: string;
  severity: string;
  subject: string;
  text: string;
  state: 'RAISED' | 'CLEARED' | 'ACKNOWLEDGED';
  at: number;
}

export type CentralPubSub = ReturnType<typeof centralPubSub>['pubsub'];

export interface CentralOptions {
  /** the fleet's Redis */
  redisUrl: string;
  /** the centre's own store (keyv URL); defaults to the fleet Redis under the namespace `central` */
  storage?: string;
  /** this process's consumer name in the group; unique per process */
  consumer?: string;
  /** entries another consumer has held this long without XACK are claimed (XAUTOCLAIM) — 5 s */
  claimIdleMs?: number;
  /**
   * how long a process holds a box's apply lease without renewing it (renewed every third of it
   * while applying) — at most claimIdleMs; 2 s or claimIdleMs if less
   */
  applyLeaseMs?: number;
  /** how often pending entries are checked for claiming — 1 s */
  claimEveryMs?: number;
  blockMs?: number;
  batch?: number;
  /** a box not heard from this long raises BOX_SILENT — 2 min */
  silentAfterMs?: number;
  /** how long a command waits for its box before the box refuses it — 24 h */
  commandTtlMs?: number;
  webhooks?: WebhookConfig[];
  log?: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
  /** test hook: called with each batch after it is read and before it is applied */
  beforeApply?: (events: FleetEvent[]) => Promise<void> | void;
  /** test hook: called after each event is applied (not for one skipped as applied already) */
  afterApply?: (event: FleetEvent) => unknown;
  now?: () => number;
}

export interface BoxStatus extends FleetBox {
  /** the last time the box was heard from (events or heartbeat), wall clock */
  lastContact: number | null;
  /** entries in the box's stream the centre has not finished (undelivered + pending) */
  backlog: number;
  silent: boolean;
}

export type Central = Awaited<ReturnType<typeof startCentral>>;

/** Yoga's pub/sub on Redis: every central process sees what any of them publishes. */
export function centralPubSub(url: string) {
  const publishClient = new Redis(url, { maxRetriesPerRequest: 2 });
  const subscribeClient = new Redis(url, { maxRetriesPerRequest: 2 });
  publishClient.on('error', () => {});
  subscribeClient.on('error', () => {});
  const pubsub = createPubSub<{ 'fleet:pickup': [PickupEventPayload]; 'fleet:alarm': [AlarmEventPayload] }>({
    eventTarget: createRedisEventTarget({ publishClient, subscribeClient }),
  });
  return {
    pubsub,
    close: () => {
      publishClient.disconnect();
      subscribeClient.disconnect();
    },
  };
}

/**
 * The central service: reads every box's event stream in the consumer group `central` (several
 * processes share the work; entries a dead one left pending are claimed with XAUTOCLAIM), keeps
 * the projection in its own store, queues commands for boxes, and watches for silent boxes.
 */
export async function startCentral(options: CentralOptions) {
  const log = options.log ?? (() => {});
  const consumer = options.consumer ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  const claimIdleMs = options.claimIdleMs ?? 5_000;
  const claimEveryMs = options.claimEveryMs ?? 1_000;
  const blockMs = options.blockMs ?? 500;
  const batchSize = options.batch ?? 100;
  const silentAfterMs = options.silentAfterMs ?? 120_000;
  const commandTtlMs = options.commandTtlMs ?? 24 * 3_600_000;
  const now = options.now ?? Date.now;
  // Checked before any I/O. A dead holder's lease must run out before its entries can be claimed, so a takeover waits for nothing.
  const leaseMs = options.applyLeaseMs ?? Math.min(2_000, claimIdleMs);
  if (leaseMs > claimIdleMs) throw new DomainError('INVALID_CONFIG', `applyLeaseMs (${leaseMs}) must not exceed claimIdleMs (${claimIdleMs})`);

  let lastError: string | null = null;
  const reportError = (error: Error) => {
    const text = error.message || String(error);
    if (lastError === null) log('warn', `central: fleet Redis trouble, retrying (${text})`);
    lastError = text;
  };
  const redis: RedisClient = fleetClient(options.redisUrl, reportError);
  const reader: RedisClient = fleetClient(options.redisUrl, reportError);
  await redis.connect();
  await reader.connect();
  const store: Persistence = await openPersistence(options.storage ?? options.redisUrl, { namespace: 'central' });
  const sets: SetIndex = {
    add: async (name, member) => void (await redis.sAdd(`fleet:central:${name}`, member)),
    members: (name) => redis.sMembers(`fleet:central:${name}`),
  };
  const projection = new Projection(store.kv, sets);
  const { pubsub, close: closePubSub } = centralPubSub(options.redisUrl);

  const raiseAlarm = async (alarm: Omit<CentralAlarm, 'raisedAt' | 'clearedAt'>) => {
    const current = await projection.centralAlarm(alarm.key);
    if (current && current.clearedAt === null) return;
    const raised: CentralAlarm = { ...alarm, raisedAt: now(), clearedAt: null };
    await projection.saveAlarm(raised);
    if ((await redis.set(`fleet:alarmed:${alarm.key}:${raised.raisedAt}`, '1', { NX: true, EX: 3_600 })) === 'OK') {
      pubsub.publish('fleet:alarm', { id: alarm.key, boxId: 'central', code: alarm.code, severity: 'critical', subject: alarm.subject, text: alarm.text, state: 'RAISED', at: raised.raisedAt });
    }
    log('warn', `central alarm ${alarm.code}: ${alarm.text}`, { key: alarm.key });
  };
  const clearAlarm = async (key: string) => {
    const current = await projection.centralAlarm(key);
    if (!current || current.clearedAt !== null) return;
    await projection.saveAlarm({ ...current, clearedAt: now() });
    pubsub.publish('fleet:alarm', { id: key, boxId: 'central', code: current.code, severity: 'critical', subject: current.subject, text: current.text, state: 'CLEARED', at: now() });
  };


  const webhooks = new WebhookOutbox(store.kv, redisDeliveryQueue(redis), options.webhooks ?? [], { log, raise: raiseAlarm, clear: clearAlarm, now });

  // --- consuming -----------------------------------------------------------------------------
  let closed = false;
  let streams: string[] = [];
  const discover = async () => {
    const boxes = (await redis.sMembers(BOXES_KEY)).filter(isBoxId).sort();
    const known = new Set(streams);
    for (const b of boxes) {
      const s = eventsStream(b);
      if (!known.has(s)) await ensureGroup(redis, s, CENTRAL_GROUP);
    }
    streams = boxes.map(eventsStream);
  };

  /** Applies one event unless it is applied already; webhooks and live subscribers hear of it once, by id. */
  const applyOne = async (e: FleetEvent, lease: ApplyLease, known?: FleetBox): Promise<FleetBox | null> => {
    lease.assertHeld();
    const written = await projection.apply(
      e,
      async () => {
        await webhooks.enqueue(e);
        // Live subscribers get each event once, whichever process applied it first; an event no
        // subscriber hears of (health, audit head, snapshot, outcome) needs no mark.
        if (live(e) && (await redis.set(`fleet:seen:${e.id}`, '1', { NX: true, EX: 7 * 86_400 })) === 'OK') publishLive(e);
        lease.assertHeld();
      },
      known,
    );
    if (written) await options.afterApply?.(e);
    return written;
  };
  const live = (e: FleetEvent) => e.type === 'pickup.changed' || e.type === 'alarm.raised' || e.type === 'alarm.cleared' || e.type === 'alarm.acknowledged';
  const publishLive = (e: FleetEvent) => {
    if (e.type === 'pickup.changed') {
      const d = e.data as { reference: string; status: string; compartmentId: string | null; change: string };
      pubsub.publish('fleet:pickup', { eventId: e.id, boxId: e.boxId, seq: e.seq, reference: d.reference, status: d.status, compartmentId: d.compartmentId, change: d.change, at: e.at });
    } else if (e.type === 'alarm.raised' || e.type === 'alarm.cleared' || e.type === 'alarm.acknowledged') {
      const d = e.data as { id: string; code: string; severity: string; subject: string; text: string };
      const state = e.type === 'alarm.raised' ? 'RAISED' : e.type === 'alarm.cleared' ? 'CLEARED' : 'ACKNOWLEDGED';
      pubsub.publish('fleet:alarm', { id: `${e.boxId}:${d.id}`, boxId: e.boxId, code: d.code, severity: d.severity, subject: d.subject, text: d.text, state, at: e.at });
    }
  };
  /**
   * Applies a batch: each box's entries under that box's lease, in sequence, different boxes side
   * by side (their projections do not touch), then one XACK per stream. Entries below the first
   * one that another consumer still holds (pending there, or it died) are read from the stream
   * itself and applied first — the entry id is the sequence number, and Redis adds none below
   * the stream's top, so what XRANGE does not return will never come. A crash before the XACK
   * leaves the entries pending for this consumer or another to claim; they are then skipped.
   */
  const applyBatch = async (entries: Array<{ stream: string; id: string; fields: Record<string, string> | null }>) => {
    if (entries.length === 0) return;
    await options.beforeApply?.(entries.filter((x) => x.fields).map((x) => decodeEvent(x.fields!)));
    const byStream = new Map<string, Array<{ id: string; fields: Record<string, string> | null }>>();
    for (const x of entries) {
      if (!byStream.has(x.stream)) byStream.set(x.stream, []);
      byStream.get(x.stream)!.push(x);
    }
    await Promise.all(
      [...byStream].map(async ([stream, list]) => {
        const boxId = boxOfStream(stream);
        const events = list.flatMap((x) => (x.fields ? [decodeEvent(x.fields)] : [])).sort((a, b) => a.seq - b.seq);
        const filled: string[] = [];
        const lease = await acquireLease(redis, `fleet:apply-lock:${boxId}`, consumer, { ttlMs: leaseMs, closed: () => closed });
        try {
          // Under the lease no other process writes this box's record: carry it from event to event.
          let box = await projection.box(boxId);
          let applied = box ? (box.appliedSeq ?? box.lastSeq) : 0;
          const step = async (e: FleetEvent) => void (box = (await applyOne(e, lease, box)) ?? box);
          for (const e of events) {
            if (e.seq <= applied) continue;
            while (applied + 1 < e.seq) {
              const gap = await redis.xRange(stream, streamId(applied + 1), streamId(e.seq - 1), { COUNT: batchSize });
              for (const m of gap) {
                await step(decodeEvent(m.message as Record<string, string>));
                filled.push(m.id);
              }
              // A short answer is the whole gap; what is not there (lost by a Redis without persistence) never will be.
              applied = gap.length < batchSize ? e.seq - 1 : decodeEvent(gap.at(-1)!.message as Record<string, string>).seq;
            }
            await step(e);
            applied = e.seq;
          }
        } finally {
          await lease.release();
        }
        await redis.xAck(stream, CENTRAL_GROUP, [...list.map((x) => x.id), ...filled]);
      }),
    );
  };

  const readLoop = async () => {
    let attempt = 0;
    let lastDiscover = 0;
    let lastClaim = 0;
    let backlog = true; // entries this consumer name already holds (a restart with the same name)
    while (!closed) {
      try {
        if (Date.now() - lastDiscover > 1_000 || streams.length === 0) {
          await discover();
          lastDiscover = Date.now();
        }
        if (streams.length === 0) {
          await sleep(200);
          continue;
        }
        if (Date.now() - lastClaim > claimEveryMs) {
          lastClaim = Date.now();
          await claimStale();
        }
        const reply = (await reader.xReadGroup(
          CENTRAL_GROUP,
          consumer,
          streams.map((key) => ({ key, id: backlog ? '0' : '>' })),
          { COUNT: batchSize, BLOCK: backlog ? undefined : blockMs },
        )) as StreamsReply;
        const entries = (reply ?? []).flatMap((s) => s.messages.map((m) => ({ stream: s.name, id: m?.id ?? '', fields: m?.message ?? null })));
        if (backlog && entries.length === 0) backlog = false;
        await applyBatch(entries.filter((x) => x.id));
        if (lastError !== null) log('info', 'central: fleet Redis reachable again');
        lastError = null;
        attempt = 0;
      } catch (error) {
        if (closed) break;
        reportError(error as Error);
        await sleep(backoff(attempt++, 100, 2_000));
        backlog = true;
      }
    }
  };
  /** Takes over entries another consumer has held too long (it crashed or hangs). */
  const claimStale = async () => {
    for (const stream of streams) {
      let cursor = '0-0';
      do {
        const r = await redis.xAutoClaim(stream, CENTRAL_GROUP, consumer, claimIdleMs, cursor, { COUNT: batchSize });
        const entries = r.messages.map((m) => (m ? { stream, id: m.id, fields: m.message as Record<string, string> } : null)).filter((x) => x !== null);
        if (entries.length) log('info', `central: claimed ${entries.length} pending entries of ${boxOfStream(stream)}`, { consumer });
        await applyBatch(entries);
        cursor = r.nextId;
      } while (cursor !== '0-0' && !closed);
    }
  };

  // --- silent boxes --------------------------------------------------------------------------
  const watchSilence = async () => {
    while (!closed) {
      await sleep(Math.min(1_000, Math.max(50, silentAfterMs / 4)));
      if (closed) break;
      try {
        for (const status of await boxes()) {
          const key = `BOX_SILENT:${status.id}`;
          if (status.silent) await raiseAlarm({ key, code: 'BOX_SILENT', subject: status.id, text: `box ${status.id} has not been heard from since ${status.lastContact ? new Date(status.lastContact).toISOString() : 'it joined'}` });
          else await clearAlarm(key);
        }
      } catch (error) {
        reportError(error as Error);
      }
    }
  };

  // --- reads ---------------------------------------------------------------------------------
  const boxIds = async () => (await redis.sMembers(BOXES_KEY)).filter(isBoxId).sort();
  /** A member of the fleet as the centre sees it: projection, last contact, backlog. */
  const statusOf = async (id: string): Promise<BoxStatus> => {
    const box = (await projection.box(id)) ?? emptyBox(id);
    const lastContact = Number((await redis.hGet(CONTACT_KEY, id)) ?? 0) || null;
    let backlog = 0;
    try {
      const groups = (await redis.xInfoGroups(eventsStream(id))) as unknown as Array<Record<string, unknown>>;
      const g = groups.find((x) => x.name === CENTRAL_GROUP);
      backlog = g ? Number(g.lag ?? 0) + Number(g.pending ?? 0) : 0;
    } catch {
      backlog = 0;
    }
    return { ...box, lastContact, backlog, silent: lastContact === null ? false : now() - lastContact > silentAfterMs };
  };
  const boxStatus = async (id: string): Promise<BoxStatus | undefined> => ((await redis.sIsMember(BOXES_KEY, id)) === 1 ? statusOf(id) : undefined);
  // The ids come from the fleet's set itself: no second membership check per box.
  const boxes = async (): Promise<BoxStatus[]> => Promise.all((await boxIds()).map(statusOf));

  // --- commands ------------------------------------------------------------------------------
  /** Queues a command on the box's stream; it runs once when the box reads it, or expires. */
  const sendCommand = async (boxId: string, type: FleetCommandType, payload: Record<string, unknown>, ttlMs = commandTtlMs): Promise<CommandRecord> => {
    if (!isBoxId(boxId) || (await redis.sIsMember(BOXES_KEY, boxId)) !== 1) throw new DomainError('BOX_UNKNOWN', `no box "${boxId}" in the fleet`);
    const issuedAt = now();
    const command: FleetCommand = { id: randomUUID(), boxId, type, payload, issuedAt, expiresAt: issuedAt + ttlMs };
    const reference = type === 'register' ? String((payload.input as RegisterInput).reference) : typeof payload.reference === 'string' ? payload.reference : null;
    const record: CommandRecord = { id: command.id, boxId, type, reference, issuedAt, expiresAt: command.expiresAt, outcome: null };
    await projection.saveCommand(record);
    await redis.xAdd(commandsStream(boxId), '*', encodeCommand(command));
    return record;
  };
  /** The command's record once its outcome is in, or as it stands after `timeoutMs` (still pending). */
  const awaitOutcome = async (commandId: string, timeoutMs: number): Promise<CommandRecord> => {
    // The monotonic clock: a wall-clock step neither ends nor stretches the wait.
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const record = await projection.command(commandId);
      if (!record) throw new DomainError('BAD_USER_INPUT', `no command ${commandId}`);
      if (record.outcome || performance.now() >= deadline) return record;
      await sleep(Math.min(50, Math.max(1, deadline - performance.now())));
    }
  };

  const loops = [readLoop(), watchSilence(), webhooks.run(() => closed)];
  log('info', `central: consuming the fleet as ${consumer}`, { consumer });

  return {
    consumer,
    projection,
    pubsub,
    webhooks,
    boxes,
    box: boxStatus,
    pickups: (filter: { reference?: string; status?: string; boxId?: string } = {}): Promise<FleetPickup[]> => projection.pickups(filter),
    pickup: (reference: string) => projection.pickup(reference),
    alarms: (openOnly = true) => projection.centralAlarms(openOnly),
    sendCommand,
    awaitOutcome,
    command: (id: string) => projection.command(id),
    /** Queues a registration for a box and waits up to `waitMs` for its outcome. */
    async registerPickup(boxId: string, input: RegisterInput, waitMs = 5_000, ttlMs?: number): Promise<CommandRecord> {
      const record = await sendCommand(boxId, 'register', { input, by: 'integration' }, ttlMs);
      return awaitOutcome(record.id, waitMs);
    },
    /** A command is EXPIRED once its time is over without an outcome; the box refuses it if it comes back later. */
    commandState(record: CommandRecord): 'DONE' | 'FAILED' | 'PENDING' | 'EXPIRED' {
      if (record.outcome) return record.outcome.ok ? 'DONE' : record.outcome.code === 'COMMAND_EXPIRED' ? 'EXPIRED' : 'FAILED';
      return now() > record.expiresAt ? 'EXPIRED' : 'PENDING';
    },
    async close(): Promise<void> {
      closed = true;
      reader.destroy();
      await Promise.allSettled(loops);
      closePubSub();
      redis.destroy();
      await store.close();
    },
  };
}

type StreamsReply = Array<{ name: string; messages: Array<{ id: string; message: Record<string, string> } | null> }> | null;
