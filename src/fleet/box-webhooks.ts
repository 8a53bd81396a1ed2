import type Keyv from 'keyv';
import { DomainError } from '../../actors/domain/errors.js';
import { ALARMS, clear, raise } from '../../actors/messages.js';
import type { BoxEvent, Message } from '../../actors/runtime/types.js';
import { toFleetEvent } from './box-link.js';
import { isBoxId, type FleetEvent } from './protocol.js';
import { storeDeliveryQueue, WebhookOutbox, type WebhookConfig } from './webhooks.js';

/** What box webhooks need of a box: its events, its store, and a way to raise its own alarms. */
export interface WebhookBoxPort {
  readonly persistence: { readonly kv: Keyv };
  readonly events: { listen(fn: (e: BoxEvent) => void): () => void };
  send(to: string, message: Message, from?: string): void;
}

export interface BoxWebhooks {
  readonly outbox: WebhookOutbox;
  /** Resolves once every event heard so far is queued durably. */
  flush(): Promise<void>;
  /** Stops posting; queued deliveries stay in the box's store for the next start. */
  close(): Promise<void>;
}

/**
 * Webhooks posted by a box itself, for an integration that talks to the box rather than to a
 * central service — the centre's WebhookOutbox on the box's own store. Each pickup change gets the
 * next number of the box's webhook sequence (`wh:seq`, in its store) and the stable id
 * `<boxId>:wh:<seq>`; it is queued for every integration before anything posts it, retried with
 * backoff across restarts, and after `alarmAfter` failures in a row the box raises
 * WEBHOOK_UNDELIVERABLE among its own alarms (cleared by the next success).
 */
export async function startBoxWebhooks(
  box: WebhookBoxPort,
  options: { boxId: string; hooks: readonly WebhookConfig[]; log?: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void; now?: () => number },
): Promise<BoxWebhooks> {
  if (!isBoxId(options.boxId)) throw new DomainError('INVALID_CONFIG', `webhooks: the box id "${options.boxId}" must be 1–64 letters, digits, "-" or "_"`);
  const log = options.log ?? (() => {});
  const kv = box.persistence.kv;
  const outbox = new WebhookOutbox(kv, storeDeliveryQueue(kv), options.hooks, {
    log,
    now: options.now ?? Date.now,
    raise: async (a) => box.send(ALARMS, raise(a.key, a.code, 'warning', `webhook/${a.subject}`, a.text), 'webhooks'),
    clear: async (key) => box.send(ALARMS, clear(key), 'webhooks'),
  });
  let seq = (await kv.get<number>('wh:seq')) ?? 0;
  let chain: Promise<unknown> = Promise.resolve();
  const unlisten = box.events.listen((e) => {
    const mapped = e.type === 'pickup.changed' ? toFleetEvent(e) : null;
    if (!mapped) return;
    const run = chain.then(async () => {
      seq++;
      await kv.set('wh:seq', seq);
      const event: FleetEvent = { id: `${options.boxId}:wh:${seq}`, boxId: options.boxId, seq, type: mapped.type, at: typeof e.at === 'number' ? e.at : Date.now(), data: mapped.data };
      await outbox.enqueue(event);
    });
    chain = run.catch((error) => log('error', 'webhooks: a pickup event could not be queued', { err: String(error) }));
  });
  let closed = false;
  const running = outbox.run(() => closed);
  return {
    outbox,
    flush: () => chain.then(() => undefined),
    async close() {
      unlisten();
      await chain;
      closed = true;
      await running;
    },
  };
}
