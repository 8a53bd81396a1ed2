import type { BoxOutgoing } from './protocol.js';
import { z } from 'zod';
import { toErrorCode, type ErrorCode } from './domain/errors.js';
import { defineActor } from './runtime/define.js';
import { ALARMS, SHREDDER, clear, errorCode, raise, sessionAddress } from './messages.js';
import type { CardReaderPort } from '../drivers/ports.js';

/**
 * The card reader takes the old ID card, reads it, and on the session's verdict either hands it
 * to the shredder or gives it back.
 *
 *   idle ──accept(session)──▶ accepting ──card in──▶ reading ──read──▶ verified (awaiting verdict)
 *   verified ──match──▶ transferring ──▶ idle (card in the shredder)
 *   verified ──no match / cancel──▶ ejecting ──▶ idle
 *   any ──shredder unavailable──▶ disabled (slot closed) ──shredder back──▶ idle
 *   any ──reader unplugged──▶ disabled (the session falls back to the birth date) ──plugged in──▶ idle
 */

export type ReaderState = 'idle' | 'accepting' | 'reading' | 'verified' | 'ejecting' | 'transferring' | 'disabled';

export interface ReaderCtx {
  state: ReaderState;
  sessionId: string | null;
  /** the MRZ of the card in the reader: needed until the verdict, dropped after */
  mrz: string[] | null;
  shredderAvailable: boolean;
  /** the reader itself answers (false while unplugged); absent in state saved before it existed */
  connected?: boolean;
  reads: number;
}

/** Everything the card reader takes, as a runtime schema. */
export const ReaderMessage = z.discriminatedUnion('type', [
  /** could a card be taken now? (a session whose PIN is being checked asks; answered with `card.offer`) */
  z.object({ type: z.literal('offer'), sessionId: z.string(), attempt: z.number() }),
  z.object({ type: z.literal('accept'), sessionId: z.string() }),
  z.object({ type: z.literal('card.inserted') }),
  z.object({ type: z.literal('read.done'), mrz: z.array(z.string()) }),
  z.object({ type: z.literal('read.failed'), code: errorCode }),
  z.object({ type: z.literal('verdict'), sessionId: z.string(), accepted: z.boolean(), documentNumber: z.string().nullable() }),
  z.object({ type: z.literal('cancel'), sessionId: z.string() }),
  z.object({ type: z.literal('eject.done') }),
  z.object({ type: z.literal('eject.failed'), code: errorCode }),
  z.object({ type: z.literal('reader.status'), available: z.boolean(), code: errorCode.nullable() }),
  z.object({ type: z.literal('transfer.done'), documentNumber: z.string(), sessionId: z.string() }),
  z.object({ type: z.literal('transfer.failed'), code: errorCode }),
  z.object({ type: z.literal('shredder.status'), available: z.boolean() }),
  z.object({ type: z.literal('recovered') }),
]);
export type ReaderEvent = z.infer<typeof ReaderMessage>;

export type ReaderIo =
  | { kind: 'slot'; open: boolean }
  | { kind: 'read' }
  | { kind: 'eject' }
  | { kind: 'transfer'; documentNumber: string; sessionId: string };

/** Whether the slot may take a card: the reader answers and the shredder can take it. */
const usable = (ctx: ReaderCtx): boolean => ctx.shredderAvailable && ctx.connected !== false;

export function readerActor(port: CardReaderPort) {
  return defineActor<ReaderCtx, ReaderEvent, ReaderIo, BoxOutgoing>({
    kind: 'reader',
    messages: ReaderMessage,
    init: () => ({ state: 'idle', sessionId: null, mrz: null, shredderAvailable: true, reads: 0 }),
    on: {
      offer: (ctx, e, enq) => void enq.emit.send({ to: sessionAddress(e.sessionId), message: { type: 'card.offer', possible: usable(ctx) && ctx.state !== 'disabled', attempt: e.attempt } }),
      accept: (ctx, e, enq) => {
        if (ctx.state === 'disabled' || !usable(ctx)) {
          enq.emit.send({ to: sessionAddress(e.sessionId), message: { type: 'card.unavailable' } });
          return;
        }
        if (ctx.state !== 'idle' && ctx.sessionId !== e.sessionId) {
          enq.emit.send({ to: sessionAddress(e.sessionId), message: { type: 'card.unavailable' } });
          return;
        }
        enq.emit.io({ op: { kind: 'slot', open: true } });
        return { ...ctx, state: 'accepting', sessionId: e.sessionId };
      },
      'card.inserted': (ctx, _e, enq) => {
        if (ctx.state !== 'accepting') {
          enq.emit.io({ op: { kind: 'eject' } });
          return { ...ctx, state: 'ejecting' };
        }
        enq.emit.io({ op: { kind: 'read' } });
        return { ...ctx, state: 'reading' };
      },
      'read.done': (ctx, e, enq) => {
        if (ctx.state !== 'reading' || !ctx.sessionId) return;
        enq.emit.send({ to: sessionAddress(ctx.sessionId), message: { type: 'card.read', mrz: e.mrz } });
        return { ...ctx, state: 'verified', mrz: e.mrz, reads: ctx.reads + 1 };
      },
      'read.failed': (ctx, e, enq) => {
        if (ctx.state !== 'reading' || !ctx.sessionId) return;
        if (e.code === 'READER_DISCONNECTED') {
          // Nothing to eject through a dead line: the birth date is the way on, staff checks the slot.
          enq.emit.send({ to: sessionAddress(ctx.sessionId), message: { type: 'card.unavailable' } });
          return { ...ctx, state: 'disabled', sessionId: null, mrz: null, connected: false };
        }
        enq.emit.send({ to: sessionAddress(ctx.sessionId), message: { type: 'card.unreadable', code: e.code } });
        enq.emit.io({ op: { kind: 'eject' } });
        return { ...ctx, state: 'ejecting', mrz: null };
      },
      verdict: (ctx, e, enq) => {
        if (ctx.state !== 'verified' || ctx.sessionId !== e.sessionId) return;
        if (e.accepted && e.documentNumber && ctx.shredderAvailable) {
          enq.emit.io({ op: { kind: 'transfer', documentNumber: e.documentNumber, sessionId: e.sessionId } });
          return { ...ctx, state: 'transferring', mrz: null };
        }
        enq.emit.io({ op: { kind: 'eject' } });
        return { ...ctx, state: 'ejecting', mrz: null };
      },
      cancel: (ctx, e, enq) => {
        if (ctx.sessionId !== e.sessionId) return;
        if (ctx.state === 'accepting') {
          enq.emit.io({ op: { kind: 'slot', open: false } });
          return { ...ctx, state: usable(ctx) ? 'idle' : 'disabled', sessionId: null };
        }
        if (ctx.state === 'verified' || ctx.state === 'reading') {
          enq.emit.io({ op: { kind: 'eject' } });
          return { ...ctx, state: 'ejecting', mrz: null };
        }
      },
      'eject.done': (ctx, _e, enq) => {
        if (ctx.sessionId) enq.emit.send({ to: sessionAddress(ctx.sessionId), message: { type: 'card.ejected' } });
        return { ...ctx, state: usable(ctx) ? 'idle' : 'disabled', sessionId: null, mrz: null };
      },
      'eject.failed': (ctx, e, enq) => {
        enq.emit.send({ to: ALARMS, message: raise('reader:eject', e.code, 'warning', 'reader/1', `Card reader could not give a card back (${e.code}): check the slot`) });
        if (ctx.sessionId) enq.emit.send({ to: sessionAddress(ctx.sessionId), message: { type: 'card.ejected' } });
        return { ...ctx, state: 'disabled', sessionId: null, mrz: null };
      },
      /** The reader was unplugged or is back; unplugged, a waiting session goes on with the birth date. */
      'reader.status': (ctx, e, enq) => {
        if (!e.available) {
          enq.emit.send({ to: ALARMS, message: raise('reader:line', e.code ?? 'READER_DISCONNECTED', 'warning', 'reader/1', `Card reader is not connected (${e.code ?? 'READER_DISCONNECTED'}): the panel offers the birth date only`) });
          if (ctx.sessionId && (ctx.state === 'accepting' || ctx.state === 'reading')) {
            enq.emit.send({ to: sessionAddress(ctx.sessionId), message: { type: 'card.unavailable' } });
          }
          const keep = ctx.state === 'verified' || ctx.state === 'transferring' || ctx.state === 'ejecting';
          return { ...ctx, connected: false, state: keep ? ctx.state : 'disabled', sessionId: keep ? ctx.sessionId : null, mrz: keep ? ctx.mrz : null };
        }
        enq.emit.send({ to: ALARMS, message: clear('reader:line') });
        const next = { ...ctx, connected: true };
        return { ...next, state: ctx.state === 'disabled' && usable(next) ? 'idle' : ctx.state };
      },
      'transfer.done': (ctx, e, enq) => {
        enq.emit.send({ to: SHREDDER, message: { type: 'shred', sessionId: e.sessionId, documentNumber: e.documentNumber } });
        return { ...ctx, state: usable(ctx) ? 'idle' : 'disabled', sessionId: null };
      },
      'transfer.failed': (ctx, e, enq) => {
        enq.emit.send({ to: ALARMS, message: raise('reader:transfer', e.code, 'critical', 'reader/1', `Card reader could not move a card to the shredder (${e.code})`) });
        if (ctx.sessionId) enq.emit.send({ to: sessionAddress(ctx.sessionId), message: { type: 'card.retained' } });
        return { ...ctx, state: 'disabled', sessionId: null };
      },
      'shredder.status': (ctx, e, enq) => {
        if (!e.available) {
          if (ctx.state === 'accepting') {
            enq.emit.io({ op: { kind: 'slot', open: false } });
            if (ctx.sessionId) enq.emit.send({ to: sessionAddress(ctx.sessionId), message: { type: 'card.unavailable' } });
            return { ...ctx, state: 'disabled', sessionId: null, shredderAvailable: false };
          }
          return { ...ctx, shredderAvailable: false, state: ctx.state === 'idle' ? 'disabled' : ctx.state };
        }
        const next = { ...ctx, shredderAvailable: true };
        return { ...next, state: ctx.state === 'disabled' && usable(next) ? 'idle' : ctx.state };
      },
      // After a restart a card may still sit in the reader: give it back, never shred on a guess.
      recovered: (ctx, _e, enq) => {
        if (ctx.state === 'idle' || ctx.state === 'disabled') return;
        enq.emit.io({ op: { kind: 'eject' } });
        return { ...ctx, state: 'ejecting', mrz: null };
      },
    },
    async io(op) {
      switch (op.kind) {
        case 'slot':
          try {
            await port.setAccepting(op.open);
            return;
          } catch (error) {
            // A reader that went away is a state the box lives with; anything else fails the actor.
            if (codeOf(error, 'INTERNAL') !== 'READER_DISCONNECTED') throw error;
            return { type: 'reader.status', available: false, code: 'READER_DISCONNECTED' };
          }
        case 'read':
          try {
            return { type: 'read.done', mrz: (await port.read()).mrz };
          } catch (error) {
            return { type: 'read.failed', code: codeOf(error, 'CARD_UNREADABLE') };
          }
        case 'eject':
          try {
            await port.eject();
            return { type: 'eject.done' };
          } catch (error) {
            if (codeOf(error, 'INTERNAL') !== 'READER_DISCONNECTED') throw error;
            return { type: 'eject.failed', code: 'READER_DISCONNECTED' };
          }
        case 'transfer':
          try {
            await port.transfer();
            return { type: 'transfer.done', documentNumber: op.documentNumber, sessionId: op.sessionId };
          } catch (error) {
            return { type: 'transfer.failed', code: codeOf(error, 'READER_TRANSFER_FAILED') };
          }
      }
    },
  });
}

function codeOf(error: unknown, fallback: ErrorCode): ErrorCode {
  return toErrorCode((error as { code?: unknown })?.code, fallback);
}
