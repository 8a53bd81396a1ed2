import { createHmac, timingSafeEqual } from 'node:crypto';
import type Keyv from 'keyv';
import { DomainError } from '../../actors/domain/errors.js';
import type { FleetEvent } from './protocol.js';
import { backoff, sleep, type RedisClient } from './redis.js';

/** One integration that gets pickup events by HTTP POST instead of a subscription. */
export interface WebhookConfig {
  /** a name for logs, alarms and keys: letters, digits, `-`, `_` */
  id: string;
  url: string;
  /** the shared secret of the HMAC-SHA-256 signature, at least 32 characters */
  secret: string;
  /** after this many failed attempts in a row a WEBHOOK_UNDELIVERABLE alarm is raised (5); retries go on */
  alarmAfter?: number;
  /** first and longest wait between attempts (1 s, 10 min) */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** per attempt (10 s) */
  timeoutMs?: number;
}

export const SIGNATURE_HEADER = 'x-ausgabebox-signature';
export const TIMESTAMP_HEADER = 'x-ausgabebox-timestamp';
export const EVENT_ID_HEADER = 'x-ausgabebox-event-id';

/** `v1=<hex>`: HMAC-SHA-256 over `<timestamp>.<body>` with the integration's secret. */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * What a receiver does with a delivery: recompute the signature over the timestamp and the raw
 * body, compare in constant time, and refuse a timestamp outside the replay window (5 min).
 */
export function verifyWebhook(secret: string, headers: { signature?: string | null; timestamp?: string | null }, body: string, options: { toleranceSec?: number; nowSec?: number } = {}): { ok: true } | { ok: false; reason: string } {
  const timestamp = Number(headers.timestamp);
  if (!headers.signature || !Number.isInteger(timestamp)) return { ok: false, reason: 'missing signature or timestamp' };
  const nowSec = options.nowSec ?? Math.floor(Date.now() / 1_000);
  if (Math.abs(nowSec - timestamp) > (options.toleranceSec ?? 300)) return { ok: false, reason: 'timestamp outside the replay window' };
  const expected = Buffer.from(signWebhook(secret, timestamp, body));
  const given = Buffer.from(headers.signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, reason: 'signature mismatch' };
  return { ok: true };
}

interface Delivery {
  eventId: string;
  body: string;
  attempts: number;
}

/** Where webhook failures are reported: central alarms on the centre, the box's own alarms on a box. */
export interface WebhookAlarmPort {
  raise(alarm: { key: string; code: 'WEBHOOK_UNDELIVERABLE'; subject: string; text: string }): Promise<void>;
  clear(key: string): Promise<void>;
  log: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
  /** wall clock: signature timestamps and retry times are real time, whatever clock the box runs on */
  now: () => number;
}

/**
 * The order of due deliveries per integration, and who may post one now. The centre keeps it in
 * Redis (several processes share it); a box keeps it in its own store (one process).
 */
export interface DeliveryQueue {
  /** Queues a delivery due at `dueAt` unless it is queued already. */
  add(hook: string, eventId: string, dueAt: number): Promise<void>;
  /** Moves a queued delivery to `dueAt`. */
  reschedule(hook: string, eventId: string, dueAt: number): Promise<void>;
  /** Up to `limit` deliveries due at `now`, earliest first. */
  due(hook: string, now: number, limit: number): Promise<string[]>;
  remove(hook: string, eventId: string): Promise<void>;
  /** Whether this process may post the delivery now (for at most `ms`); `release` gives it back. */
  claim(hook: string, eventId: string, ms: number): Promise<boolean>;
  release(hook: string, eventId: string): Promise<void>;
}

/** The centre's queue: a Redis sorted set per integration and a short `SET NX PX` lock per delivery. */
export function redisDeliveryQueue(redis: RedisClient): DeliveryQueue {
  return {
    add: async (hook, eventId, dueAt) => void (await redis.zAdd(`fleet:webhooks:${hook}`, { score: dueAt, value: eventId }, { NX: true })),
    reschedule: async (hook, eventId, dueAt) => void (await redis.zAdd(`fleet:webhooks:${hook}`, { score: dueAt, value: eventId })),
    due: (hook, now, limit) => redis.zRangeByScore(`fleet:webhooks:${hook}`, 0, now, { LIMIT: { offset: 0, count: limit } }),
    remove: async (hook, eventId) => void (await redis.zRem(`fleet:webhooks:${hook}`, eventId)),
    claim: async (hook, eventId, ms) => (await redis.set(`fleet:webhook-lock:${hook}:${eventId}`, '1', { NX: true, PX: ms })) === 'OK',
    release: async (hook, eventId) => void (await redis.del(`fleet:webhook-lock:${hook}:${eventId}`)),
  };
}

/**
 * A box's queue, in its own store: `wh:due:<hook>` maps each queued event id to its due time
 * (read once, then kept in memory and written back on every change, one change at a time). One
 * process owns a box's store, so a claim is an in-memory mark.
 */
export function storeDeliveryQueue(kv: Keyv): DeliveryQueue {
  const cache = new Map<string, Record<string, number>>();
  const claimed = new Set<string>();
  let chain: Promise<unknown> = Promise.resolve();
  const load = async (hook: string) => {
    if (!cache.has(hook)) cache.set(hook, (await kv.get<Record<string, number>>(`wh:due:${hook}`)) ?? {});
    return cache.get(hook)!;
  };
  const change = (hook: string, fn: (due: Record<string, number>) => boolean): Promise<void> => {
    const run = chain.then(async () => {
      const due = { ...(await load(hook)) };
      if (!fn(due)) return;
      await kv.set(`wh:due:${hook}`, due);
      cache.set(hook, due);
    });
    chain = run.catch(() => {});
    return run;
  };
  return {
    add: (hook, eventId, dueAt) => change(hook, (due) => (eventId in due ? false : ((due[eventId] = dueAt), true))),
    reschedule: (hook, eventId, dueAt) => change(hook, (due) => ((due[eventId] = dueAt), true)),
    due: async (hook, now, limit) =>
      Object.entries(await load(hook))
        .filter(([, at]) => at <= now)
        .sort((a, b) => a[1] - b[1])
        .slice(0, limit)
        .map(([id]) => id),
    remove: (hook, eventId) => change(hook, (due) => (eventId in due ? (delete due[eventId], true) : false)),
    claim: async (hook, eventId) => {
      const key = `${hook}:${eventId}`;
      if (claimed.has(key)) return false;
      claimed.add(key);
      return true;
    },
    release: async (hook, eventId) => void claimed.delete(`${hook}:${eventId}`),
  };
}

/**
 * The durable webhook outbox, one implementation for the centre and for a box. A pickup event is
 * written as a delivery (keyv, by integration and event id) before it counts as handled (on the
 * centre: before its stream entry is acknowledged); the delivery queue orders deliveries by their
 * next attempt and lets one process post each at a time. A delivered event is remembered, so an
 * event handed in again is not posted again.
 */
export class WebhookOutbox {
  constructor(
    private readonly kv: Keyv,
    private readonly queue: DeliveryQueue,
    readonly hooks: readonly WebhookConfig[],
    private readonly port: WebhookAlarmPort,
  ) {
    for (const h of hooks) {
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(h.id)) throw new DomainError('INVALID_CONFIG', `webhook id "${h.id}" must be letters, digits, "-" or "_"`);
      if (!/^https?:\/\//.test(h.url)) throw new DomainError('INVALID_CONFIG', `webhook ${h.id}: url must be http(s)`);
      if (typeof h.secret !== 'string' || h.secret.length < 32) throw new DomainError('INVALID_CONFIG', `webhook ${h.id}: secret must be at least 32 characters`);
    }
  }

  /** Queues a pickup event for every integration (idempotent by event id). */
  async enqueue(e: FleetEvent): Promise<void> {
    if (e.type !== 'pickup.changed' || this.hooks.length === 0) return;
    const body = JSON.stringify({ id: e.id, type: e.type, boxId: e.boxId, seq: e.seq, at: new Date(e.at).toISOString(), pickup: e.data });
    // What every integration already has of this event, in one read: [done, out] per hook.
    const known = await this.kv.getMany(this.hooks.flatMap((h) => [`wh:done:${h.id}:${e.id}`, `wh:out:${h.id}:${e.id}`]));
    for (const [i, h] of this.hooks.entries()) {
      if (known[2 * i] !== undefined) continue;
      if (known[2 * i + 1] === undefined) await this.kv.set(`wh:out:${h.id}:${e.id}`, { eventId: e.id, body, attempts: 0 } satisfies Delivery);
      await this.queue.add(h.id, e.id, this.port.now());
    }
  }

  /** Delivers due entries until `stopped()`. */
  async run(stopped: () => boolean): Promise<void> {
    if (this.hooks.length === 0) return;
    while (!stopped()) {
      let worked = false;
      for (const h of this.hooks) {
        try {
          worked = (await this.deliverDue(h)) || worked;
        } catch (error) {
          this.port.log('warn', `webhook ${h.id}: outbox error (${(error as Error).message})`);
        }
      }
      if (!worked) await sleep(100);
    }
  }

  private async deliverDue(h: WebhookConfig): Promise<boolean> {
    const due = await this.queue.due(h.id, this.port.now(), 20);
    for (const eventId of due) {
      // One process posts a delivery at a time; the claim outlives one attempt's timeout.
      if (!(await this.queue.claim(h.id, eventId, (h.timeoutMs ?? 10_000) + 5_000))) continue;
      try {
        await this.attempt(h, eventId);
      } finally {
        await this.queue.release(h.id, eventId);
      }
    }
    return due.length > 0;
  }

  private async attempt(h: WebhookConfig, eventId: string): Promise<void> {
    const key = `wh:out:${h.id}:${eventId}`;
    const delivery = await this.kv.get<Delivery>(key);
    if (!delivery) {
      await this.queue.remove(h.id, eventId);
      return;
    }
    const timestamp = Math.floor(this.port.now() / 1_000);
    let failure: string | null = null;
    try {
      const res = await fetch(h.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [EVENT_ID_HEADER]: eventId, [TIMESTAMP_HEADER]: String(timestamp), [SIGNATURE_HEADER]: signWebhook(h.secret, timestamp, delivery.body) },
        body: delivery.body,
        signal: AbortSignal.timeout(h.timeoutMs ?? 10_000),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (!res.ok) failure = `HTTP ${res.status}`;
    } catch (error) {
      failure = (error as Error).message;
    }
    const alarmKey = `WEBHOOK_UNDELIVERABLE:${h.id}`;
    if (failure === null) {
      await this.kv.set(`wh:done:${h.id}:${eventId}`, this.port.now(), 30 * 86_400_000);
      await this.kv.delete(key);
      await this.queue.remove(h.id, eventId);
      await this.port.clear(alarmKey);
      return;
    }
    const attempts = delivery.attempts + 1;
    await this.kv.set(key, { ...delivery, attempts });
    await this.queue.reschedule(h.id, eventId, this.port.now() + backoff(attempts - 1, h.retryBaseMs ?? 1_000, h.retryMaxMs ?? 600_000));
    this.port.log('warn', `webhook ${h.id}: delivery of ${eventId} failed (${failure}), attempt ${attempts}`);
    if (attempts >= (h.alarmAfter ?? 5)) await this.port.raise({ key: alarmKey, code: 'WEBHOOK_UNDELIVERABLE', subject: h.id, text: `webhook ${h.id} failed ${attempts} times in a row (${failure})` });
  }
}
