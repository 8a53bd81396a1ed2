import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SimulatedClock } from '../../actors/runtime/clock.js';
import { demoLayout } from '../../drivers/layout.js';
import { createBox, type Box, type SimulatedHardware } from '../../src/box.js';
import { createServer } from '../../src/server/index.js';
import { BIRTH, MONDAY_10AM, PHONE, lastPin } from '../helpers.js';
import { parseMetrics, type Sample } from './prometheus.js';

// /metrics and /health of a box on the register-level I2C simulation, on both GraphQL servers:
// the Prometheus text parses, its counters move with a pickup, its labels stay bounded, and
// neither document holds a phone number or a PIN.

const MONITOR = 'monitor-token-0123456789';
const STAFF = 'staff-token-0123456789ab';
const tokens = { kiosk: 'kiosk-token-0123456789ab', staff: { anna: STAFF }, integration: 'integration-token-012345', monitor: MONITOR };

async function withServer(engine: 'yoga' | 'mercurius', fn: (s: { box: Box; base: string; hw: SimulatedHardware }) => Promise<void>) {
  const clock = new SimulatedClock(MONDAY_10AM);
  const box = await createBox({ storage: 'memory:', layout: demoLayout(14), hardware: 'i2c-sim', hoursPreset: 'always' }, { clock });
  const server = createServer(box, { tokens, engine });
  const { url } = await server.listen(0, '127.0.0.1');
  try {
    await fn({ box, base: url.replace(/\/graphql$/, ''), hw: box.hardware as SimulatedHardware });
  } finally {
    await server.close();
    await box.close();
  }
}

async function scrape(base: string): Promise<{ text: string; samples: Sample[] }> {
  const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${MONITOR}` } });
  assert.is(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  return { text, samples: parseMetrics(text) };
}

/** The status of a GET, its body read to the end. */
async function statusOf(url: string, token?: string): Promise<number> {
  const res = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  await res.arrayBuffer();
  return res.status;
}

const value = (samples: Sample[], name: string, labels: Record<string, string> = {}): number =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((n, s) => n + s.value, 0);

/** A whole pickup through the I2C driver path: load, SMS, authenticate with the birth date, collect. */
async function pickup(box: Box, hw: SimulatedHardware, reference: string): Promise<string> {
  await box.registerPickup({ reference, documentKind: 'ID_CARD', phone: PHONE, birthDate: BIRTH });
  const { compartmentId } = await box.loadPickup(reference, 'anna');
  await box.advance(400);
  assert.ok(box.world!.openDoor(compartmentId));
  await box.advance(300);
  box.world!.closeDoor(compartmentId);
  await box.advance(300);
  const pin = lastPin({ box, hw, clock: box.clock as SimulatedClock }, PHONE);
  const { sessionId } = await box.startSession();
  await box.sessionInput(sessionId, { type: 'phone', phone: PHONE });
  await box.sessionInput(sessionId, { type: 'pin', pin: String((Number(pin) + 1) % 1_000_000).padStart(6, '0') });
  await box.advance(60_000); // past the back-off of one wrong PIN
  const second = await box.startSession();
  await box.sessionInput(second.sessionId, { type: 'phone', phone: PHONE });
  await box.sessionInput(second.sessionId, { type: 'pin', pin });
  await box.sessionInput(second.sessionId, { type: 'birthDate', birthDate: BIRTH });
  await box.advance(400);
  assert.ok(box.world!.openDoor(compartmentId));
  await box.advance(300);
  box.world!.closeDoor(compartmentId);
  await box.advance(300);
  assert.is(box.pickup(reference)!.status, 'COLLECTED');
  return pin;
}

for (const engine of ['yoga', 'mercurius'] as const) {
  const test = suite(`ops endpoints (${engine})`);

  test('/metrics needs the monitor token', async () => {
    await withServer(engine, async ({ base }) => {
      assert.is(await statusOf(`${base}/metrics`), 401);
      assert.is(await statusOf(`${base}/metrics`, STAFF), 401);
      assert.is(await statusOf(`${base}/metrics`, MONITOR), 200);
    });
  });

  test('the counters move with a pickup; names, units and labels follow the conventions; no phone number or PIN', async () => {
    await withServer(engine, async ({ box, base, hw }) => {
      const before = (await scrape(base)).samples;
      const pin = await pickup(box, hw, 'V-OPS-1');
      const gql = await fetch(`${base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${MONITOR}` },
        body: JSON.stringify({ query: '{ box { name } pickups { totalCount } }' }),
      });
      assert.is(gql.status, 200);
      const { text, samples: after } = await scrape(base);

      const moved = (name: string, labels: Record<string, string> = {}) => value(after, name, labels) - value(before, name, labels);
      assert.is(moved('ausgabebox_pickup_transitions_total', { status: 'COLLECTED' }), 1);
      assert.is(moved('ausgabebox_sessions_ended_total', { outcome: 'collected' }), 1);
      assert.is(moved('ausgabebox_authentication_failures_total', { kind: 'pin' }), 1);
      assert.is(moved('ausgabebox_unlock_pulses_total'), 2, 'one pulse to load, one to collect');
      assert.is(moved('ausgabebox_door_events_total', { event: 'opened' }), 2);
      assert.is(moved('ausgabebox_door_events_total', { event: 'closed' }), 2);
      assert.is(value(after, 'ausgabebox_pickups', { status: 'COLLECTED' }), 1);
      assert.ok(moved('ausgabebox_i2c_transactions_total', { bus: '1' }) > 0, 'the pulses and polls went over bus 1');
      assert.is(value(after, 'ausgabebox_i2c_transactions_total', { board: 'unknown' }), 0, 'every transfer is on a board of the layout');
      assert.ok(moved('ausgabebox_storage_commit_duration_seconds_count') > 0, 'commits were timed');
      assert.is(moved('ausgabebox_graphql_operations_total', { type: 'query', field: 'pickups' }), 1);
      assert.is(moved('ausgabebox_graphql_operations_total', { type: 'query', field: 'box' }), 1);
      assert.is(value(after, 'ausgabebox_sms_sent_total'), 1);
      assert.is(value(after, 'ausgabebox_sms_outbox_depth'), 0, 'the PIN SMS left the outbox');
      assert.is(value(after, 'ausgabebox_sms_failures_total'), 0);
      assert.is(value(after, 'ausgabebox_pickups', { status: 'READY' }), 0, 'every status is reported, zero included');
      assert.is(value(after, 'ausgabebox_alarms_open'), 0);
      assert.is(value(after, 'ausgabebox_actors_failed'), 0);
      assert.is(value(after, 'ausgabebox_pickups_quarantined'), 0);

      const types = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
      for (const [name, type] of types) {
        assert.ok(name.startsWith('ausgabebox_'), `${name} has the prefix`);
        if (type === 'counter') assert.ok(name.endsWith('_total'), `counter ${name} ends in _total`);
        assert.not.match(name, /_(ms|milliseconds|minutes|hours)(_|$)/, `${name} is in base units`);
      }
      for (const s of after) for (const v of Object.values(s.labels)) assert.ok(v.length <= 48 && !/\d{6}/.test(v), `label value ${v} is bounded`);
      const digits = PHONE.replace(/\D/g, '');
      for (const doc of [text, await (await fetch(`${base}/health`)).text()]) {
        assert.not.ok(doc.includes(digits.slice(-9)), 'no phone number');
        assert.not.ok(new RegExp(`\\b${pin}\\b`).test(doc), 'no PIN');
        assert.not.ok(doc.includes('V-OPS-1'), 'no reference');
      }
    });
  });

  test('/health answers application/health+json with a check per part; a failed board fails it', async () => {
    await withServer(engine, async ({ box, base }) => {
      const res = await fetch(`${base}/health`);
      assert.is(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^application\/health\+json/);
      const doc = (await res.json()) as { status: string; ok: boolean; checks: Record<string, Array<{ status: string }>> };
      assert.is(doc.status, 'pass');
      assert.is(doc.ok, true);
      const boards = box.config.layout!.boards.map((b) => `board-${b.id}:status`);
      assert.equal(
        Object.keys(doc.checks).sort(),
        ['actors:failed', 'clock:plausible', 'pickups:quarantined', 'i2c-bus-1:boardsAnswering', 'reader:status', 'shredder:status', 'sms-gateway:outboxDepth', 'storage:responseTime', ...boards].sort(),
      );
      assert.is(await statusOf(`${base}/health/ready`), 200);
      assert.is(await statusOf(`${base}/health/live`), 200);

      // Unplug one board: its check fails, the bus warns, /health fails with 503, readiness stays (the rest serves).
      const board = box.config.layout!.boards[0]!;
      const bus = box.i2c!.buses.get(board.bus)!;
      bus.detach(board.address);
      await box.advance(5_000);
      const failed = await fetch(`${base}/health`);
      assert.is(failed.status, 503);
      const after = (await failed.json()) as typeof doc;
      assert.is(after.status, 'fail');
      assert.is(after.checks[`board-${board.id}:status`]![0]!.status, 'fail');
      assert.is(after.checks['i2c-bus-1:boardsAnswering']![0]!.status, 'warn');
      assert.is(await statusOf(`${base}/health/ready`), 200);
      // Plugged back in before the box closes (closing waits for each board's shutdown).
      bus.attach(box.i2c!.chips.get(board.id)! as Parameters<typeof bus.attach>[0]);
      await box.advance(5_000);
    });
  });

  test.run();
}
