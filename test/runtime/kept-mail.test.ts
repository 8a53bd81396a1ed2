/**
 * An actor that keeps its mail while it has failed for good (`keepsMailWhileFailed`, the alarm
 * list): notes sent meanwhile wait for it, in order, and are handled once it is revived; a request
 * is refused ACTOR_FAILED at once, as for any failed actor; past KEPT_LIMIT, mail goes back as to
 * any failed actor. An actor without it refuses everything while failed, as before.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SimulatedClock } from '../../actors/runtime/clock.js';
import { defineActor } from '../../actors/runtime/define.js';
import { Supervisor } from '../../actors/runtime/supervisor.js';
import type { Message } from '../../actors/runtime/types.js';
import { answer, type Request } from '../../actors/runtime/ask.js';
import { openPersistence } from '../../src/persistence/keyv-persistence.js';
import { rejectionCode } from '../domain/assert-code.js';

type ListEvent = { type: 'note'; text: string } | { type: 'bug' } | ({ type: 'count' } & Request);
const listOf = (kind: string, keeps: boolean) =>
  defineActor<{ notes: string[] }, ListEvent & Message, never>({
    kind,
    keepsMailWhileFailed: keeps,
    init: () => ({ notes: [] }),
    on: {
      note: (ctx, e) => ({ notes: [...ctx.notes, e.text] }),
      bug: () => {
        throw new Error('a bug');
      },
      count: (ctx, e, enq) => void enq.emit.send(answer(e, ctx.notes.length)),
    },
  });

async function failed(keeps: boolean) {
  const sup = new Supervisor({ clock: new SimulatedClock(0), persistence: await openPersistence('memory:'), behaviors: [listOf('list', keeps)] });
  await sup.spawn('list/1', 'list');
  for (let i = 0; i < 6; i++) sup.send('list/1', { type: 'bug' });
  await sup.idle();
  assert.equal(sup.failed().map((f) => f.actor), ['list/1'], 'failed for good');
  return sup;
}

const notes = (sup: Supervisor) => sup.view<{ notes: string[] }>('list/1')!.ctx.notes;

test('notes sent while it has failed are kept and handled in order once it is revived; a request is refused at once', async () => {
  const sup = await failed(true);
  sup.send('list/1', { type: 'note', text: 'a' });
  sup.send('list/1', { type: 'note', text: 'b' });
  assert.is(await rejectionCode(sup.ask('list/1', { type: 'count' })), 'ACTOR_FAILED');
  await sup.idle();
  assert.equal(notes(sup), [], 'not handled while failed');
  assert.ok(await sup.revive('list/1'));
  await sup.idle();
  assert.equal(notes(sup), ['a', 'b']);
  assert.is(await sup.ask('list/1', { type: 'count' }), 2);
  await sup.close();
});

test('a note sent while the revival is being committed comes after the notes kept before it', async () => {
  const sup = await failed(true);
  sup.send('list/1', { type: 'note', text: 'raised while failed' });
  const revived = sup.revive('list/1');
  // The revival is being written: a note sent now must not pass the one kept (a clear its raise).
  sup.send('list/1', { type: 'note', text: 'sent while reviving' });
  assert.ok(await revived);
  await sup.idle();
  assert.equal(notes(sup), ['raised while failed', 'sent while reviving']);
  await sup.close();
});

test('a note no store can hold is kept in memory only: storage stays healthy, and the notes after it are kept', async () => {
  const sup = await failed(true);
  sup.post('list/1', { type: 'note', get text(): string { throw new Error('a broken message'); } } as Message);
  sup.send('list/1', { type: 'note', text: 'after it' });
  await sup.idle();
  assert.ok(sup.storageHealthy(), 'the broken note did not fail a transaction');
  assert.ok(await sup.revive('list/1'));
  await sup.idle();
  assert.equal(notes(sup), ['after it'], 'the broken note crashed its handler alone');
  await sup.close();
});

test('at most 10,000 notes are kept; the rest go back as to any failed actor', async () => {
  const sup = await failed(true);
  const dead: string[] = [];
  sup.deadLetters.listen((d) => dead.push(d.reason));
  for (let i = 0; i < 10_002; i++) sup.send('list/1', { type: 'note', text: String(i) });
  await sup.idle();
  assert.equal(dead, ['actor-failed', 'actor-failed']);
  await sup.revive('list/1');
  await sup.idle();
  assert.is(notes(sup).length, 10_000);
  assert.is(notes(sup).at(-1), '9999', 'the first ones are kept');
  await sup.close();
});

test('an actor that does not keep its mail refuses notes while it has failed, as before', async () => {
  const sup = await failed(false);
  sup.send('list/1', { type: 'note', text: 'a' });
  await sup.idle();
  await sup.revive('list/1');
  await sup.idle();
  assert.equal(notes(sup), []);
  await sup.close();
});

test.run();
