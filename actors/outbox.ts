import type { BoxOutgoing, BoxEnqueue } from './protocol.js';
import { z } from 'zod';
import { toErrorCode } from './domain/errors.js';
import { defineActor } from './runtime/define.js';
import { deleteRow, setRow } from './runtime/table.js';
import { ALARMS, REGISTRY, clear, errorCode, pickupAddress, pinQueuedSchema, raise } from './messages.js';
import type { SmsGateway } from '../drivers/ports.js';

/**
 * The SMS outbox: every notification is committed here before it is sent, retried with
 * exponential backoff, and sent under an idempotency key so a restart neither loses nor doubles it.
 * A message leaves the outbox (and with it the PIN it may carry) once the gateway took it.
 */

export interface OutboxEntry {
  id: string;
  to: string;
  text: string;
  attempts: number;
  nextAt: number;
  failed: boolean;
}

export interface OutboxCtx {
  pending: Record<string, OutboxEntry>;
  /** ids delivered in the last DELIVERED_KEPT_MS, with the time: a repeated id is not sent again */
  delivered: Record<string, number>;
  sentCount: number;
  failedCount: number;
  /** when ids past DELIVERED_KEPT_MS were last dropped from `delivered` (absent: never) */
  prunedAt?: number;
}

/** How long a delivered id is remembered against a repeat (longer than any pickup window). */
export const DELIVERED_KEPT_MS = 60 * 24 * 60 * 60 * 1000;
/** Ids older than that are dropped in one pass at most this often, not on every message. */
const PRUNE_EVERY_MS = 24 * 60 * 60 * 1000;

/** Everything the SMS outbox takes, as a runtime schema. */
export const OutboxMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('sms.enqueue'), id: z.string(), to: z.string(), text: z.string(), ack: z.object({ message: pinQueuedSchema }).optional() }),
  z.object({ type: z.literal('sms.sent'), id: z.string() }),
  /** `code` from the catalog; `reason` is the gateway's own word for it (e.g. SMS_GATEWAY_HTTP_503) */
  z.object({ type: z.literal('sms.failed'), id: z.string(), code: errorCode, reason: z.string().optional() }),
  z.object({ type: z.literal('sms.retry'), id: z.string() }),
  /**
   * A pickup's message not heard confirmed (its PIN's SMS), as its pickup answers
   * `outbox.restarted`: one this outbox neither holds nor delivered goes back to the pickup as
   * `sms.missing`. Without `pickupId`: every such message of the registry in one list, as an
   * earlier version sent it; the answer goes to the registry.
   */
  z.object({ type: z.literal('sms.expect'), ids: z.array(z.string()), pickupId: z.string().optional() }),
  z.object({ type: z.literal('recovered') }),
  z.object({ type: z.literal('restarted'), code: errorCode.optional() }),
]);
export type OutboxEvent = z.infer<typeof OutboxMessage>;

export type OutboxIo = { kind: 'send'; id: string; to: string; text: string };

export interface OutboxPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export function outboxActor(policy: OutboxPolicy, gateway: SmsGateway) {
  const resendDue = (ctx: OutboxCtx, e: { now: number }, enq: BoxEnqueue<OutboxCtx, OutboxIo>) => {
    for (const entry of Object.values(ctx.pending)) {
      if (entry.nextAt <= e.now) enq.emit.io({ op: { kind: 'send', id: entry.id, to: entry.to, text: entry.text } });
    }
  };
  return defineActor<OutboxCtx, OutboxEvent, OutboxIo, BoxOutgoing>({
    kind: 'outbox',
    messages: OutboxMessage,
    init: () => ({ pending: {}, delivered: {}, sentCount: 0, failedCount: 0 }),
    tables: ['pending', 'delivered'],
    on: {
      'sms.enqueue': (ctx, e, enq) => {
        // Confirmed only after this commit: the sender knows the message cannot be lost any more.
        // (To the pickup the acknowledgement names. An earlier version's `ack` also carried a
        // `to`, the registry, which held every pickup then: left unread.)
        if (e.ack) enq.emit.send({ to: pickupAddress(e.ack.message.pickupId), message: e.ack.message });
        // Idempotent: an id is queued once, and not again after it was delivered.
        const deliveredAt = ctx.delivered?.[e.id];
        if (ctx.pending[e.id] || (deliveredAt !== undefined && e.now - deliveredAt < DELIVERED_KEPT_MS)) return;
        enq.emit.io({ op: { kind: 'send', id: e.id, to: e.to, text: e.text } });
        // One row added (table.ts): the cost of a message does not grow with what the outbox holds.
        return { ...ctx, pending: setRow(ctx.pending, e.id, { id: e.id, to: e.to, text: e.text, attempts: 1, nextAt: e.now, failed: false }) };
      },
      'sms.sent': (ctx, e, enq) => {
        if (!ctx.pending[e.id]) return;
        if (ctx.pending[e.id]!.failed) enq.emit.send({ to: ALARMS, message: clear(`sms:${e.id}`) });
        enq.emit.publish({ event: { type: 'sms.sent', id: e.id } });
        let delivered = setRow(ctx.delivered, e.id, e.now);
        // Ids past their time leave in one pass a day, so a message pays for its own row only.
        const prune = ctx.prunedAt === undefined || e.now - ctx.prunedAt >= PRUNE_EVERY_MS;
        if (prune) for (const [id, at] of Object.entries(delivered)) if (e.now - at >= DELIVERED_KEPT_MS) delivered = deleteRow(delivered, id);
        return { ...ctx, pending: deleteRow(ctx.pending, e.id), delivered, sentCount: ctx.sentCount + 1, ...(prune ? { prunedAt: e.now } : {}) };
      },
      'sms.failed': (ctx, e, enq) => {
        const entry = ctx.pending[e.id];
        if (!entry) return;
        const delay = Math.min(policy.baseDelayMs * 2 ** (entry.attempts - 1), policy.maxDelayMs);
        const giveUp = entry.attempts >= policy.maxAttempts && !entry.failed;
        if (giveUp) {
          enq.emit.send({ to: ALARMS, message: raise(`sms:${e.id}`, 'SMS_UNDELIVERABLE', 'warning', 'outbox', `SMS ${e.id} failed ${entry.attempts} times (${e.reason ?? e.code}); still retrying`) });
        }
        // Keep retrying (slowly) after the alarm: a PIN that never arrives is worse than a late one.
        enq.emit.schedule({ key: `retry:${e.id}`, at: e.now + delay, message: { type: 'sms.retry', id: e.id } });
        return { ...ctx, failedCount: ctx.failedCount + (giveUp ? 1 : 0), pending: setRow(ctx.pending, e.id, { ...entry, nextAt: e.now + delay, failed: entry.failed || giveUp }) };
      },
      'sms.retry': (ctx, e, enq) => {
        const entry = ctx.pending[e.id];
        if (!entry) return;
        enq.emit.io({ op: { kind: 'send', id: entry.id, to: entry.to, text: entry.text } });
        return { ...ctx, pending: setRow(ctx.pending, e.id, { ...entry, attempts: entry.attempts + 1 }) };
      },
      // After a restart every pending message without a scheduled retry is sent again; the
      // idempotency key makes a message the gateway already took harmless.
      recovered: resendDue,
      // Back after a crash, or revived after it failed for good: what the registry sent meanwhile
      // was refused (a PIN's SMS among it). The registry has each pickup say which of its messages
      // it still waits for.
      restarted: (ctx, e, enq) => {
        resendDue(ctx, e, enq);
        enq.emit.send({ to: REGISTRY, message: { type: 'outbox.restarted' } });
      },
      // (Sent after every `sms.enqueue` before it: one still on its way is not taken for lost.)
      'sms.expect': (ctx, e, enq) => {
        const missing = e.ids.filter((id) => !ctx.pending[id] && ctx.delivered?.[id] === undefined);
        if (missing.length === 0) return;
        if (e.pickupId === undefined) enq.emit.send({ to: REGISTRY, message: { type: 'sms.missing', ids: missing } });
        else enq.emit.send({ to: pickupAddress(e.pickupId), message: { type: 'sms.missing', ids: missing, pickupId: e.pickupId } });
      },
    },
    async io(op) {
      try {
        await gateway.send({ id: op.id, to: op.to, text: op.text });
        return { type: 'sms.sent', id: op.id };
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        return { type: 'sms.failed', id: op.id, code: toErrorCode(code, 'SMS_GATEWAY_UNAVAILABLE'), ...(typeof code === 'string' ? { reason: code } : {}) };
      }
    },
  });
}
