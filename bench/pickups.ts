/**
 * Pickup end to end: complete pickups through GraphQL (Yoga) — register, load, door open/close by
 * the harness, session with phone, PIN and birth date, door open — on simulated devices with
 * `lockPulseMs: 0`, 24/7 hours and a SimulatedClock. System time of a pickup is the sum of its
 * request round trips (nothing waits for a pulse or a person); between pickups the clock moves
 * 10 s so the session ends and no cool-down or throttle interferes. Baseline: the same flow
 * through the programmatic box API in-process, interleaved on the same box (every 10th pickup).
 */
import { SimulatedClock } from '../actors/runtime/clock.js';
import { createBox, type Box, type SimulatedHardware } from '../src/box.js';
import { demoCompartments } from '../src/config.js';
import { createServer } from '../src/server/index.js';
import { collectionInputs, storeWithLivePickups } from '../test/support/live-pickups.js';
import { GqlClient, median, nowMs, percentile, row, runChild, SIM_START, TOKENS, type BenchContext, type Collection, type Row } from './lib.js';

const PHONE = '+4915228817386';
const BIRTH = '1980-04-12';
/** registered, so the panel offers the factor choice; the citizen picks the birth date */
const OLD_ID = 'L01X00T47';

async function benchBox(): Promise<{ box: Box; hw: SimulatedHardware }> {
  const box = await createBox(
    { storage: 'memory:', compartments: demoCompartments(48), hardware: 'simulated', lockPulseMs: 0, hoursPreset: 'always' },
    { clock: new SimulatedClock(SIM_START) },
  );
  return { box, hw: box.hardware as SimulatedHardware };
}

function lastPin(hw: SimulatedHardware): string {
  for (let i = hw.sms.sent.length - 1; i >= 0; i--) {
    const pin = /PIN: (\d{6})/.exec(hw.sms.sent[i]!.text)?.[1];
    if (pin) return pin;
  }
  throw new Error('no PIN was sent');
}

interface PickupTimes {
  /** the two stretches timed (performance.now()): register to loaded, the panel's session to the open door */
  windows?: Array<[number, number]>;
  total: number;
  /** startSession → door open: what the citizen at the panel waits for */
  panel: number;
  compartmentId: string;
}

const Q = {
  register: `mutation($input: RegisterPickupInput!) { registerPickup(input: $input) { reference status } }`,
  load: `mutation($r: String!) { loadPickup(reference: $r) { status compartmentId } }`,
  door: `mutation($id: ID!, $open: Boolean!) { simulateDoor(compartmentId: $id, open: $open) { id door state } }`,
  start: `mutation { startSession { id step } }`,
  phone: `mutation($id: ID!, $phone: String!) { enterPhone(sessionId: $id, phone: $phone) { step } }`,
  pin: `mutation($id: ID!, $pin: String!) { enterPin(sessionId: $id, pin: $pin) { step } }`,
  factor: `mutation($id: ID!) { chooseFactor(sessionId: $id, factor: BIRTH_DATE) { step } }`,
  birth: `mutation($id: ID!, $b: String!) { enterBirthDate(sessionId: $id, birthDate: $b) { step compartmentId } }`,
  status: `query($r: String!) { pickup(reference: $r) { status } }`,
};

async function graphqlPickup(c: GqlClient, hw: SimulatedHardware, reference: string): Promise<PickupTimes> {
  const t0 = nowMs();
  await c.must(Q.register, { input: { reference, documentKind: 'ID_CARD', phone: '0152 28817386', birthDate: BIRTH, oldDocumentNumber: OLD_ID } }, TOKENS.integration);
  const loaded = await c.must<{ loadPickup: { compartmentId: string } }>(Q.load, { r: reference }, TOKENS.staff.anna);
  const id = loaded.loadPickup.compartmentId;
  await c.must(Q.door, { id, open: true }, TOKENS.harness);
  await c.must(Q.door, { id, open: false }, TOKENS.harness);
  const t1 = nowMs();
  const pin = lastPin(hw); // the citizen reads the SMS: not system time
  const t2 = nowMs();
  const s = await c.must<{ startSession: { id: string } }>(Q.start, undefined, TOKENS.kiosk);
  const sid = s.startSession.id;
  await c.must(Q.phone, { id: sid, phone: '0152 28817386' }, TOKENS.kiosk);
  const p = await c.must<{ enterPin: { step: string } }>(Q.pin, { id: sid, pin }, TOKENS.kiosk);
  if (p.enterPin.step !== 'factor') throw new Error(`PIN not accepted: step ${p.enterPin.step}`);
  await c.must(Q.factor, { id: sid }, TOKENS.kiosk);
  const b = await c.must<{ enterBirthDate: { step: string; compartmentId: string } }>(Q.birth, { id: sid, b: '12.04.1980' }, TOKENS.kiosk);
  if (b.enterBirthDate.step !== 'opening' || b.enterBirthDate.compartmentId !== id) throw new Error(`not opening: ${JSON.stringify(b)}`);
  await c.must(Q.door, { id, open: true }, TOKENS.harness);
  const t3 = nowMs();
  return { total: t1 - t0 + (t3 - t2), panel: t3 - t2, compartmentId: id };
}

async function apiPickup(box: Box, hw: SimulatedHardware, reference: string): Promise<PickupTimes> {
  const world = box.world!;
  const t0 = nowMs();
  await box.registerPickup({ reference, documentKind: 'ID_CARD', phone: '0152 28817386', birthDate: BIRTH, oldDocumentNumber: OLD_ID }, 'integration');
  await box.idle();
  const { compartmentId: id } = await box.loadPickup(reference, 'anna');
  await box.idle();
  if (!world.openDoor(id)) throw new Error(`door ${id} did not open for loading`);
  await box.idle();
  world.closeDoor(id);
  await box.idle();
  const t1 = nowMs();
  const pin = lastPin(hw);
  const t2 = nowMs();
  const { sessionId } = await box.startSession();
  await box.idle();
  for (const input of collectionInputs('0152 28817386', pin)) {
    await box.sessionInput(sessionId, input);
    await box.idle();
  }
  if (box.session(sessionId)?.step !== 'opening') throw new Error(`session not opening: ${box.session(sessionId)?.step}`);
  if (!world.openDoor(id)) throw new Error(`door ${id} did not open for the citizen`);
  await box.idle();
  const t3 = nowMs();
  return { total: t1 - t0 + (t3 - t2), panel: t3 - t2, compartmentId: id, windows: [[t0, t1], [t2, t3]] };
}

/** The citizen closes the door and walks away; time moves on. Not system time of the pickup. */
async function between(box: Box, reference: string, compartmentId: string): Promise<void> {
  const p = box.pickup(reference);
  if (p?.status !== 'COLLECTED') throw new Error(`${reference} is ${p?.status}, not COLLECTED`);
  box.world!.closeDoor(compartmentId);
  await box.idle();
  await box.advance(10_000);
}

/**
 * `count` complete pickups through the box API alone (no GraphQL), one after the other on one box:
 * ended pickups stay in the registry for the audit period, so the last pickups run with `count`
 * pickups in the table. Returns the system time of each.
 */
export async function apiOnly(count: number, windows?: Array<Array<[number, number]>>): Promise<number[]> {
  const { box, hw } = await benchBox();
  const times: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const reference = `V-ONLY-${i}`;
      const t = await apiPickup(box, hw, reference);
      times.push(t.total);
      windows?.push(t.windows!);
      await between(box, reference, t.compartmentId);
    }
  } finally {
    await box.close();
  }
  return times;
}

/** What still grows with the pickups served (profiled over 10,000 pickups with --cpu-prof). */
const STORE_GROWTH =
  "what still grows: with memory: storage the store lives on the heap (~21 kB per pickup served), so collections cost more; a commit that adds or removes a row rewrites one of its table's 256 row-id lists (src/persistence), O(rows / 256); registry handlers do not copy or scan the pickup table";

/** Wrong PINs each of the 20 numbers of a wrong-PIN box takes: one warm-up round, then the measured rounds. */
const WRONG_ROUNDS = 3;

/**
 * A box restarted with `live` pickups in its registry (written to its store beforehand, as a box
 * that ran for weeks would find them) plus 20 READY ones loaded now, each on a number of its own.
 * `attempt(i)` types one wrong PIN for the i-th of them and one PIN for a number the box does not
 * know, each timed from the panel's `pin` input to its answer.
 */
async function wrongPinBox(live: number) {
  const compartments = demoCompartments(48);
  const persistence = await storeWithLivePickups(live, SIM_START, BIRTH);
  const box = await createBox(
    // throttles off: every attempt is a checked wrong PIN, none is answered "wait" without a check
    { storage: 'memory:', compartments, hardware: 'simulated', lockPulseMs: 0, hoursPreset: 'always', throttle: { free: 1_000_000 } },
    { clock: new SimulatedClock(SIM_START), persistence },
  );
  if (box.pickups().length !== live) throw new Error(`restored ${box.pickups().length} pickups, expected ${live}`);
  const numbers: string[] = [];
  for (let i = 0; i < 20; i++) {
    const phone = `+49153${String(10_000_000 + i)}`;
    const reference = `V-WRONG-${i}`;
    await box.registerPickup({ reference, documentKind: 'ID_CARD', phone, birthDate: BIRTH, oldDocumentNumber: null });
    const { compartmentId } = await box.loadPickup(reference, 'anna');
    await box.idle();
    box.world!.openDoor(compartmentId);
    await box.idle();
    box.world!.closeDoor(compartmentId);
    await box.idle();
    numbers.push(phone);
  }
  const wrong = String((Number(lastPin(box.hardware as SimulatedHardware)) + 1) % 1_000_000).padStart(6, '0');
  let strangers = 0;
  const timedPin = async (phone: string, pin: string): Promise<number> => {
    const { sessionId } = await box.startSession();
    await box.sessionInput(sessionId, { type: 'phone', phone });
    const t0 = nowMs();
    const answer = await box.sessionInput(sessionId, { type: 'pin', pin });
    const ms = nowMs() - t0;
    if (answer.error !== 'AUTH_FAILED') throw new Error(`a wrong PIN was answered ${answer.step}/${answer.error}`);
    await box.sessionInput(sessionId, { type: 'cancel' });
    await box.idle();
    return ms;
  };
  return {
    live,
    attempt: async (i: number) => ({
      known: await timedPin(numbers[i]!, wrong),
      // A number the box does not know (a caller spraying numbers).
      unknown: await timedPin(`+49155${String(10_000_000 + ++strangers)}`, '123456'),
    }),
    /** Checks every wrong PIN was counted on its pickup, then closes the box. */
    close: async (rounds: number) => {
      const counted = box.pickups().filter((p) => p.reference.startsWith('V-WRONG-') && p.failedAttempts === rounds).length;
      await box.close();
      if (counted !== 20) throw new Error(`only ${counted} of 20 pickups counted ${rounds} wrong PINs`);
    },
  };
}

/**
 * One wrong PIN at each number of live pickups, measured side by side: every size's box is built
 * first, then one round of 20 wrong PINs per box warms the code up (not counted), then the measured
 * rounds interleave the boxes attempt by attempt, starting with a different box each time, so the
 * sizes share JIT state and collections alike (measured one size after the other, the first size
 * measured came out slowest: warm-up, not size).
 */
export async function wrongPins(sizes: number[]): Promise<Array<{ live: number; known: number[]; unknown: number[] }>> {
  const boxes = [];
  for (const live of sizes) boxes.push(await wrongPinBox(live));
  const out = boxes.map((b) => ({ live: b.live, known: [] as number[], unknown: [] as number[] }));
  let turn = 0;
  for (let round = 0; round < 1 + WRONG_ROUNDS; round++) {
    for (let i = 0; i < 20; i++) {
      for (let k = 0; k < boxes.length; k++) {
        const b = (turn + k) % boxes.length;
        const t = await boxes[b]!.attempt(i);
        if (round > 0) out[b]!.known.push(t.known), out[b]!.unknown.push(t.unknown);
      }
      turn++;
    }
  }
  for (const b of boxes) await b.close(1 + WRONG_ROUNDS);
  return out;
}

export async function run({ quick, log }: BenchContext): Promise<Row[]> {
  const rows: Row[] = [];
  // Via the box API alone: p99 and whether it stays flat as the registry fills. The target is set
  // at 10,000 pickups (BENCH_API_PICKUPS=10000, a few minutes); the default is 2,000 to keep
  // `npm run bench` short.
  const only = Number(process.env.BENCH_API_PICKUPS) || (quick ? 500 : 2_000);
  // In a process of its own, after a JIT warm-up on a box of its own (thrown away): the measured
  // box starts empty, with the code already compiled, as a box that has served its first citizens is.
  const WARM_UP = quick ? 100 : 300;
  const apiSeries = await runChild<{ times: number[]; windows: Array<Array<[number, number]>>; collections: Collection[] }>('pickups-child.ts', ['api', WARM_UP, only]);
  const onlyTimes = apiSeries.times;
  // The collections that began within a pickup's timed stretches (not between pickups, which are not timed).
  const inside = (c: Collection, w: Array<[number, number]>) => w.some(([a, b]) => c.start >= a && c.start < b);
  const met = apiSeries.windows.map((w) => apiSeries.collections.filter((c) => inside(c, w)));
  const timedScavenges = met.flatMap((cs) => cs.filter((c) => c.scavenge).map((c) => c.ms));
  const untouched = onlyTimes.filter((_, i) => met[i]!.length === 0);
  const touched = onlyTimes.length - untouched.length;
  if (onlyTimes.length !== only) throw new Error(`expected ${only} pickups, got ${onlyTimes.length}`);
  const tenthOnly = Math.ceil(only / 10);
  const secondOnly = median(onlyTimes.slice(tenthOnly, 2 * tenthOnly));
  const lastOnly = median(onlyTimes.slice(-tenthOnly));
  log(`${only} pickups via the box API: p50 ${median(onlyTimes).toFixed(2)} ms, p99 ${percentile(onlyTimes, 99).toFixed(2)} ms; second tenth p50 ${secondOnly.toFixed(2)} ms, last tenth p50 ${lastOnly.toFixed(2)} ms`);
  const allScavenges = apiSeries.collections.filter((c) => c.scavenge).length;
  log(`  collections: ${allScavenges} scavenges in the run (with the untimed steps between pickups), ${timedScavenges.length} within the timed stretches (pause p50 ${timedScavenges.length ? median(timedScavenges).toFixed(2) : '-'} ms); ${touched} pickups met a collection; p99 of the ${untouched.length} that met none ${untouched.length ? percentile(untouched, 99).toFixed(2) : '-'} ms`);
  const BA = `pickup end to end via the box API, ${only.toLocaleString('en-US')} pickups`;
  rows.push(
    row(BA, 'system time per pickup, p99', percentile(onlyTimes, 99), 'ms', 'target', 5, `target < 5 ms (ratio < 1); in a process of its own, after ${WARM_UP} pickups of JIT warm-up on another box; simulated devices, 0 ms pulse, memory storage, idle() after each step`),
    row(BA, 'last 10 % of pickups, p50', lastOnly, 'ms', 'second 10 % of pickups, p50', secondOnly, `target ≤ 1.1×: the last tenth runs with ${only.toLocaleString('en-US')} pickups in the registry${lastOnly / secondOnly > 1.1 ? `; ${STORE_GROWTH}` : ''}`),
    ...(timedScavenges.length > 0 && untouched.length > 0
      ? [
          row(BA, 'scavenge pause within a timed pickup, p50', median(timedScavenges), 'ms', 'pickup, p50', median(onlyTimes), `${timedScavenges.length} scavenges began within the pickups' timed stretches (${allScavenges} in the whole run, with the untimed steps between pickups); ${touched} of the ${only.toLocaleString('en-US')} pickups (${((100 * touched) / only).toFixed(1)} %) met a collection and carry its pause`),
          row(BA, 'system time per pickup, p99, the pickups that met no collection', percentile(untouched, 99), 'ms', 'target', 5, `the ${untouched.length.toLocaleString('en-US')} pickups during which no garbage collection began: what the p99 is without the collector's pauses`),
        ]
      : []),
  );

  // One wrong PIN at 1k / 10k / 50k live pickups.
  const sizes = quick ? [1_000, 5_000] : [1_000, 10_000, 50_000];
  // In a process of its own, the sizes side by side (see wrongPins).
  const wrong = new Map<number, { known: number; unknown: number }>();
  const series = await runChild<{ sizes: Array<{ live: number; known: number[]; unknown: number[] }> }>('pickups-child.ts', ['wrong', ...sizes]);
  for (const n of sizes) {
    const t = series.sizes.find((x) => x.live === n)!;
    wrong.set(n, { known: median(t.known), unknown: median(t.unknown) });
    log(`wrong PIN at ${n} live pickups: number with a pickup p50 ${median(t.known).toFixed(2)} ms (max ${Math.max(...t.known).toFixed(2)}), unknown number p50 ${median(t.unknown).toFixed(2)} ms (max ${Math.max(...t.unknown).toFixed(2)})`);
  }
  const first = sizes[0]!;
  for (const n of sizes.slice(1)) {
    const at = `${n.toLocaleString('en-US')} live pickups`;
    const base = `${first.toLocaleString('en-US')} live pickups`;
    rows.push(
      row('one wrong PIN, unknown number, p50', at, wrong.get(n)!.unknown, 'ms', base, wrong.get(first)!.unknown, 'target within 1.2×: the auth actor reads the credentials of the number typed (an index), the registry is never asked; in a process of its own, the sizes interleaved attempt by attempt after a warm-up round'),
      row('one wrong PIN, number with a pickup, p50', at, wrong.get(n)!.known, 'ms', base, wrong.get(first)!.known, 'target within 1.2×: the auth actor answers, then the registry counts the failure on one row of the pickup table (a persistent map, actors/runtime/table.ts: no copy), which the commit finds along the paths the new version does not share'),
    );
  }

  const count = quick ? 100 : 1_000;

  // One box for both: the baseline (the same flow through the programmatic API) is interleaved,
  // one API pickup after every 10th GraphQL pickup, so both see the same history.
  const g = await benchBox();
  const server = createServer(g.box, { tokens: TOKENS, harness: true, engine: 'yoga', logError: () => {} });
  const { url } = await server.listen(0, '127.0.0.1');
  const client = new GqlClient(url);
  const gqlTimes: PickupTimes[] = [];
  const apiTimes: PickupTimes[] = [];
  const t0 = nowMs();
  try {
    for (let i = 0; i < count; i++) {
      const reference = `V-GQL-${i}`;
      const t = await graphqlPickup(client, g.hw, reference);
      gqlTimes.push(t);
      await between(g.box, reference, t.compartmentId);
      if (i % 10 === 9) {
        const ref = `V-API-${i}`;
        const a = await apiPickup(g.box, g.hw, ref);
        apiTimes.push(a);
        await between(g.box, ref, a.compartmentId);
      }
    }
  } finally {
    client.close();
    await server.close();
    await g.box.close();
  }
  const wall = (nowMs() - t0) / 1000;
  const pick = (ts: PickupTimes[], k: 'total' | 'panel') => ts.map((t) => t[k]);
  const gTotal = pick(gqlTimes, 'total');
  const aTotal = pick(apiTimes, 'total');
  log(`${count} pickups through GraphQL (+ ${apiTimes.length} via the API) in ${wall.toFixed(1)} s wall; system time p50 ${median(gTotal).toFixed(2)} ms, p99 ${percentile(gTotal, 99).toFixed(2)} ms; API p50 ${median(aTotal).toFixed(2)} ms`);
  // The first tenth carries JIT warm-up; the second tenth is the fair early reference.
  const tenth = Math.ceil(count / 10);
  const earlyTenth = median(gTotal.slice(tenth, 2 * tenth));
  const lastTenth = median(gTotal.slice(-tenth));
  log(`GraphQL system time: second tenth p50 ${earlyTenth.toFixed(2)} ms, last tenth p50 ${lastTenth.toFixed(2)} ms`);
  const growth = lastTenth / earlyTenth;
  const growthNote =
    growth > 1.25
      ? `grows with the pickups served: ${STORE_GROWTH}`
      : `flat over ${count} pickups: registry handlers change single rows of their tables and look pickups up by index`;

  const B = `pickup end to end, ${count} pickups (GraphQL, Yoga)`;
  const API = `same flow via box API in-process (${apiTimes.length} interleaved)`;
  const requestNote = '10 HTTP round trips per pickup (register, load, 2 harness doors; 5 panel steps, 1 harness door); each mutation waits for its own answer, the harness door mutations for the simulated world to settle';
  return [
    ...rows,
    row(B, 'system time per pickup, p50', median(gTotal), 'ms', API, median(aTotal), requestNote),
    row(B, 'system time per pickup, p99', percentile(gTotal, 99), 'ms', API, percentile(aTotal, 99), 'excludes lock pulse (0 ms), SMS reading and any person; simulated clock'),
    row(B, 'panel: startSession → door open, p50', median(pick(gqlTimes, 'panel')), 'ms', API, median(pick(apiTimes, 'panel')), 'what a citizen waits for in total across the 6 panel steps'),
    row(B, 'system time, last 10 % of pickups, p50', lastTenth, 'ms', 'second 10 % of pickups, p50', earlyTenth, growthNote),
  ];
}
