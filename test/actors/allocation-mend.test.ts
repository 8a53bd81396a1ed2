import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { allocationActor, type AllocationCtx, type Slot } from '../../actors/allocation.js';
import type { Effect } from '../../actors/runtime/types.js';
import type { RegistryCtx } from '../../actors/registry.js';
import { registryUnderTest } from '../security/registry-rig.js';

// Which compartment holds which pickup is the registry's to say; the allocation actor's slots only
// follow it. A slot that drifted (a `free` sent back while the allocation actor was failed, its
// state lost) is mended when the registry tells again, pickup by pickup, which compartments its
// pickups hold, after every restart, crash and revival of the allocation actor. Not mended away: a
// pickup being loaded right now (its compartment won, the registry not told yet when it answered),
// a pickup made after the registry named those with a compartment, and what a compartment said it
// holds. An earlier version's registry named them all in one `allocation.adopt`.

const allocation = allocationActor({ claimOnce: async () => true, release: async () => {} });
const NOW = Date.UTC(2026, 11, 1, 9, 0, 0);
const slot = (patch: Partial<Slot>): Slot => ({ size: 'S', accessible: false, available: true, pickupId: null, ...patch });

/** Five compartments: A01 given to P1 (collected while this actor was failed: the registry has none in it), A02 to P2 (live there), A03 won for P3 (being loaded), A04 reserved by its own report, A05 free. */
const drifted: AllocationCtx = {
  slots: {
    A01: slot({ pickupId: 'P1', claimedBy: 'V-1' }),
    A02: slot({ pickupId: 'P2', claimedBy: 'V-2' }),
    A03: slot({ pickupId: 'P3', claimedBy: 'V-3' }),
    A04: slot({ pickupId: 'P9', reported: true }),
    A05: slot({}),
  },
};

/**
 * The registry's catch-up, pickup by pickup: each one's compartment (`placed`: compartment →
 * pickup; `awaiting`: being loaded; `none`: named, but in no compartment), then which pickups may
 * have one (`liveFirst`: the other way round, as the messages may come once pickups answer for
 * themselves).
 */
function catchUp(ctx: AllocationCtx, placed: Record<string, string>, awaiting: string[] = [], none: string[] = [], upTo = 9, liveFirst = false) {
  const effects: Effect<unknown>[] = [];
  const run = (message: Parameters<typeof allocation.step>[1]) => {
    const r = allocation.step(ctx, message);
    ctx = r.ctx;
    effects.push(...r.effects);
  };
  const live = () => run({ type: 'slots.live', pickupIds: [...Object.values(placed), ...awaiting, ...none], upTo, now: NOW });
  if (liveFirst) live();
  for (const [compartmentId, pickupId] of Object.entries(placed)) run({ type: 'slot.expect', pickupId, compartmentId, awaiting: false, now: NOW });
  for (const pickupId of awaiting) run({ type: 'slot.expect', pickupId, compartmentId: null, awaiting: true, now: NOW });
  for (const pickupId of none) run({ type: 'slot.expect', pickupId, compartmentId: null, awaiting: false, now: NOW });
  if (!liveFirst) live();
  return { ctx, effects };
}

const sent = (effects: Effect<unknown>[]) => effects.flatMap((e) => (e.type === 'send' ? [`${e.to} ${e.message.type}`] : []));
const released = (effects: Effect<unknown>[]) => effects.flatMap((e) => (e.type === 'io' ? [JSON.stringify(e.op)] : []));

test('allocation: restarted, revived or recovered, it asks the registry which compartments its pickups hold', () => {
  for (const type of ['restarted', 'recovered', 'started'] as const) {
    assert.ok(sent(allocation.step(drifted, { type, now: NOW }).effects).includes('registry allocation.started'), type);
  }
});

test('allocation: a slot given to a pickup the registry does not have in it is freed and its claim given back; the others stay', () => {
  const { ctx, effects } = catchUp(drifted, { A02: 'P2' }, ['P3']);
  assert.equal(ctx.slots.A01, slot({ pickupId: null, claimedBy: 'V-1' }), 'A01 free, its claim kept as owner until the store confirms');
  assert.equal(released(effects), [JSON.stringify({ kind: 'release', compartmentId: 'A01', owner: 'V-1' })]);
  assert.is(ctx.slots.A02!.pickupId, 'P2', 'the registry has P2 in A02');
  assert.is(ctx.slots.A03!.pickupId, 'P3', 'P3 is being loaded: its compartment was won after the registry answered');
  assert.is(ctx.slots.A04!.pickupId, 'P9', 'what the compartment said it holds stays reserved');
  assert.is(ctx.slots.A05!.pickupId, null);
  const mended = effects.filter((e) => e.type === 'audit').map((e) => (e as { entry: { action: string; subject?: string } }).entry);
  assert.equal(mended, [{ action: 'allocation.mended', subject: 'A01', detail: { slot: 'P1', registry: null } }], 'audited');

  // Freed, A01 is the first compartment a new load gets.
  const load = allocation.step(ctx, { type: 'allocate', pickupId: 'P4', owner: 'V-4', documents: 1, accessible: false, request: { requestId: 'r', replyTo: 'replies', by: 'anna' }, now: NOW });
  const claim = load.effects.find((e) => e.type === 'io') as { op: { candidates: string[] } };
  assert.equal(claim.op.candidates, ['A01', 'A05']);
});

test('allocation: a slot the registry has another pickup in is given to that pickup; a pickup in another compartment, or in none, leaves its slot', () => {
  // P1 (A01) is not among the pickups named; P7, which the registry has in A01, gets it, and the
  // compartment's claim stays this box's (nothing is given back).
  const { ctx, effects } = catchUp(drifted, { A01: 'P7', A02: 'P2' }, ['P3']);
  assert.equal(ctx.slots.A01, slot({ pickupId: 'P7', claimedBy: 'V-1' }));
  assert.equal(released(effects), []);
  assert.equal(effects.filter((e) => e.type === 'audit').map((e) => (e as { entry: { detail: unknown } }).entry.detail), [{ slot: 'P1', registry: 'P7' }], 'audited as mended');
  // The list first (as it may come once pickups answer for themselves): the same slot, but its claim was given back on the way.
  const liveFirst = catchUp(drifted, { A01: 'P7', A02: 'P2' }, ['P3'], [], 9, true);
  assert.is(liveFirst.ctx.slots.A01!.pickupId, 'P7');
  assert.equal(released(liveFirst.effects), [JSON.stringify({ kind: 'release', compartmentId: 'A01', owner: 'V-1' })]);
  // P1 is named, but in A05: A01 is given back, A05 is P1's.
  const moved = catchUp(drifted, { A02: 'P2', A05: 'P1' }, ['P3']);
  assert.is(moved.ctx.slots.A01!.pickupId, null);
  assert.is(moved.ctx.slots.A05!.pickupId, 'P1');
  // P2 is named, in no compartment (collected while this actor was failed): A02 is freed.
  const none = catchUp(drifted, {}, ['P3'], ['P2']);
  assert.is(none.ctx.slots.A02!.pickupId, null);
  assert.equal(released(none.effects).sort(), [JSON.stringify({ kind: 'release', compartmentId: 'A01', owner: 'V-1' }), JSON.stringify({ kind: 'release', compartmentId: 'A02', owner: 'V-2' })]);
  assert.is(none.ctx.slots.A03!.pickupId, 'P3');
  assert.is(none.ctx.slots.A04!.pickupId, 'P9', 'reported: kept');
});

test('allocation: a slot of a pickup made after the registry named those with a compartment is kept, whatever order the answers come in', () => {
  const made = { ...drifted, slots: { ...drifted.slots, A05: slot({ pickupId: 'P12', claimedBy: 'V-12' }) } };
  const { ctx } = catchUp(made, { A02: 'P2' }, ['P3'], [], 10);
  assert.is(ctx.slots.A05!.pickupId, 'P12', 'P12 came after the registry counted to 10');
  assert.is(ctx.slots.A01!.pickupId, null, 'P1 was known and not named: freed');
  // The list before each pickup's answer (once pickups answer for themselves, it may come first): the same slots.
  assert.equal(catchUp(made, { A02: 'P2' }, ['P3'], [], 10, true).ctx.slots, ctx.slots);
});

test("allocation: an earlier version's registry named every compartment in one adoption: a slot it does not name is mended as before", () => {
  const { ctx, effects } = allocation.step(drifted, { type: 'allocation.adopt', slots: { A01: { pickupId: 'P7' }, A02: { pickupId: 'P2' } }, awaiting: ['P3'], now: NOW });
  assert.equal(ctx.slots.A01, slot({ pickupId: 'P7', claimedBy: 'V-1' }));
  assert.equal(released(effects), [], 'the compartment stays this box\'s');
  const freed = allocation.step(drifted, { type: 'allocation.adopt', slots: { A02: { pickupId: 'P2' } }, awaiting: ['P3'], now: NOW });
  assert.equal(freed.ctx.slots, catchUp(drifted, { A02: 'P2' }, ['P3']).ctx.slots, 'the same as pickup by pickup');
});

test('allocation: a compartment freed after it was reserved by its report is no longer reserved; a second reservation marks it again', () => {
  const freed = allocation.step(drifted, { type: 'free', compartmentId: 'A04', owner: null, now: NOW }).ctx;
  assert.equal(freed.slots.A04, slot({}));
  assert.equal(allocation.step(freed, { type: 'reserve', compartmentId: 'A04', pickupId: 'P8', now: NOW }).ctx.slots.A04, slot({ pickupId: 'P8', reported: true }));
});

test('allocation: an adoption an earlier version sent (no `awaiting`) only merges: nothing is freed', () => {
  const { ctx, effects } = allocation.step(drifted, { type: 'allocation.adopt', slots: { A05: { pickupId: 'P5' } }, now: NOW });
  assert.is(ctx.slots.A01!.pickupId, 'P1');
  assert.is(ctx.slots.A05!.pickupId, 'P5');
  assert.equal(released(effects), []);
});

test("allocation: a collection's free that comes after the slot was mended and given to the next load leaves that load's slot alone", () => {
  // P1 was collected: the registry ended it when the door opened, and frees A01 when it closes.
  // The allocation actor restarts in between: the adoption frees A01 at once (the door still open).
  let ctx = catchUp(drifted, { A02: 'P2' }, ['P3']).ctx;
  ctx = allocation.step(ctx, { type: 'compartment.released', compartmentId: 'A01', owner: 'V-1', now: NOW }).ctx;
  // The next load wins A01 and its document goes in.
  const request = { requestId: 'r', replyTo: 'replies' as const, by: 'anna' };
  ctx = allocation.step(ctx, { type: 'allocate', pickupId: 'P4', owner: 'V-4', documents: 1, accessible: false, request, now: NOW }).ctx;
  ctx = allocation.step(ctx, { type: 'allocation.won', pickupId: 'P4', owner: 'V-4', compartmentId: 'A01', request, now: NOW }).ctx;
  assert.equal(ctx.slots.A01, slot({ pickupId: 'P4', claimedBy: 'V-4' }));
  // Then P1's door closes, and the registry frees A01 for P1's claim: A01 holds P4's document.
  const { ctx: after, effects } = allocation.step(ctx, { type: 'free', compartmentId: 'A01', owner: 'V-1', now: NOW });
  assert.equal(after.slots.A01, slot({ pickupId: 'P4', claimedBy: 'V-4' }), 'A01 stays P4\'s: never given to a third pickup');
  assert.equal(released(effects), [], "P4's claim is not given back");
});

test('allocation, after an upgrade: a compartment reported before the slots were handed over stays reserved through later restarts', () => {
  const registry = registryUnderTest();
  // As the earlier version saved it: its own slot table. A02 said at this start that it holds P9,
  // which the registry has in no compartment (before the allocation actor existed).
  const legacySlot = (patch: Partial<Slot>): Slot => ({ size: 'S', accessible: false, available: true, pickupId: null, claimedBy: null, ...patch });
  let reg: RegistryCtx = { ...registry.init(undefined, 'registry'), compartments: { A01: legacySlot({}), A02: legacySlot({}) } };
  reg = registry.step(reg, { type: 'compartment.report', compartmentId: 'A02', pickupId: 'P9', state: 'occupied', now: NOW }).ctx;
  /** The registry answers `allocation.started`; the allocation actor takes what it sends, in order. */
  const handOver = (alloc: AllocationCtx) => {
    const asked = registry.step(reg, { type: 'allocation.started', now: NOW });
    reg = asked.ctx;
    const told = asked.effects.flatMap((e) => (e.type === 'send' && e.to === 'allocation' ? [e.message as Parameters<typeof allocation.step>[1]] : []));
    for (const m of told) alloc = allocation.step(alloc, { ...m, now: NOW }).ctx;
    return { alloc, told: told.map((m) => m.type) };
  };
  // The new allocation actor starts: the slots are handed over, A02 held for P9.
  let { alloc, told } = handOver({ slots: { A01: slot({}), A02: slot({}) } });
  assert.equal(told, ['allocation.adopt', 'slots.live'], 'the slot table, then the pickups with a compartment (none: no answer of theirs before it)');
  assert.is(alloc.slots.A02!.pickupId, 'P9');
  // It crashes later (a claim's I/O failed) and asks again: the registry no longer keeps slots.
  ({ alloc, told } = handOver(allocation.step(alloc, { type: 'restarted', now: NOW }).ctx));
  assert.equal(told, ['slots.live'], 'handed over already');
  assert.is(alloc.slots.A02!.pickupId, 'P9', 'A02 said it holds P9: never given to a new load before staff looked');
});

test.run();
