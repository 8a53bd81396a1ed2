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
  pickups(): ReadonlyArray<{ reference: string; status: string; compartmentId: string | null; updatedAt: number }>;
  send(to: string, message: Message, from?: string): void;
}

interface Seen {
  /** the latest time among the changes queued */
  at: number;
  /** reference → status and time of its last queued change, for the last SEEN_WINDOW_MS */
  recent: Record<string, { status: string; at: number }>;
}
const SEEN_WINDOW_MS = 60_000;

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
  const now = options.now ?? Date.now;
  const kv = box.persistence.kv;
  const outbox = new WebhookOutbox(kv, storeDeliveryQueue(kv), options.hooks, {
    log,
    now,
    raise: async (a) => box.send(ALARMS, raise(a.key, a.code, 'warning', `webhook/${a.subject}`, a.text), 'webhooks'),
    clear: async (key) => box.send(ALARMS, clear(key), 'webhooks'),
  });
  let seq = (await kv.get<number>('wh:seq')) ?? 0;
  /**
   * The last pickup changes queued, by reference (status and time, the last minute of them): a
   * change committed while nothing listened (the process killed between a commit and the queueing
   * of its webhook) is found at the next start by the pickup's own time and status. A minute, as a
   * pickup's time is its handler's and an event's time that of its effects, a moment later.
   */
  let seen = (await kv.get<Seen>('wh:seen')) ?? null;
  let chain: Promise<unknown> = Promise.resolve();
  const remember = (reference: string, status: string, at: number) => {
    const latest = Math.max(at, seen?.at ?? at);
    const recent: Seen['recent'] = {};
    for (const [ref, r] of Object.entries(seen?.recent ?? {})) if (r.at >= latest - SEEN_WINDOW_MS) recent[ref] = r;
    recent[reference] = { status, at };
    seen = { at: latest, recent };
    return seen;
  };
  const queue = (e: BoxEvent) => {
    const mapped = e.type === 'pickup.changed' ? toFleetEvent(e) : null;
    if (!mapped) return;
    const at = typeof e.at === 'number' ? e.at : now();
    const run = chain.then(async () => {
      seq++;
      await kv.set('wh:seq', seq);
      await outbox.enqueue({ id: `${options.boxId}:wh:${seq}`, boxId: options.boxId, seq, type: mapped.type, at, data: mapped.data } satisfies FleetEvent);
      await kv.set('wh:seen', remember(String(e.reference), String(e.status), at));
    });
    chain = run.catch((error) => log('error', 'webhooks: a pickup event could not be queued', { err: String(error) }));
  };
  if (seen) {
    // Changes since the last queued ones that no webhook carries: one event each, marked
    // `recovered` (the pickup's state now; steps in between are not known any more).
    const since = seen;
    const missed = box
      .pickups()
      .filter((p) => p.updatedAt > since.at - SEEN_WINDOW_MS && since.recent[p.reference]?.status !== p.status)
      .sort((a, b) => a.updatedAt - b.updatedAt);
    for (const p of missed) queue({ type: 'pickup.changed', at: p.updatedAt, source: 'registry', change: 'recovered', reference: p.reference, status: p.status, compartmentId: p.compartmentId });
    if (missed.length) log('warn', `webhooks: ${missed.length} pickup change(s) committed without a queued webhook (the box stopped in between) are sent now as "recovered"`);
  } else {
    // The first start with webhooks: they begin now; earlier changes are not replayed.
    const pickups = box.pickups();
    const first: Seen = { at: pickups.reduce((max, p) => Math.max(max, p.updatedAt), 0), recent: {} };
    for (const p of pickups) if (p.updatedAt > first.at - SEEN_WINDOW_MS) first.recent[p.reference] = { status: p.status, at: p.updatedAt };
    seen = first;
    chain = kv.set('wh:seen', first).catch((error) => log('error', 'webhooks: could not store where they begin', { err: String(error) }));
  }
  const unlisten = box.events.listen(queue);
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
