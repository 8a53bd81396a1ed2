import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readerActor, type ReaderCtx } from '../../actors/reader.js';
import { SimulatedCardReader, SimulatedShredder } from '../../drivers/sim/devices.js';

// The reader actor when its serial line goes away and comes back: pure transitions, whole effect lists.

const reader = readerActor(new SimulatedCardReader(new SimulatedShredder()));
const idle: ReaderCtx = reader.init(undefined, 'reader/1');
const reading = (): ReaderCtx => {
  const accepting = reader.step(idle, { type: 'accept', sessionId: 's1', now: 0 }).ctx;
  return reader.step(accepting, { type: 'card.inserted', now: 1 }).ctx;
};

test('reader: unplugged mid-read, the session is told to use the birth date and nothing is ejected through the dead line', () => {
  const { ctx, effects } = reader.step(reading(), { type: 'read.failed', code: 'READER_DISCONNECTED', now: 2 });
  assert.is(ctx.state, 'disabled');
  assert.is(ctx.connected, false);
  assert.is(ctx.sessionId, null);
  assert.equal(effects, [{ type: 'send', to: 'session/s1', message: { type: 'card.unavailable' } }]);
});

test('reader: an unreadable card (not a line failure) is still ejected and the session told', () => {
  const { ctx, effects } = reader.step(reading(), { type: 'read.failed', code: 'CARD_UNREADABLE', now: 2 });
  assert.is(ctx.state, 'ejecting');
  assert.equal(effects, [
    { type: 'send', to: 'session/s1', message: { type: 'card.unreadable', code: 'CARD_UNREADABLE' } },
    { type: 'io', op: { kind: 'eject' } },
  ]);
});

test('reader: the line reported down while a session waits for a card: alarm and session hear of it, and a session asking is told no card', () => {
  const accepting = reader.step(idle, { type: 'accept', sessionId: 's1', now: 0 }).ctx;
  const { ctx, effects } = reader.step(accepting, { type: 'reader.status', available: false, code: 'READER_DISCONNECTED', now: 1 });
  assert.equal({ state: ctx.state, connected: ctx.connected, sessionId: ctx.sessionId }, { state: 'disabled', connected: false, sessionId: null });
  assert.equal(effects, [
    {
      type: 'send',
      to: 'alarms',
      message: { type: 'alarm.raise', key: 'reader:line', code: 'READER_DISCONNECTED', severity: 'warning', subject: 'reader/1', text: 'Card reader is not connected (READER_DISCONNECTED): the panel offers the birth date only' },
    },
    { type: 'send', to: 'session/s1', message: { type: 'card.unavailable' } },
  ]);
  assert.equal(reader.step(ctx, { type: 'accept', sessionId: 's2', now: 2 }).effects, [{ type: 'send', to: 'session/s2', message: { type: 'card.unavailable' } }]);
  assert.equal(reader.step(ctx, { type: 'offer', sessionId: 's3', attempt: 2, now: 2 }).effects, [{ type: 'send', to: 'session/s3', message: { type: 'card.offer', possible: false, attempt: 2 } }]);
});

test('reader: back on the line it is idle again and clears its alarm, unless the shredder is still out', () => {
  const down = reader.step(idle, { type: 'reader.status', available: false, code: 'READER_DISCONNECTED', now: 0 }).ctx;
  const back = reader.step(down, { type: 'reader.status', available: true, code: null, now: 1 });
  assert.is(back.ctx.state, 'idle');
  assert.equal(back.effects, [{ type: 'send', to: 'alarms', message: { type: 'alarm.clear', key: 'reader:line' } }]);
  assert.equal(reader.step(back.ctx, { type: 'offer', sessionId: 's1', attempt: 2, now: 2 }).effects, [{ type: 'send', to: 'session/s1', message: { type: 'card.offer', possible: true, attempt: 2 } }]);
  const noShredder = reader.step(down, { type: 'shredder.status', available: false, now: 1 }).ctx;
  const stillOut = reader.step(noShredder, { type: 'reader.status', available: true, code: null, now: 2 });
  assert.is(stillOut.ctx.state, 'disabled');
  assert.equal(reader.step(stillOut.ctx, { type: 'offer', sessionId: 's1', attempt: 3, now: 3 }).effects, [{ type: 'send', to: 'session/s1', message: { type: 'card.offer', possible: false, attempt: 3 } }]);
});

test('reader: an eject that fails raises an alarm and lets the session go on', () => {
  const rejected = reader.step(reader.step(reading(), { type: 'read.done', mrz: ['x'], now: 2 }).ctx, { type: 'verdict', sessionId: 's1', accepted: false, documentNumber: null, now: 3 }).ctx;
  const { ctx, effects } = reader.step(rejected, { type: 'eject.failed', code: 'READER_DISCONNECTED', now: 4 });
  assert.is(ctx.state, 'disabled');
  assert.equal(effects, [
    { type: 'send', to: 'alarms', message: { type: 'alarm.raise', key: 'reader:eject', code: 'READER_DISCONNECTED', severity: 'warning', subject: 'reader/1', text: 'Card reader could not give a card back (READER_DISCONNECTED): check the slot' } },
    { type: 'send', to: 'session/s1', message: { type: 'card.ejected' } },
  ]);
});

test.run();
