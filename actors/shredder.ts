import type { BoxOutgoing } from './protocol.js';
import { answer, refuse, requestOf, type Request } from './runtime/ask.js';
import { z } from 'zod';
import type { ErrorCode } from './domain/errors.js';
import { defineActor } from './runtime/define.js';
import { ALARMS, READER, clear, maybeAsked, raise, request, sessionAddress } from './messages.js';
import type { ShredResult, ShredderPort } from '../drivers/ports.js';

/**
 * The shredder destroys old ID cards the reader hands it. Every destruction is audited with a
 * keyed hash of the document number (`tag`, never the number: the audit log is kept for good), so
 * the office, which holds the key, can prove the old document was invalidated.
 *
 *   idle ──shred──▶ shredding ──ok──▶ idle (or binFull)
 *                            └─jam──▶ jammed ──staff clears──▶ idle
 */

export type ShredderState = 'idle' | 'shredding' | 'jammed' | 'binFull';

export interface ShredderCtx {
  state: ShredderState;
  binFree: number;
  binCapacity: number;
  /** the card being shredded, by the tag of its number */
  current: { sessionId: string; documentTag: string } | null;
  /** tags of cards taken in but not destroyed (jam): staff must destroy them by hand */
  retained: string[];
  destroyed: number;
}

/** Everything the shredder takes, as a runtime schema. */
export const ShredderMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('shred'), sessionId: z.string(), documentNumber: z.string() }),
  z.object({ type: z.literal('shred.done'), binFree: z.number() }),
  z.object({ type: z.literal('shred.failed'), code: z.enum(['SHREDDER_JAM', 'SHREDDER_BIN_FULL', 'SHREDDER_FAULT']), binFree: z.number() }),
  z.object({ type: z.literal('jam') }),
  z.object({ type: z.literal('clear'), by: z.string(), binEmptied: z.boolean(), ...maybeAsked }),
  z.object({ type: z.literal('cleared'), by: z.string(), binEmptied: z.boolean(), binFree: z.number(), request: z.object(request).nullable() }),
  /** after a crash, or revived after it failed for good: the reader hears whether cards can be destroyed */
  z.object({ type: z.literal('restarted') }),
]);
export type ShredderEvent = z.infer<typeof ShredderMessage>;

export type ShredderIo = { kind: 'shred' } | { kind: 'readBin'; by: string; binEmptied: boolean; request: Request | null };

export function shredderActor(port: ShredderPort, tag: (documentNumber: string) => string) {
  /** The reader, which takes cards only while the shredder can destroy them, is told (the code is the alarm's). */
  const announce = (available: boolean, _code?: ErrorCode): BoxOutgoing[] => [{ to: READER, message: { type: 'shredder.status', available } }];
  return defineActor<ShredderCtx, ShredderEvent, ShredderIo, BoxOutgoing>({
    kind: 'shredder',
    messages: ShredderMessage,
    init: () => ({ state: 'idle', binFree: port.binFree(), binCapacity: port.binCapacity(), current: null, retained: [], destroyed: 0 }),
    on: {
      shred: (ctx, e, enq) => {
        if (ctx.state !== 'idle') {
          // Cannot happen when the reader honours our status; keep the card and say so.
          enq.emit.send({ to: sessionAddress(e.sessionId), message: { type: 'card.retained' } });
          enq.emit.audit({ entry: { action: 'oldId.retained', subject: tag(e.documentNumber), detail: { session: e.sessionId, reason: ctx.state } } });
          return { ...ctx, retained: [...ctx.retained, tag(e.documentNumber)] };
        }
        enq.emit.io({ op: { kind: 'shred' } });
        return { ...ctx, state: 'shredding', current: { sessionId: e.sessionId, documentTag: tag(e.documentNumber) } };
      },
      'shred.done': (ctx, e, enq) => {
        if (!ctx.current) return;
        enq.emit.audit({ entry: { action: 'oldId.destroyed', subject: ctx.current.documentTag, detail: { session: ctx.current.sessionId } } });
        enq.emit.send({ to: sessionAddress(ctx.current.sessionId), message: { type: 'card.shredded' } });
        const full = e.binFree <= 0;
        if (full) {
          enq.emit.send({ to: ALARMS, message: raise('shredder:bin', 'SHREDDER_BIN_FULL', 'warning', 'shredder/1', 'Shredder bin is full: empty it') });
          for (const s of announce(false, 'SHREDDER_BIN_FULL')) enq.emit.send(s);
        }
        return { ...ctx, state: full ? 'binFull' : 'idle', current: null, binFree: e.binFree, destroyed: ctx.destroyed + 1 };
      },
      'shred.failed': (ctx, e, enq) => {
        if (!ctx.current) return;
        enq.emit.audit({ entry: { action: 'oldId.retained', subject: ctx.current.documentTag, detail: { session: ctx.current.sessionId, reason: e.code } } });
        enq.emit.send({ to: sessionAddress(ctx.current.sessionId), message: { type: 'card.retained' } });
        const text =
          e.code === 'SHREDDER_JAM' ? 'Shredder jammed with a card inside: clear it and destroy the card'
          : e.code === 'SHREDDER_FAULT' ? 'Shredder failed mid-card (its board or bus): check it, destroy the card by hand, then clear it'
          : 'Shredder bin is full: empty it';
        enq.emit.send({ to: ALARMS, message: raise(e.code === 'SHREDDER_BIN_FULL' ? 'shredder:bin' : 'shredder:jam', e.code, 'critical', 'shredder/1', text) });
        for (const s of announce(false, e.code)) enq.emit.send(s);
        return { ...ctx, state: e.code === 'SHREDDER_BIN_FULL' ? 'binFull' : 'jammed', current: null, binFree: e.binFree, retained: [...ctx.retained, ctx.current.documentTag] };
      },
      /** A jam reported by the device outside a shred (sensor). */
      jam: (ctx, _e, enq) => {
        if (ctx.state === 'jammed') return;
        enq.emit.send({ to: ALARMS, message: raise('shredder:jam', 'SHREDDER_JAM', 'critical', 'shredder/1', 'Shredder jammed: clear it') });
        for (const s of announce(false, 'SHREDDER_JAM')) enq.emit.send(s);
        return { ...ctx, state: 'jammed' };
      },
      // Staff cleared a jam or emptied the bin: the device says how much room the bin has now.
      clear: (ctx, e, enq) => {
        const request = requestOf(e);
        if (ctx.state === 'shredding') {
          if (request) enq.emit.send(refuse(request, 'DEVICE_UNAVAILABLE', 'the shredder is shredding a card; clear it afterwards'));
          return;
        }
        enq.emit.io({ op: { kind: 'readBin', by: e.by, binEmptied: e.binEmptied, request } });
      },
      restarted: (ctx, _e, enq) => {
        for (const s of announce(ctx.state === 'idle')) enq.emit.send(s);
      },
      cleared: (ctx, e, enq) => {
        if (e.request) enq.emit.send(answer(e.request, null));
        if (ctx.state === 'shredding') return;
        enq.emit.audit({ entry: { action: 'shredder.cleared', actor: e.by, detail: { binEmptied: e.binEmptied, retainedDestroyedByStaff: ctx.retained.length } } });
        enq.emit.send({ to: ALARMS, message: clear('shredder:jam') });
        enq.emit.send({ to: ALARMS, message: clear('shredder:bin') });
        for (const s of announce(true)) enq.emit.send(s);
        return { ...ctx, state: e.binFree > 0 ? 'idle' : 'binFull', binFree: e.binFree, retained: [] };
      },
    },
    async io(op) {
      if (op.kind === 'readBin') {
        // The driver counts cards since the bin was last emptied; staff's word starts the count again.
        if (op.binEmptied) port.emptyBin();
        return { type: 'cleared', by: op.by, binEmptied: op.binEmptied, binFree: port.binFree(), request: op.request };
      }
      let result: ShredResult;
      try {
        result = await port.shred();
      } catch (error) {
        // The pin driver failed mid-card (its board or bus): the card is inside, its fate unknown.
        // Anything else fails the actor, as before.
        if (typeof (error as { code?: unknown } | null)?.code !== 'string') throw error;
        return { type: 'shred.failed', code: 'SHREDDER_FAULT', binFree: port.binFree() };
      }
      return result.ok ? { type: 'shred.done', binFree: port.binFree() } : { type: 'shred.failed', code: result.code, binFree: port.binFree() };
    },
  });
}
