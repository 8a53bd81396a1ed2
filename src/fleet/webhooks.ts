import { createHmac, timingSafeEqual } from 'node:crypto';
import type Keyv from 'keyv';
import type { CentralAlarm } from './projection.js';
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

interface AlarmPort {
  raise(alarm: Omit<CentralAlarm, 'raisedAt' | 'clearedAt'>): Promise<void>;
  clear(key: string): Promise<void>;
  log: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
  now: () => number;
}

/**
 * The centre's durable webhook outbox. A pickup event is written as a delivery (keyv, by
 * integration and event id) before its stream entry is acknowledged; a Redis sorted set orders
 * deliveries by their next attempt, and a short lock per delivery keeps two central processes
 * from posting the same one at once. A delivered event is remembered, so a redelivered stream
 * entry does not post it again.
 */
export class WebhookOutbox {
  readonly sentIds = new Map<string, number>();

  constructor(
    private readonly kv: Keyv,
    private readonly redis: RedisClient,
    readonly hooks: readonly WebhookConfig[],
    private readonly port: AlarmPort,
  ) {
    for (const h of hooks) {
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(h.id)) throw Object.assign(new Error(`webhook id "${h.id}" must be letters, digits, "-" or "_"`), { code: 'INVALID_CONFIG' });
      if (!/^https?:\/\//.test(h.url)) throw Object.assign(new Error(`webhook ${h.id}: url must be http(s)`), { code: 'INVALID_CONFIG' });
      if (typeof h.secret !== 'string' || h.secret.length < 32) throw Object.assign(new Error(`webhook ${h.id}: secret must be at least 32 characters`), { code: 'INVALID_CONFIG' });
    }
  }

  /** Queues a pickup event for every integration (idempotent by event id). */
  async enqueue(e: FleetEvent): Promise<void> {
    if (e.type !== 'pickup.changed' || this.hooks.length === 0) return;
    const body = JSON.stringify({ id: e.id, type: e.type, boxId: e.boxId, seq: e.seq, at: new Date(e.at).toISOString(), pickup: e.data });
    for (const h of this.hooks) {
      if ((await this.kv.get(`wh:done:${h.id}:${e.id}`)) !== undefined) continue;
      if ((await this.kv.get(`wh:out:${h.id}:${e.id}`)) === undefined) await this.kv.set(`wh:out:${h.id}:${e.id}`, { eventId: e.id, body, attempts: 0 } satisfies Delivery);
      await this.redis.zAdd(`fleet:webhooks:${h.id}`, { score: this.port.now(), value: e.id }, { NX: true });
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
    const due = await this.redis.zRangeByScore(`fleet:webhooks:${h.id}`, 0, this.port.now(), { LIMIT: { offset: 0, count: 20 } });
    for (const eventId of due) {
      // One process posts a delivery at a time; the lock outlives one attempt's timeout.
      if ((await this.redis.set(`fleet:webhook-lock:${h.id}:${eventId}`, '1', { NX: true, PX: (h.timeoutMs ?? 10_000) + 5_000 })) !== 'OK') continue;
      try {
        await this.attempt(h, eventId);
      } finally {
        await this.redis.del(`fleet:webhook-lock:${h.id}:${eventId}`);
      }
    }
    return due.length > 0;
  }

  private async attempt(h: WebhookConfig, eventId: string): Promise<void> {
    const key = `wh:out:${h.id}:${eventId}`;
    const delivery = await this.kv.get<Delivery>(key);
    if (!delivery) {
      await this.redis.zRem(`fleet:webhooks:${h.id}`, eventId);
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
      await this.redis.zRem(`fleet:webhooks:${h.id}`, eventId);
      this.sentIds.set(`${h.id}:${eventId}`, (this.sentIds.get(`${h.id}:${eventId}`) ?? 0) + 1);
      await this.port.clear(alarmKey);
      return;
    }
    const attempts = delivery.attempts + 1;
    await this.kv.set(key, { ...delivery, attempts });
    await this.redis.zAdd(`fleet:webhooks:${h.id}`, { score: this.port.now() + backoff(attempts - 1, h.retryBaseMs ?? 1_000, h.retryMaxMs ?? 600_000), value: eventId });
    this.port.log('warn', `webhook ${h.id}: delivery of ${eventId} failed (${failure}), attempt ${attempts}`);
    if (attempts >= (h.alarmAfter ?? 5)) await this.port.raise({ key: alarmKey, code: 'WEBHOOK_UNDELIVERABLE', subject: h.id, text: `webhook ${h.id} failed ${attempts} times in a row (${failure})` });
  }
}
