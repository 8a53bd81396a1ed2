import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SimulatedClock } from '../../actors/runtime/clock.js';
import { MONDAY_10AM, readyPickup, register, testBox, type TestBox } from '../helpers.js';
import { damagePickupRow } from '../support/damaged-row.js';
import { ENGINES, MONITOR, STAFF, start, type Running } from './support.js';

// liftPickupQuarantine over GraphQL, on both servers: what it refuses and that a refusal changes
// nothing, and the alarm staff get for a quarantined pickup that has no compartment yet.
//
// The refused pickup is REGISTERED (never loaded): its stored row lost its id (a hand repair gone
// wrong), so every message to its actor crashes it, beginning with its recovery at the start. Six
// such crashes within 30 s fail that actor for good: the pickup is refused alone (PICKUP_FAILED,
// README "A poison pickup fails alone").

const LIFT = 'mutation($r: String!) { liftPickupQuarantine(reference: $r) { reference status } }';
const ALARMS = '{ alarms(openOnly: true) { id code severity subject text } }';

interface Ctx {
  dir?: string;
  server?: Running;
}

/** What a refused lift must leave as it was: quarantines, open alarms, pickups' status, the audit log's length. */
async function stateOf(t: TestBox) {
  return {
    quarantined: t.box.quarantinedPickups().map((q) => q.reference),
    alarms: t.box.alarms(true).map((a) => `${a.code} ${a.subject}`),
    statuses: ['V-REG-1', 'V-READY-1'].map((r) => `${r} ${t.box.pickup(r)?.status}`),
    audit: (await t.box.audit(1, 10_000)).length,
  };
}

for (const engine of ENGINES) {
  const test = suite<Ctx>(`liftPickupQuarantine on ${engine}`, {});
  test.after(async (ctx) => {
    await ctx.server?.close();
    if (ctx.dir) rmSync(ctx.dir, { recursive: true, force: true });
  });

  test('a REGISTERED pickup that keeps crashing its actor is refused alone; its alarm names it, no compartment, and the counter', async (ctx) => {
    ctx.dir = mkdtempSync(join(tmpdir(), 'ausgabebox-lift-'));
    const storage = `sqlite://${join(ctx.dir, 'box.sqlite')}`;
    const clock = new SimulatedClock(MONDAY_10AM);
    const before = await testBox({ storage, kiosks: ['1', '2'] }, { clock });
    await register(before.box, 'V-REG-1');
    await readyPickup(before, 'V-READY-1', { phone: '0152 28817391' });
    const id = before.box.pickup('V-REG-1')!.id;
    await before.box.close();
    await damagePickupRow(storage, id, { id: null });
    const t = await testBox({ storage, kiosks: ['1', '2'] }, { clock });
    const server = (ctx.server = await start(engine, {}, async () => t));

    const load = () => server.gql('mutation { loadPickup(reference: "V-REG-1") { status } }', {}, STAFF);
    const codes: Array<string | undefined> = [];
    for (let i = 0; i < 6; i++) {
      codes.push((await load()).errors?.[0]?.extensions?.code);
      await t.box.idle();
    }
    // (Its recovery at the start crashed it first: four loads crash it again; the fifth load is
    // its sixth crash within 30 s, one more than the restart intensity.)
    assert.equal(codes, [...Array(4).fill('ACTOR_CRASHED'), 'PICKUP_FAILED', 'PICKUP_FAILED'], 'four crashes answered as such, the fifth load fails its actor for good');
    assert.equal(t.box.quarantinedPickups().map((q) => [q.reference, q.compartmentId]), [['V-REG-1', null]], 'quarantined alone, with no compartment');
    assert.is((await load()).errors?.[0]?.extensions?.code, 'PICKUP_FAILED', 'refused with its own code now');

    const alarms = (await server.gql<{ alarms: Array<{ code: string; severity: string; subject: string; text: string }> }>(ALARMS, {}, STAFF)).data!.alarms;
    const alarm = alarms.find((a) => a.code === 'PICKUP_FAILED');
    assert.ok(alarm, JSON.stringify(alarms));
    assert.is(alarm!.subject, 'V-REG-1');
    assert.is(alarm!.severity, 'warning');
    assert.match(alarm!.text, 'Pickup V-REG-1 kept crashing its own actor');
    assert.match(alarm!.text, 'lift the quarantine (staff console: "Quarantäne aufheben" on the alarm; or liftPickupQuarantine) and deal with the pickup at the counter.');
    assert.not.match(alarm!.text, /compartment|stays locked/, 'no compartment to retrieve from or keep locked');
    const pickup = await server.gql<{ pickup: { status: string; compartmentId: string | null } }>('{ pickup(reference: "V-REG-1") { status compartmentId } }', {}, STAFF);
    assert.equal(pickup.data?.pickup, { status: 'REGISTERED', compartmentId: null });
  });

  test('an unknown reference: PICKUP_NOT_FOUND, and nothing changes', async (ctx) => {
    const server = ctx.server!;
    const was = await stateOf(server);
    const r = await server.gql(LIFT, { r: 'V-NOBODY-9' }, STAFF);
    assert.is(r.errors?.[0]?.extensions?.code, 'PICKUP_NOT_FOUND', JSON.stringify(r.errors));
    assert.is(r.data, null);
    await server.box.idle();
    assert.equal(await stateOf(server), was);
  });

  test('a pickup that is not quarantined: PICKUP_WRONG_STATE, and nothing changes', async (ctx) => {
    const server = ctx.server!;
    const was = await stateOf(server);
    assert.equal(was.statuses, ['V-REG-1 REGISTERED', 'V-READY-1 READY']);
    const r = await server.gql(LIFT, { r: 'V-READY-1' }, STAFF);
    assert.is(r.errors?.[0]?.extensions?.code, 'PICKUP_WRONG_STATE', JSON.stringify(r.errors));
    assert.is(r.data, null);
    await server.box.idle();
    assert.equal(await stateOf(server), was);
    assert.not.ok((await server.box.audit(1, 10_000)).some((e) => e.action === 'pickup.quarantineLifted'), 'no lift audited');
  });

  test('a monitor may not lift: FORBIDDEN, and nothing changes', async (ctx) => {
    const server = ctx.server!;
    const was = await stateOf(server);
    const r = await server.gql(LIFT, { r: 'V-REG-1' }, MONITOR);
    assert.is(r.errors?.[0]?.extensions?.code, 'FORBIDDEN', JSON.stringify(r.errors));
    assert.is(r.data, null);
    await server.box.idle();
    assert.equal(await stateOf(server), was);
  });

  test('staff lift the REGISTERED pickup: back in operation, its alarm cleared, audited once; a second lift is PICKUP_WRONG_STATE', async (ctx) => {
    const server = ctx.server!;
    const r = await server.gql<{ liftPickupQuarantine: { reference: string; status: string } }>(LIFT, { r: ' V-REG-1 ' }, STAFF);
    assert.equal(r.data?.liftPickupQuarantine, { reference: 'V-REG-1', status: 'REGISTERED' }, JSON.stringify(r.errors));
    await server.box.idle();
    assert.equal(server.box.quarantinedPickups(), []);
    const open = (await server.gql<{ alarms: Array<{ code: string }> }>(ALARMS, {}, STAFF)).data!.alarms;
    assert.not.ok(open.some((a) => a.code === 'PICKUP_FAILED'), 'the alarm is cleared');
    const lifts = (await server.box.audit(1, 10_000)).filter((e) => e.action === 'pickup.quarantineLifted');
    assert.equal(lifts.map((e) => [e.actor, e.subject]), [['anna', 'V-REG-1']]);
    const again = await server.gql(LIFT, { r: 'V-REG-1' }, STAFF);
    assert.is(again.errors?.[0]?.extensions?.code, 'PICKUP_WRONG_STATE');
    await server.box.idle();
    assert.is((await server.box.audit(1, 10_000)).filter((e) => e.action === 'pickup.quarantineLifted').length, 1, 'the refused second lift is not audited');
  });

  test.run();
}
