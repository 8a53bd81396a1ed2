import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SimulatedClock } from '../../actors/runtime/clock.js';
import type { CardData, ShredderPort } from '../../drivers/ports.js';
import { SimulatedShredder } from '../../drivers/sim/devices.js';
import { settle, shredderRig } from './shredder-rig.js';

/**
 * One contract for every ShredderPort: the device-level simulation and the expander-pin driver on
 * the register-level simulated MCP23017 and PCF8574 with the shredder mechanism behind the pins.
 */
interface ShredderRigView {
  port: ShredderPort;
  /** the reader moved a card in */
  feed(card: CardData): void;
  /** the next card stalls the cutters */
  jamNext(): void;
  /** staff's hands: jam cleared, bin emptied */
  clearByHand(): void;
  destroyed(): CardData[];
  /** runs a shred to its end, however long the device takes */
  run<T>(work: Promise<T>): Promise<T>;
}

const CAPACITY = 3;

async function deviceLevel(): Promise<ShredderRigView> {
  const s = new SimulatedShredder(CAPACITY);
  return {
    port: s,
    feed: (card) => s.feed.push(card),
    jamNext: () => (s.jamNext = true),
    clearByHand: () => s.emptyBin(),
    destroyed: () => s.shredded,
    run: (work) => work,
  };
}

function onPins(kind: 'mcp23017' | 'pcf8574') {
  return async (): Promise<ShredderRigView> => {
    const r = await shredderRig(kind, {}, { binCapacity: CAPACITY });
    const clock: SimulatedClock = r.clock;
    return {
      port: r.shredder,
      feed: (card) => r.mechanism.feed.push(card),
      jamNext: () => (r.mechanism.jamNext = true),
      clearByHand: () => {
        r.mechanism.clearJam();
        r.mechanism.emptyBin();
      },
      destroyed: () => r.mechanism.shredded,
      run: async (work) => {
        await clock.advance(5_000, settle);
        return work;
      },
    };
  };
}

const card = (n: number): CardData => ({ mrz: [`CARD${n}`] });

for (const [name, make] of [
  ['device-level simulation', deviceLevel],
  ['expander pins on MCP23017', onPins('mcp23017')],
  ['expander pins on PCF8574', onPins('pcf8574')],
] as const) {
  const contract = suite(`shredder contract: ${name}`);

  contract('a card fed in is destroyed and takes one place in the bin', async () => {
    const r = await make();
    r.feed(card(1));
    assert.is(r.port.binCapacity(), CAPACITY);
    assert.equal(await r.run(r.port.shred()), { ok: true });
    assert.equal(r.destroyed(), [card(1)]);
    assert.is(r.port.binFree(), CAPACITY - 1);
  });

  contract('a jam is reported as SHREDDER_JAM and the card is not destroyed', async () => {
    const r = await make();
    r.jamNext();
    r.feed(card(1));
    assert.equal(await r.run(r.port.shred()), { ok: false, code: 'SHREDDER_JAM' });
    assert.equal(r.destroyed(), []);
  });

  contract('a full bin refuses with SHREDDER_BIN_FULL; emptied (staff\'s word to the driver too), it takes cards again', async () => {
    const r = await make();
    for (let i = 1; i <= CAPACITY; i++) {
      r.feed(card(i));
      assert.equal(await r.run(r.port.shred()), { ok: true });
    }
    assert.is(r.port.binFree(), 0);
    r.feed(card(9));
    assert.equal(await r.run(r.port.shred()), { ok: false, code: 'SHREDDER_BIN_FULL' });
    r.clearByHand();
    r.port.emptyBin();
    assert.is(r.port.binFree(), CAPACITY);
    assert.equal(await r.run(r.port.shred()), { ok: true });
    assert.equal(r.destroyed().at(-1), card(9));
  });

  contract.run();
}
