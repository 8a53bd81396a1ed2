import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { SimulatedSmsGateway } from '../../drivers/sim/devices.js';
import { passDoor, readyPickup, register, wrongPin } from '../helpers.js';
import { ENGINES, KIOSK, MONITOR, STAFF, codeOf, start, type Running } from './support.js';

// What the staff console and the monitor read besides the original API: where each compartment
// is, the PIN SMS state, devices with lock boards and the SMS outbox, office figures and the
// audit log with filters and chain status — on both servers, with role scopes.

for (const engine of ENGINES) {
  const test = suite<{ s?: Running }>(`console schema on ${engine}`, {});
  test.before.each(async (ctx) => {
    ctx.s = await start(engine);
  });
  test.after.each(async (ctx) => {
    await ctx.s?.close();
  });

  test('compartments carry their column and row on the box front, from the id', async ({ s }) => {
    const { data } = await s!.gql(`{ compartments { id column row } }`, {}, MONITOR);
    const byId = new Map((data!.compartments as Array<{ id: string; column: number; row: number }>).map((c) => [c.id, c]));
    assert.equal(byId.get('A01'), { id: 'A01', column: 1, row: 1 });
    assert.equal(byId.get('B07'), { id: 'B07', column: 2, row: 7 });
  });

  test('a pickup says where its PIN SMS is: SENT once the gateway took it', async ({ s }) => {
    await readyPickup(s!, 'V-CON-1');
    const { data } = await s!.gql(`{ pickup(reference: "V-CON-1") { status pinSms } }`, {}, STAFF);
    assert.equal(data!.pickup, { status: 'READY', pinSms: 'SENT' });
  });

  test('a pickup says where its PIN SMS is: NONE before there is a PIN, QUEUED while the gateway does not take it', async ({ s }) => {
    await register(s!.box, 'V-CON-4');
    const registered = await s!.gql(`{ pickup(reference: "V-CON-4") { status pinSms } }`, {}, STAFF);
    assert.equal(registered.data!.pickup, { status: 'REGISTERED', pinSms: 'NONE' });
    (s!.hw.sms as SimulatedSmsGateway).failNext(1);
    await s!.box.loadPickup('V-CON-4', 'staff-anna');
    await s!.box.idle();
    await passDoor(s!, s!.box.pickup('V-CON-4')!.compartmentId!);
    const queued = await s!.gql(`{ pickups(status: [READY]) { edges { node { reference pinSms } } } }`, {}, STAFF);
    assert.equal(queued.data!.pickups.edges, [{ node: { reference: 'V-CON-4', pinSms: 'QUEUED' } }], 'the refused SMS waits in the outbox for its retry');
  });

  test('devices list the SMS outbox counts', async ({ s }) => {
    await readyPickup(s!, 'V-CON-2');
    const { data } = await s!.gql(`{ devices { sms { queued sent failed } boards { id } } }`, {}, MONITOR);
    assert.equal(data!.devices.sms, { queued: 0, sent: 1, failed: 0 });
    assert.equal(data!.devices.boards, [], 'device-level simulation has no boards');
  });

  test('figures count a day from the audit log: loaded, collected, failed authentications', async ({ s }) => {
    const { pin } = await readyPickup(s!, 'V-CON-3');
    const { sessionId } = await s!.box.startSession('1');
    await s!.box.idle();
    s!.box.sessionInput(sessionId, { type: 'phone', phone: '+4915228817386' });
    await s!.box.idle();
    s!.box.sessionInput(sessionId, { type: 'pin', pin: wrongPin(pin) });
    await s!.box.idle();
    const { data, errors } = await s!.gql(`{ figures(days: 3) { day loaded collected expired failedAuthentications collectedWithinWindowShare medianReadyToCollectionMinutes } }`, {}, MONITOR);
    assert.is(errors, undefined);
    assert.is(data!.figures.length, 3);
    const today = data!.figures[2];
    assert.is(today.day, '2026-11-23');
    assert.equal([today.loaded, today.collected, today.expired, today.failedAuthentications], [1, 0, 0, 1]);
    assert.is(today.collectedWithinWindowShare, null);
    assert.is(codeOf(await s!.gql(`{ figures(days: 0) { day } }`, {}, MONITOR)), 'BAD_USER_INPUT');
    assert.is(codeOf(await s!.gql(`{ figures { day } }`, {}, KIOSK)), 'FORBIDDEN');
  });

  test('audit entries come newest first and filter by action prefix and actor; the chain is verified', async ({ s }) => {
    await readyPickup(s!, 'V-CON-4');
    const all = await s!.gql(`{ auditEntries(limit: 200) { seq action actor } }`, {}, MONITOR);
    const seqs = (all.data!.auditEntries as Array<{ seq: number }>).map((e) => e.seq);
    assert.equal(seqs, [...seqs].sort((a, b) => b - a));
    const loads = await s!.gql(`{ auditEntries(action: "pickup.load", actor: "staff-anna") { action actor subject } }`, {}, MONITOR);
    assert.equal(loads.data!.auditEntries, [{ action: 'pickup.loading', actor: 'staff-anna', subject: 'V-CON-4' }]);
    const older = await s!.gql(`{ auditEntries(beforeSeq: 3) { seq } }`, {}, MONITOR);
    assert.equal(older.data!.auditEntries, [{ seq: 2 }, { seq: 1 }]);
    const chain = await s!.gql(`{ auditChain { verified headSeq checkedRecords anchor problem } }`, {}, MONITOR);
    const head = await s!.box.persistence.auditHead();
    assert.equal(chain.data!.auditChain, { verified: true, headSeq: head.seq, checkedRecords: head.seq, anchor: `${head.seq}:${head.hash}`, problem: null });
  });

  test('a rewritten audit record shows as a broken chain at that record', async ({ s }) => {
    await readyPickup(s!, 'V-CON-5');
    const [third] = await s!.box.audit(3, 1);
    await s!.box.persistence.kv.set('audit:3', { ...third!, actor: 'someone-else' });
    // a new record moves the head, so the status is computed afresh
    await readyPickup(s!, 'V-CON-6', { phone: '0152 28817387' });
    const chain = await s!.gql(`{ auditChain { verified brokenAtSeq problem } }`, {}, MONITOR);
    assert.equal(chain.data!.auditChain, { verified: false, brokenAtSeq: 3, problem: 'hash mismatch' });
  });

  test('staff can cancel a pickup at the counter, recorded with their name; the monitor cannot', async ({ s }) => {
    await readyPickup(s!, 'V-CON-7');
    assert.is(codeOf(await s!.gql(`mutation { cancelPickup(reference: "V-CON-7") { status } }`, {}, MONITOR)), 'FORBIDDEN');
    const { data } = await s!.gql(`mutation { cancelPickup(reference: "V-CON-7") { status compartmentId } }`, {}, STAFF);
    assert.is(data!.cancelPickup.status, 'CANCELLED');
    const record = (await s!.box.audit(1, 10_000)).find((r) => r.action === 'pickup.cancelled');
    assert.is(record?.actor, 'anna');
  });

  test.run();
}
